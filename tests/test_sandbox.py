"""Running untrusted commands (grader.sandbox): limits, kills, network, filesystem."""

from __future__ import annotations

import ctypes
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from grader import sandbox
from grader.sandbox import Limits, Outcome

ROOT = Path(__file__).resolve().parent.parent
HAS_BWRAP = shutil.which("bwrap") is not None
FORCED = os.environ.get("GRADER_SANDBOX", "bwrap") != "bwrap"
needs_bwrap = pytest.mark.skipif(
    not HAS_BWRAP or FORCED,
    reason="bubblewrap is not installed (CI installs it: apt-get install -y bubblewrap) "
    "or GRADER_SANDBOX forces another level",
)


def isolated() -> bool:
    return sandbox.level() in ("bwrap", "unshare")


def fork_guarded() -> bool:
    return "fork guard:" in sandbox.isolation()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def py(code: str, workdir: Path, setup: sandbox.detect.Setup | None = None,
       **limits: Any) -> Outcome:
    """Run Python code in the sandbox (the machine's setup unless one is given)."""
    argv = [sys.executable, "-I", "-c", textwrap.dedent(code)]
    chosen = Limits(wall_seconds=limits.pop("wall_seconds", 10), **limits)
    env = {"PATH": "/usr/bin:/bin"}
    if setup is None:
        return sandbox.run(argv, workdir=workdir, limits=chosen, env=env)
    return sandbox.spawn.run_with(setup, argv, workdir, sandbox.Policy(chosen), env)


def processes_with(marker: str) -> list[int]:
    """Live (non-zombie) processes whose command line holds `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry))
    return found


def wait_gone(marker: str, seconds: float = 3.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def unique_sleep() -> str:
    """A `sleep` argument no other process has, to find what a run left behind."""
    return f"1000.{uuid.uuid4().int % 10**9}"


# --------------------------------------------------------------------------- basics


def test_isolation_is_described() -> None:
    text = sandbox.isolation()
    assert text.split(":")[0] in sandbox.LEVELS and text.split(":")[0] == sandbox.level()
    assert "fork guard:" in text or "no fork guard" in text


def test_a_fork_guard_is_used_where_one_is_possible() -> None:
    if os.geteuid() == 0:
        possible = any(os.access(c.parent, os.W_OK) for c in sandbox.cgroups.cgroup_candidates())
    else:
        possible = isolated()  # a user namespace of our own: RLIMIT_NPROC counts the sandbox
    if not possible:
        pytest.skip(f"neither a writable pids cgroup nor a user namespace here: "
                    f"{sandbox.isolation()}")
    assert fork_guarded(), sandbox.isolation()


@needs_bwrap
def test_bubblewrap_is_used_when_installed() -> None:
    assert sandbox.level() == "bwrap", sandbox.isolation()


def test_exit_code_output_env_and_cwd(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_TEST_SECRET", "must not leak")
    outcome = py("""
        import os, sys
        print(os.getcwd()); print(os.environ.get("HOME")); print(os.environ.get("PATH"))
        print("GRADER_TEST_SECRET" in os.environ)
        print("to stderr", file=sys.stderr)
        sys.exit(3)
    """, workdir)
    assert outcome.returncode == 3
    assert not outcome.timed_out and outcome.killed_reason == ""
    assert outcome.stdout.split() == [str(workdir), str(workdir), "/usr/bin:/bin", "False"]
    assert outcome.stderr == "to stderr\n"
    assert outcome.duration > 0


def test_a_signal_death_is_reported(workdir: Path) -> None:
    outcome = py("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", workdir)
    assert outcome.returncode == -signal.SIGSEGV
    assert outcome.killed_reason == f"signal {int(signal.SIGSEGV)}"


def test_a_missing_program_is_an_outcome_not_an_exception(workdir: Path) -> None:
    outcome = sandbox.run(["/nonexistent/program"], workdir=workdir,
                          limits=Limits(wall_seconds=5), env={})
    assert outcome.returncode not in (0, None)


def test_runs_from_several_threads_at_once(workdir: Path) -> None:
    def one(i: int) -> str:
        return py(f"print({i})", workdir).stdout.strip()

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(one, range(8))) == [str(i) for i in range(8)]


# --------------------------------------------------------------------------- killing


def test_timeout_kills_the_whole_tree(workdir: Path) -> None:
    seconds = unique_sleep()
    # a daemon (own session, out of the process group) dies only with a pid
    # namespace or a cgroup; the plain fallback can only kill the group
    daemon = sandbox.level() == "bwrap" or "cgroup" in sandbox.isolation()
    code = f"""
import os, subprocess, time
subprocess.Popen(["sleep", "{seconds}"])
if {daemon} and os.fork() == 0:
    os.setsid()
    subprocess.Popen(["sleep", "{seconds}9"])
    os._exit(0)
print("started", flush=True)
time.sleep(100)
"""
    try:
        outcome = py(code, workdir, wall_seconds=1.5)
        assert outcome.timed_out and outcome.returncode is None
        assert outcome.killed_reason == "timeout"
        assert outcome.stdout == "started\n"
        assert outcome.duration < 5
        assert wait_gone(seconds) == []
    finally:
        kill_all(processes_with(seconds))


def test_leftovers_are_killed_when_the_main_process_exits(workdir: Path) -> None:
    seconds = unique_sleep()
    try:
        outcome = py(f"import subprocess; subprocess.Popen(['sleep', '{seconds}'])", workdir)
        assert outcome.returncode == 0 and not outcome.timed_out
        assert outcome.duration < 3
        assert wait_gone(seconds) == []
    finally:
        kill_all(processes_with(seconds))


def test_the_sandbox_dies_with_the_grader(workdir: Path) -> None:
    seconds = unique_sleep()
    parent = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from grader import sandbox
        print("spawning", flush=True)
        sandbox.run(["sleep", "{seconds}"], workdir=Path({str(workdir)!r}),
                    limits=sandbox.Limits(wall_seconds=60), env={{"PATH": "/usr/bin:/bin"}})
    """)
    grader = subprocess.Popen([sys.executable, "-I", "-c", parent], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not processes_with(seconds) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_with(seconds), "the sandboxed sleep never started"
        grader.kill()
        grader.wait()
        assert wait_gone(seconds) == []
    finally:
        grader.kill()
        kill_all(processes_with(seconds))


# --------------------------------------------------------------------------- limits


def test_infinite_output_is_capped_and_does_not_hang(workdir: Path) -> None:
    outcome = py("""
        import sys
        while True:
            sys.stdout.write("x" * 65536)
    """, workdir, wall_seconds=1, output_bytes=10_000)
    assert outcome.timed_out
    assert outcome.stdout.startswith("x" * 10_000)
    assert len(outcome.stdout) < 10_200
    assert "output truncated" in outcome.stdout
    assert outcome.duration < 5


def test_large_output_on_both_streams_never_deadlocks(workdir: Path) -> None:
    outcome = py("""
        import sys
        for _ in range(200):
            sys.stdout.write("o" * 65536); sys.stderr.write("e" * 65536)
        print("done", file=sys.stderr)
    """, workdir, output_bytes=50_000)
    assert outcome.returncode == 0 and not outcome.timed_out
    assert outcome.stdout.startswith("o" * 50_000) and "truncated" in outcome.stdout
    assert outcome.stderr.startswith("e" * 50_000) and "truncated" in outcome.stderr
    assert str(200 * 65536 - 50_000) in outcome.stdout


def test_memory_bomb_dies(workdir: Path) -> None:
    outcome = py("""
        hoard = []
        while True:
            hoard.append(bytearray(16 << 20))
    """, workdir, memory_bytes=256 << 20)
    assert outcome.returncode not in (0, None) and not outcome.timed_out
    assert outcome.killed_reason == "memory"


def test_cpu_limit(workdir: Path) -> None:
    outcome = py("while True: pass", workdir, cpu_seconds=1, wall_seconds=15)
    assert not outcome.timed_out
    assert outcome.killed_reason == "cpu time"


def test_file_size_limit(workdir: Path) -> None:
    outcome = py("open('big', 'wb').write(b'x' * (2 << 20))", workdir, file_bytes=1 << 20)
    assert outcome.returncode != 0
    big = workdir / "big"  # at bwrap level the folder is a tmpfs: nothing reaches the host
    assert not big.exists() or big.stat().st_size <= 1 << 20
    assert outcome.killed_reason == "file size"


def test_fork_bomb_is_contained(workdir: Path) -> None:
    if not fork_guarded():
        pytest.skip(f"no fork guard on this machine: {sandbox.isolation()}")
    seconds = unique_sleep()
    try:
        # bounded: the parent alone forks, at most 200 times; each child sleeps
        outcome = py(f"""
            import os, time
            started = 0
            try:
                for _ in range(200):
                    if os.fork() == 0:
                        os.execvp("sleep", ["sleep", "{seconds}"])
                    started += 1
            except OSError as exc:
                print("refused:", exc.errno)
            print(started)
        """, workdir, max_processes=16)
        lines = outcome.stdout.split("\n")
        assert lines[0] == "refused: 11", outcome
        assert 0 < int(lines[1]) < 16
        assert wait_gone(seconds) == []
    finally:
        kill_all(processes_with(seconds))


# --------------------------------------------------------------------------- network


def test_no_network_but_loopback_works(workdir: Path) -> None:
    if not isolated():
        pytest.skip(f"no network isolation here: {sandbox.isolation()}")
    outcome = py("""
        import http.server, socket, threading, time, urllib.request
        start = time.monotonic()
        try:
            socket.create_connection(("1.1.1.1", 80), timeout=5)
            print("connected")
        except OSError as exc:
            print("refused", round(time.monotonic() - start, 1))
        class Hello(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200); self.end_headers(); self.wfile.write(b"hello")
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Hello)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        print(urllib.request.urlopen(url, timeout=5).read().decode())
    """, workdir)
    assert outcome.returncode == 0, outcome
    refused, hello = outcome.stdout.splitlines()
    assert refused.startswith("refused") and float(refused.split()[1]) < 2
    assert hello == "hello"


# --------------------------------------------------------------------------- filesystem


@needs_bwrap
def test_writes_outside_workdir_fail(tmp_path: Path, workdir: Path) -> None:
    if sandbox.level() != "bwrap":
        pytest.fail(f"bubblewrap is installed but not used: {sandbox.isolation()}")
    readable, writable = tmp_path / "suite", tmp_path / "out"
    readable.mkdir()
    writable.mkdir()
    (readable / "data.txt").write_text("readable")
    code = f"""
        import os
        def attempt(path):
            try:
                with open(path, "w") as f:
                    f.write("x")
                return "wrote"
            except OSError as exc:
                return type(exc).__name__
        print(open({str(readable / "data.txt")!r}).read())
        for path in [{str(readable / "new.txt")!r}, "/etc/grader-test", "/usr/grader-test",
                     {str(ROOT / "grader-test")!r}, "/grader-test",
                     {str(writable / "ok.txt")!r}, "here.txt", "/tmp/private.txt"]:
            print(attempt(path))
    """
    argv = [sys.executable, "-I", "-c", textwrap.dedent(code)]
    outcome = sandbox.run(argv, workdir=workdir, limits=Limits(wall_seconds=10), env={},
                          readable=[readable], writable=[writable])
    assert outcome.returncode == 0, outcome
    lines = outcome.stdout.splitlines()
    assert lines[0] == "readable"
    outside = [readable / "new.txt", Path("/etc/grader-test"), Path("/usr/grader-test"),
               ROOT / "grader-test", Path("/grader-test")]
    for path, line in zip(outside, lines[1:6], strict=True):
        assert not path.exists(), f"{path} was written on the host"
        # under /tmp a write may land in the sandbox's private tmpfs, never on the host
        assert line != "wrote" or path.is_relative_to("/tmp"), (path, lines)
    assert lines[6:] == ["wrote", "wrote", "wrote"]
    assert (writable / "ok.txt").read_text() == "x"
    here = workdir / "here.txt"  # with --size (bwrap 0.7+) it went to the run's capped tmpfs
    assert not here.exists() if sandbox.detect.setup().tmpfs_size else here.read_text() == "x"
    assert not Path("/tmp/private.txt").exists()
    assert not (ROOT / "grader-test").exists() and not Path("/etc/grader-test").exists()


@needs_bwrap
def test_parent_secrets_are_not_visible(workdir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "other_student" / "long_func.py"
    secret.parent.mkdir()
    secret.write_text("someone else's work")
    outcome = py(f"""
        import os
        print(os.path.exists({str(secret)!r}), os.path.exists("/etc/shadow"),
              os.path.exists("/home"), os.path.exists({str(ROOT / "tests")!r}))
    """, workdir)
    assert Path("/etc/shadow").exists()
    assert outcome.stdout.split() == ["False", "False", "False", "False"]


def test_root_runs_as_an_unprivileged_uid_of_its_own(workdir: Path) -> None:
    """As root, student code gets a uid of its own: no capabilities, cannot signal the grader."""
    if os.geteuid() != 0 or not sandbox.detect.setup().drop_uid:
        pytest.skip(f"not root, or no uid drop here: {sandbox.isolation()}")
    outcome = py(f"""
        import os, signal
        caps = open("/proc/self/status").read().split("CapEff:")[1].split()[0]
        try:
            os.kill({os.getpid()}, 0)
            reach = "grader reachable"
        except (PermissionError, ProcessLookupError):
            reach = "grader out of reach"
        print(os.getuid(), caps, reach)
    """, workdir)
    uid, caps, *reach = outcome.stdout.split()
    assert int(uid) >= sandbox.spawn._RUN_UID_BASE and int(caps, 16) == 0, outcome
    assert " ".join(reach) == "grader out of reach"


def test_a_channel_passes_in_and_hidden_paths_are_empty(workdir: Path, tmp_path: Path) -> None:
    """The worker's channel is an inherited fd; a hidden folder shows nothing (bwrap)."""
    import socket

    secret = tmp_path / "suites"
    secret.mkdir()
    (secret / "test_hidden.py").write_text("answers")
    ours, theirs = socket.socketpair()
    code = f"""
        import os, socket
        socket.socket(fileno={theirs.fileno()}).sendall(b"hello")
        print(os.listdir({str(secret)!r}) if os.path.isdir({str(secret)!r}) else "absent")
    """
    argv = [sys.executable, "-I", "-c", textwrap.dedent(code)]
    outcome = sandbox.run(argv, workdir=workdir, limits=Limits(wall_seconds=10),
                          env={"PATH": "/usr/bin:/bin"}, readable=[secret], hidden=[secret],
                          pass_fds=[theirs.fileno()])
    theirs.close()
    ours.settimeout(5)
    assert ours.recv(16) == b"hello", outcome
    if sandbox.level() == "bwrap":
        assert outcome.stdout.strip() in ("[]", "absent"), outcome


# --------------------------------------------------------------------------- weaker levels


LEVELS = ["bwrap without cgroup", "unshare", "setpriv", "rlimits", "rlimits without cgroup",
          "process"]


@pytest.mark.parametrize("kind", LEVELS)
def test_every_level_runs_and_kills(kind: str, workdir: Path) -> None:
    """Each isolation level (forced), with and without the cgroup, still runs and kills."""
    wanted = kind.split()[0]
    setup = sandbox.detect.detect(wanted)
    if setup.kind != wanted:
        pytest.skip(f"{wanted} is not available here")
    if "without cgroup" in kind:
        setup = dataclasses.replace(setup, cgroup=None)
    assert py("import sys; sys.exit(3)", workdir, setup).returncode == 3
    # a daemon (own session) is out of reach of the process group: only a pid
    # namespace or a cgroup can kill it
    daemon = setup.kind == "bwrap" or setup.cgroup is not None
    seconds = unique_sleep()
    code = f"""
import os, subprocess, time
subprocess.Popen(["sleep", "{seconds}"])
if {daemon} and os.fork() == 0:
    os.setsid()
    subprocess.Popen(["sleep", "{seconds}9"])
    os._exit(0)
time.sleep(100)
"""
    try:
        outcome = py(code, workdir, setup, wall_seconds=0.7)
        assert outcome.timed_out
        assert wait_gone(seconds) == []
    finally:
        kill_all(processes_with(seconds))
    if setup.kind in ("bwrap", "unshare"):
        outcome = py("""
            import socket
            server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen()
            socket.create_connection(server.getsockname(), timeout=2).close()
            try:
                socket.create_connection(("1.1.1.1", 80), timeout=2)
            except OSError:
                print("no route")
        """, workdir, setup)
        assert outcome.stdout == "no route\n", outcome


# ---------------------------------------------------- seccomp, keyring, memory cgroup


def forced(level: str) -> sandbox.detect.Setup:
    """The machine's setup at `level` (skipped where that level is not available)."""
    setup = sandbox.detect.detect(level)
    if setup.kind != level:
        pytest.skip(f"{level} is not available here")
    return setup


def filtered(level: str) -> sandbox.detect.Setup:
    setup = forced(level)
    if not sandbox.seccomp.build():
        pytest.skip("libseccomp is not installed (scripts/setup.sh installs libseccomp2)")
    assert setup.seccomp, f"libseccomp is here but the filter failed its probe: {setup}"
    return setup


ALL_LEVELS = list(sandbox.detect.FILTERED)  # `process` has no filter, keyring or cgroup
DENIED_PROBES = {  # name -> arguments of a call that succeeds or fails otherwise without the filter
    "unshare": (0x10000000,),  # CLONE_NEWUSER
    "keyctl": (0, -3, 0),  # KEYCTL_GET_KEYRING_ID of the session keyring
    "add_key": (b"user", b"grader-test", b"x", 1, -3),
    "io_uring_setup": (8, "buf"),
    "mount": (b"none", b"/tmp", b"tmpfs", 0, None),
    "fsopen": (b"tmpfs", 0),
    "bpf": (0, "buf", 8),
    "perf_event_open": ("buf", 0, -1, -1, 0),
    "userfaultfd": (0,),
    "ptrace": (0, 0, 0, 0),  # PTRACE_TRACEME
    "clone": (0x10000000 | 17, 0, 0, 0, 0),  # CLONE_NEWUSER | SIGCHLD
    "setns": (0, 0),
}


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_denied_calls_fail_with_eperm_inside_a_run(level: str, workdir: Path) -> None:
    setup = filtered(level)
    numbers = {name: sandbox.seccomp.syscall_number(name) for name in [*DENIED_PROBES, "clone3"]}
    outcome = py(f"""
        import ctypes, errno, os
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(256)
        def call(nr, args):
            args = [buf if a == "buf" else ctypes.c_long(a) if isinstance(a, int) else a
                    for a in args]
            rc = libc.syscall(nr, *args)
            if rc == 0 and nr == {numbers["clone"]}:
                os._exit(0)
            return rc, errno.errorcode.get(ctypes.get_errno(), "?")
        for name, args in {DENIED_PROBES!r}.items():
            print(name, *call({numbers!r}[name], args))
        print("clone3", *call({numbers["clone3"]}, ["buf", 88]))
    """, workdir, setup)
    got = dict(line.split(" ", 1) for line in outcome.stdout.splitlines())
    assert got == {**{name: "-1 EPERM" for name in DENIED_PROBES}, "clone3": "-1 ENOSYS"}, \
        outcome


ALLOWED_PROGRAM = """
import asyncio, multiprocessing, subprocess, sys, threading
import aiohttp
from aiohttp import web

async def main():
    async def hello(request):
        return web.Response(text="hello " + request.query["who"])
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(*(
            session.get(f"http://127.0.0.1:{port}/", params={"who": str(i)}) for i in range(5)))
        texts = [await a.text() for a in answers]
    await runner.cleanup()
    return texts

texts = asyncio.run(main())
box = []
thread = threading.Thread(target=box.append, args=("thread",)); thread.start(); thread.join()
child = subprocess.run([sys.executable, "-c", "print('subprocess')"], capture_output=True,
                       text=True, check=True).stdout.strip()
with multiprocessing.get_context("fork").Pool(2) as pool:
    squares = pool.map(abs, [-2, -3])
with multiprocessing.get_context("spawn").Pool(1) as pool:
    spawned = pool.map(abs, [-4])
print(texts == [f"hello {i}" for i in range(5)], box, child, squares, spawned)
"""


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_an_asyncio_aiohttp_program_with_threads_and_processes_still_works(
        level: str, workdir: Path) -> None:
    setup = filtered(level)
    argv = [sys.executable, "-c", ALLOWED_PROGRAM]  # not -I: aiohttp is in the venv
    outcome = sandbox.spawn.run_with(setup, argv, workdir, sandbox.Policy(Limits(wall_seconds=60)),
                                     {"PATH": "/usr/bin:/bin"})
    assert outcome.stdout.strip() == "True ['thread'] subprocess [2, 3] [4]", outcome


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_each_run_has_a_fresh_empty_session_keyring(level: str, workdir: Path) -> None:
    """Seen with the filter off (it denies keyctl): the run's keyring is new and empty."""
    setup = dataclasses.replace(forced(level), seccomp="")
    if not setup.keyring:
        pytest.skip(f"no keyring isolation here: {setup.describe()}")
    sandbox.keyring.joiner(setup.keyring)()  # this test's own session keyring, not the machine's
    keyctl, add_key = (sandbox.seccomp.syscall_number(n) for n in ("keyctl", "add_key"))
    if keyctl is None or add_key is None:
        pytest.skip("libseccomp, which knows the call numbers, is not installed")
    libc = ctypes.CDLL(None, use_errno=True)
    secret = f"secret-{uuid.uuid4().hex}".encode()
    serial = libc.syscall(add_key, b"user", b"grader-test-key", secret, len(secret), -3)
    assert serial > 0, ctypes.get_errno()
    ours = sandbox.keyring.session_keyring()
    outcome = py(f"""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(4096)
        print(libc.syscall({keyctl}, 0, -3, 0))  # KEYCTL_GET_KEYRING_ID
        print(libc.syscall({keyctl}, 11, -3, buf, 4096))  # KEYCTL_READ: its keys
        print(libc.syscall({keyctl}, 10, -3, b"user", b"grader-test-key", 0))  # SEARCH
        print(libc.syscall({keyctl}, 11, {serial}, buf, 4096), ctypes.get_errno())
    """, workdir, setup)
    session, size, found, read = outcome.stdout.splitlines()
    assert int(session) not in (ours, -1) and int(size) == 0 and int(found) == -1, outcome
    assert read.split()[0] == "-1", outcome  # the grader's key by its serial: refused
    buf = ctypes.create_string_buffer(4096)
    assert libc.syscall(keyctl, 11, serial, buf, 4096) == len(secret)
    assert buf.raw[:len(secret)] == secret


MEMORY_BOMB = """
import os, time
ready_r, ready_w = os.pipe()
for _ in range(3):  # three children hold 40 MB each...
    if os.fork() == 0:
        hoard = b"x" * (40 << 20)
        os.write(ready_w, b"1")
        time.sleep(60)
        os._exit(0)
for _ in range(3):
    os.read(ready_r, 1)
hoard = []  # ... and the parent, within its own RLIMIT_AS, more than the run may have
for _ in range(40):
    hoard.append(b"x" * (16 << 20))
print("not stopped")
"""


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_the_memory_cgroup_stops_a_run_of_many_processes(level: str, workdir: Path) -> None:
    setup = forced(level)
    if setup.memory is None:
        pytest.skip(f"no writable memory cgroup here: {setup.describe()}")
    outcome = py(MEMORY_BOMB, workdir, setup, run_memory_bytes=256 << 20,
                 memory_bytes=1 << 30, wall_seconds=30)
    assert outcome.stdout == "" and outcome.returncode == -signal.SIGKILL, outcome
    assert outcome.killed_reason == "memory"


def test_without_libseccomp_runs_go_on_unfiltered_and_say_so(
        monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    monkeypatch.setattr(sandbox.seccomp, "build", lambda: b"")
    setup = sandbox.detect.detect("rlimits")
    assert setup.seccomp == "" and "no syscall filter" in setup.describe()
    assert py("print('ran')", workdir, setup).stdout == "ran\n"


def test_a_filter_that_fails_its_probe_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.seccomp, "build", lambda: b"\0" * 8)  # no return: refused
    setup = sandbox.detect.detect("rlimits")
    assert setup.seccomp == "" and "no syscall filter" in setup.describe()


def test_the_setup_handed_to_test_processes_keeps_the_guards() -> None:
    setup = sandbox.detect.setup()
    again = sandbox.detect.import_setup(sandbox.export_setup())
    assert (again.seccomp, again.keyring, again.memory, again.cgroup) == \
        (setup.seccomp, setup.keyring, setup.memory, setup.cgroup)


def test_the_filter_in_force_is_recorded_and_can_be_required() -> None:
    state = sandbox.syscall_filter()
    assert state == ("seccomp" if sandbox.detect.setup().seccomp else "none")
    assert sandbox.at_least(f"{sandbox.level()}+seccomp") == (state == "seccomp")
    assert sandbox.at_least("rlimits") and sandbox.at_least("process")
