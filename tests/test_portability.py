"""`grader check` works where there are no POSIX process controls (Windows), at the `process` level.

Windows is simulated here, on Linux, by a `sitecustomize` on PYTHONPATH, so
it applies to the grader and to every test process it spawns (not to the
worker, whose environment is scrubbed): the POSIX-only modules cannot be
imported; os.fork, setsid, killpg, pidfd_open, getuid, O_NOFOLLOW, O_DIRECTORY,
O_NONBLOCK and signal.SIGXCPU/SIGXFSZ/SIGALRM are gone; subprocess refuses
preexec_fn, pass_fds and start_new_session (Windows refuses the first two and
ignores the third, so nothing may rely on it); multiprocessing has only
"spawn"; asyncio cannot serve or reach a Unix socket. What it cannot remove
(select on pipes, os.set_blocking) the code avoids at that level by design,
and no real Windows machine ran these tests.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from grader import catalog, worker_channel
from tests.conftest import ROOT, reference_submission

POSIX_ONLY = ("fcntl", "resource", "termios", "pwd", "grp", "pyseccomp", "seccomp")
GONE_FROM_OS = ("fork", "forkpty", "setsid", "killpg", "pidfd_open", "getuid", "geteuid",
                "getgid", "O_NOFOLLOW", "O_DIRECTORY", "O_NONBLOCK")
GONE_FROM_SIGNAL = ("SIGXCPU", "SIGXFSZ", "SIGALRM")  # SIGKILL stays: psutil's Linux backend
WINDOWS = textwrap.dedent(f"""\
    '''Windows, as far as the grader can tell (tests/test_portability.py).'''
    import sys
    import psutil  # its Linux backend needs `resource`; on Windows it has a backend of its own
    for name in {POSIX_ONLY!r}:
        sys.modules[name] = None  # `import name` now raises ImportError
    import os
    for name in {GONE_FROM_OS!r}:
        if hasattr(os, name):
            delattr(os, name)
    import signal
    for name in {GONE_FROM_SIGNAL!r}:
        delattr(signal, name)
    import subprocess
    _init = subprocess.Popen.__init__
    def _windows_popen(self, *args, preexec_fn=None, pass_fds=(), start_new_session=False,
                       **kwargs):
        if preexec_fn is not None or pass_fds or start_new_session:
            raise ValueError("not on Windows: preexec_fn, pass_fds, start_new_session")
        _init(self, *args, **kwargs)
    subprocess.Popen.__init__ = _windows_popen
    import multiprocessing, multiprocessing.context
    multiprocessing.set_start_method("spawn", force=True)
    for method in ("fork", "forkserver"):
        multiprocessing.context._concrete_contexts.pop(method, None)
    import asyncio.base_events, asyncio.unix_events
    for name in ("create_unix_server", "create_unix_connection"):
        setattr(asyncio.unix_events._UnixSelectorEventLoop, name,
                getattr(asyncio.base_events.BaseEventLoop, name))  # NotImplementedError
    """)
WEAKER = "Weaker isolation on this system (`process`)"


@pytest.fixture(scope="module")
def windows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a simulated Windows: our sitecustomize first on the path."""
    folder = tmp_path_factory.mktemp("windows")
    (folder / "sitecustomize.py").write_text(WINDOWS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    return {**env, "PYTHONPATH": str(folder)}


def grader_on(env: dict[str, str], *args: str, cwd: Path = ROOT,
               timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", "--lang", "en", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


def test_the_simulation_really_removes_what_windows_lacks(windows: dict[str, str]) -> None:
    code = textwrap.dedent("""
        import asyncio, multiprocessing, os, subprocess, sys
        try:
            import fcntl
        except ImportError:
            print("no fcntl")
        import signal
        print(hasattr(os, "fork"), hasattr(os, "killpg"), hasattr(os, "O_NOFOLLOW"),
              hasattr(signal, "SIGXCPU") or hasattr(signal, "SIGALRM"))
        for kwargs in ({"preexec_fn": print}, {"pass_fds": (0,)}, {"start_new_session": True}):
            try:
                subprocess.Popen(["true"], **kwargs)
            except ValueError:
                print("refused")
        try:
            multiprocessing.get_context("forkserver")
        except ValueError:
            print("no forkserver")
        async def serve():
            await asyncio.get_running_loop().create_unix_server(asyncio.Protocol, "x.sock")
        try:
            asyncio.run(serve())
        except NotImplementedError:
            print("no unix sockets")
        from grader import sandbox
        print(sandbox.level())
    """)
    run = subprocess.run([sys.executable, "-c", code], env=windows, capture_output=True,
                         text=True, timeout=60, cwd=ROOT)
    assert run.stdout.split("\n") == [
        "no fcntl", "False False False False", "refused", "refused", "refused", "no forkserver",
        "no unix sockets", "process", ""], run.stderr


@pytest.mark.parametrize("args", [("--help",), ("list",), ("check", "--help")])
def test_help_and_list_work_on_windows(windows: dict[str, str], args: tuple[str, ...]) -> None:
    run = grader_on(windows, *args)
    assert run.returncode == 0, run.stderr
    if args == ("list",):
        assert [line.split()[0] for line in run.stdout.splitlines()[:-1]] == [
            a.slug for a in catalog.assignments()]


def test_handout_works_on_windows(windows: dict[str, str], tmp_path: Path) -> None:
    run = grader_on(windows, "handout", str(tmp_path / "kit"))
    assert run.returncode == 0, run.stderr
    assert all((tmp_path / "kit" / a.slug / a.file).is_file() for a in catalog.assignments())


@pytest.mark.parametrize("args", [("grade",), ("grade", "--require-isolation", "rlimits"),
                                  ("check", "--require-isolation", "rlimits")])
def test_grading_others_code_or_asking_more_is_refused_at_the_process_level(
        windows: dict[str, str], tmp_path: Path, args: tuple[str, ...]) -> None:
    folder = tmp_path / "ivanov"
    folder.mkdir()
    (folder / "req.py").write_text("x = 1\n", encoding="utf-8")
    run = grader_on(windows, *args, str(folder), "--out", str(tmp_path / "out"))
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert ("--require-isolation process" in run.stderr if args == ("grade",)
            else "below the required `rlimits`" in run.stderr), run.stderr
    assert not (tmp_path / "out" / "results.json").exists()


def _results(out: Path) -> dict[str, Any]:
    [submission] = json.loads((out / "results.json").read_text(encoding="utf-8"))["submissions"]
    assert isinstance(submission, dict)
    return submission


@pytest.mark.slow
def test_check_grades_the_reference_solution_in_full_on_windows(
        windows: dict[str, str], tmp_path: Path) -> None:
    folder = reference_submission(tmp_path / "student")
    run = grader_on(windows, "check", str(folder), "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert run.stdout.count(WEAKER) == 1, run.stdout
    assert "Your code ran without a sandbox, as a process of its own" in run.stdout
    assert f"{catalog.max_total()}/{catalog.max_total()}" in run.stdout, run.stdout
    result = _results(tmp_path / "out")
    assert (result["score"], result["isolation"], result["syscall_filter"]) == (
        catalog.max_total(), "process", "none")


@pytest.mark.slow
def test_check_on_windows_takes_points_from_a_flawed_solution_and_stops_an_infinite_loop(
        windows: dict[str, str], tmp_path: Path) -> None:
    """Sequential long_func (loses the concurrency points), req looping at import (killed)."""
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copy(ROOT / "tests/flawed/long_func/sequential_for_loop/long_func.py", folder)
    (folder / "req.py").write_text("spins = 0\nwhile True:\n    spins += 1\n", encoding="utf-8")
    run = grader_on(windows, "check", str(folder), "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert WEAKER in run.stdout
    scores = _results(tmp_path / "out")["assignments"]
    assert 0 < scores["long_func"]["score"] <= 10, scores["long_func"]
    assert scores["req"]["score"] == 0 and scores["req"]["status"] == "error"
    assert "never finished within" in run.stdout and "runs forever" in run.stdout, run.stdout
    assert "the grader failed" not in run.stdout
    assert _left_running("spins += 1") == []


def _left_running(marker: str, seconds: float = 5.0) -> list[int]:
    """Processes whose command line holds `marker`, once `seconds` have passed without them."""
    deadline = time.monotonic() + seconds
    while True:
        found = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                 and marker.encode() in _cmdline(p)]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


def test_the_loopback_channel_takes_only_the_worker_that_knows_the_token() -> None:
    channel = worker_channel.LoopbackChannel()
    fields = channel.launch_fields()
    address = ("127.0.0.1", fields["port"])
    impostor = socket.create_connection(address)
    impostor.sendall(b"0" * 32 + b"\n")
    worker = socket.create_connection(address)
    worker.sendall(fields["token"].encode() + b"\nhello\n")
    got = channel.connected(time.monotonic() + 10, lambda: False)
    try:
        assert got.recv(6) == b"hello\n"
        impostor.settimeout(5)
        assert impostor.recv(1) == b""  # closed: it never became the channel
    finally:
        for sock in (got, impostor, worker):
            sock.close()
    with pytest.raises(OSError):
        socket.create_connection(address, timeout=2)  # the listener is gone once connected


def test_the_loopback_channel_gives_up_when_the_worker_is_gone() -> None:
    channel = worker_channel.LoopbackChannel()
    gone = threading.Event()
    threading.Timer(0.3, gone.set).start()
    with pytest.raises(ConnectionError):
        channel.connected(time.monotonic() + 30, gone.is_set)


# --------------------------------------------------------------------------- macOS

MACOS = textwrap.dedent("""\
    '''macOS, as far as the grader can tell (tests/test_portability.py).'''
    import sys
    for name in ("pyseccomp", "seccomp"):
        sys.modules[name] = None  # no libseccomp on macOS
    import os
    if hasattr(os, "pidfd_open"):
        del os.pidfd_open
    import ctypes
    _symbol = ctypes.CDLL.__getattr__
    def _darwin_libc(self, name):
        if name in ("prctl", "unshare", "keyctl", "pidfd_open"):
            raise AttributeError(name)  # dlsym finds no such function in macOS's libc
        return _symbol(self, name)
    ctypes.CDLL.__getattr__ = _darwin_libc
    from grader import posix
    posix.LINUX = False  # what sys.platform == "darwin" makes it
    """)


@pytest.fixture(scope="module")
def macos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A simulated macOS: POSIX, but none of Linux's calls (setting sys.platform itself
    sends the standard library down macOS-only paths that need macOS's own modules)."""
    folder = tmp_path_factory.mktemp("macos")
    (folder / "sitecustomize.py").write_text(MACOS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    return {**env, "PYTHONPATH": str(folder)}


def test_macos_gets_rlimits_without_linux_guards_and_still_kills_the_tree(
        macos: dict[str, str], tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import subprocess, sys
        from pathlib import Path
        from grader import sandbox
        print(sandbox.isolation())
        script = "import subprocess, time; subprocess.Popen(['sleep', '97.25']); time.sleep(60)"
        outcome = sandbox.run([sys.executable, "-c", script], workdir=Path({str(tmp_path)!r}),
                              limits=sandbox.Limits(wall_seconds=1),
                              env={{"PATH": "/usr/bin:/bin"}})
        print(outcome.timed_out)
    """)
    run = subprocess.run([sys.executable, "-c", code], env=macos, capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    described, timed_out = run.stdout.splitlines()
    assert described.startswith("rlimits: rlimits and a process group only; no fork guard"), \
        run.stderr
    assert "no keyring of its own" in described and "no syscall filter" in described
    assert timed_out == "True"
    assert _left_running("97.25") == []


@pytest.mark.slow
def test_check_grades_the_reference_solution_in_full_on_macos(
        macos: dict[str, str], tmp_path: Path) -> None:
    folder = reference_submission(tmp_path / "student")
    run = grader_on(macos, "check", str(folder), "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("Weaker isolation on this system (`rlimits`)") == 1, run.stdout
    result = _results(tmp_path / "out")
    assert (result["score"], result["isolation"], result["syscall_filter"]) == (
        catalog.max_total(), "rlimits", "none")
