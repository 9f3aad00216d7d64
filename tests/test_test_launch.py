"""Test processes forked from the warm zygote: what they are given, what they hold, how they end.

Each test forks a real test process (grader/test_launch.py) with a target of
this module's (the test process imports this module to find it) that reports
what it sees, or misbehaves, and checks what the parent saw.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing.forkserver
import os
import pickle
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from grader import catalog, runner, sandbox, test_launch, trusted_limits
from grader.test_process import run_suite
from grader.test_run import TestRun

ROOT = Path(__file__).resolve().parent.parent
REPORT = "GRADER-TEST-REPORT "  # the line a target prints for the test to read


def make_run(tmp_path: Path, slug: str = "long_func", suite_timeout: float = 60.0,
             submission: Path | None = None) -> TestRun:
    """A run of `slug`'s suite in `tmp_path`, on a private copy of `submission` (or nothing)."""
    assignment = catalog.get(slug)
    own_copy = tmp_path / "submission"
    if submission is not None:
        shutil.copytree(submission, own_copy)
        runner.put_stand_ins(assignment, own_copy)
    else:
        own_copy.mkdir()
    return TestRun(suite=assignment.suite, submission=own_copy, module=assignment.module,
                   report=tmp_path / "events.jsonl", test_timeout=assignment.test_timeout,
                   suite_timeout=suite_timeout, home=tmp_path, work=tmp_path / "trusted",
                   lifetime=suite_timeout, sandbox_setup=sandbox.export_setup())


def report(outcome: sandbox.Outcome) -> dict:
    lines = [line for line in outcome.stdout.splitlines() if line.startswith(REPORT)]
    assert lines, f"no report: {outcome}"
    return json.loads(lines[-1].removeprefix(REPORT))


def _say(data: dict) -> None:
    print(REPORT + json.dumps(data, default=str), flush=True)


# ------------------------------------------------------- targets (run in the test process)


def _suite_and_what_it_saw(run: TestRun) -> int:
    """Run the real suite, saying what was imported before and after, and where we are."""
    before = set(sys.modules)
    path = [os.path.realpath(entry) if entry else entry for entry in sys.path]
    code = run_suite(run)
    _say({
        "suite_preloaded": "test_long_func" in before,
        "pytest_preloaded": "pytest" in before and "aiohttp" in before,
        "student_module": run.module in sys.modules,
        "parent": os.getppid(),
        "own_session": os.getsid(0) == os.getpid(),
        "cwd": os.getcwd(),
        "path": path,  # before pytest (which adds the grader's own source folder)
        "env": dict(os.environ),
        "data_limit": resource.getrlimit(resource.RLIMIT_DATA),
        "setup": sandbox.export_setup(),
        "run": pickle.dumps(run).hex(),
        "code": code,
    })
    return code


def _hang_with_a_worker(run: TestRun) -> int:
    """Start a sandboxed process (and a plain child if asked), marked by the lifetime; hang."""
    marker = f"{run.lifetime + (100 if 'long' in run.module else 0):.3f}"
    (run.home / "pids").write_text(f"{os.getpid()} {os.getppid()}")
    if "plain-child" in run.module:  # in our session, not sandboxed
        subprocess.Popen(["sleep", marker])  # noqa: S607
    threading.Thread(target=sandbox.run, daemon=True, args=(["sleep", marker],), kwargs={
        "workdir": run.submission, "limits": sandbox.Limits(wall_seconds=600), "env": {}}).start()
    if "ignore-sigterm" in run.module:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _say({"started": True})
    time.sleep(600)
    return 0


def _hoard_memory(run: TestRun) -> int:
    """Allocate (without touching) until the trusted memory limit stops us."""
    del run
    _say({"limit": resource.getrlimit(resource.RLIMIT_DATA)[0]})
    hoard = []
    while True:
        hoard.append(bytearray(64 << 20))


# ------------------------------------------------------------------------------- tests


def test_the_run_description_round_trips_whole(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    copy = pickle.loads(pickle.dumps(run))
    assert copy == run
    assert isinstance(copy.suite, Path) and isinstance(copy.test_timeout, float)


def test_a_forked_test_process_is_warm_trusted_and_its_own(tmp_path: Path) -> None:
    submission = ROOT / "examples" / "submissions" / "ivanov_ivan"
    run = make_run(tmp_path, submission=submission)
    outcome = test_launch.run(run, target=_suite_and_what_it_saw)
    seen = report(outcome)
    assert (outcome.returncode, outcome.killed_reason) == (0, ""), outcome
    # forked from the zygote, which had pytest, aiohttp and the suite imported already
    assert seen["parent"] == multiprocessing.forkserver._forkserver._forkserver_pid
    assert seen["suite_preloaded"] and seen["pytest_preloaded"]
    # the student's module ran in the worker, never here
    assert seen["student_module"] is False
    events = runner.read_events(run.report)
    assert any(e["event"] == "import_done" and not e["error"] for e in events)
    assert all(e.get("status") == "passed" for e in events if e["event"] == "result")
    # what a fresh test process had: its own session, folder, environment, limit, set-up
    assert seen["own_session"] and seen["cwd"] == str(tmp_path)
    # nothing of the folder the grader was started from is importable (as with `python -I`)
    assert "" not in seen["path"] and os.path.realpath(os.getcwd()) not in seen["path"]
    assert seen["env"] == run.env(os.path.dirname(sys.executable))
    assert seen["data_limit"][0] == trusted_limits.TEST_PROCESS_BYTES
    assert json.loads(seen["setup"]) == json.loads(run.sandbox_setup)
    assert pickle.loads(bytes.fromhex(seen["run"])) == run


def _alive_with(marker: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes().split(b"\0")
                state = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if marker.encode() in cmdline and state != "Z":
                found.append(int(entry.name))
    return found


def _gone(marker: str, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while _alive_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive_with(marker)


def _unique_seconds(base: float) -> float:
    """`base` and a fraction of our own: the marker of this test's processes."""
    return base + (os.getpid() % 999 + 1) / 1000


@pytest.mark.parametrize("module", [
    "plain-child+long",
    pytest.param("plain-child+ignore-sigterm+long", marks=pytest.mark.slow),  # SIGKILL after 5 s
])
def test_a_hanging_test_process_is_killed_with_what_it_started(tmp_path: Path,
                                                                module: str) -> None:
    """Its children sleep 100 s longer than the run lives: gone within 10 s means killed."""
    run = make_run(tmp_path, suite_timeout=_unique_seconds(2.0))
    run = TestRun(**{**run.__dict__, "module": module})
    marker = f"{run.lifetime + 100:.3f}"
    outcome = test_launch.run(run, target=_hang_with_a_worker)
    assert report(outcome) == {"started": True}
    assert (outcome.timed_out, outcome.returncode, outcome.killed_reason) == (True, None,
                                                                               "timeout")
    assert _gone(marker), f"left running: {_alive_with(marker)}"


def test_a_test_process_at_its_memory_limit_says_so(tmp_path: Path) -> None:
    outcome = test_launch.run(make_run(tmp_path), target=_hoard_memory)
    assert report(outcome) == {"limit": trusted_limits.TEST_PROCESS_BYTES}
    assert (outcome.killed_reason, outcome.timed_out, outcome.returncode) == ("memory", False, 1)


def test_the_zygote_and_its_test_processes_end_with_a_killed_grader(tmp_path: Path) -> None:
    """SIGKILL of the grader: the zygote exits, the test process and its worker die with it."""
    marker = f"{_unique_seconds(600):.3f}"
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from grader import test_launch
        from grader.test_run import TestRun
        from tests.test_test_launch import make_run, _hang_with_a_worker
        run = make_run(Path({str(tmp_path)!r}), suite_timeout={marker})
        run = TestRun(**{{**run.__dict__, "module": "worker-only"}})
        test_launch.warm()
        test_launch.run(run, target=_hang_with_a_worker)
    """)
    grader = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not _alive_with(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _alive_with(marker), "the test process never started its worker"
    finally:
        grader.kill()
        grader.wait()
    test_process, zygote = map(int, (tmp_path / "pids").read_text().split())
    assert _gone(marker), f"left running: {_alive_with(marker)}"
    for pid in (test_process, zygote):
        assert _pid_gone(pid), f"{pid} is still running"


def _pid_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


LOOPING = '''\
URL = "https://www.gosuslugi.ru/"


async def long_func(i, session=None):
    while True:
        pass


async def main():
    while True:
        pass
'''


@pytest.mark.slow
def test_code_still_looping_at_the_suites_limit_is_the_students_not_the_graders(
        tmp_path: Path) -> None:
    """The parent's SIGTERM at the suite's limit ends the session; no test reads "grader failed".

    Before, the SIGTERM became SystemExit(124) inside the running test, which
    pytest took as that test's own failure: "the grader failed on this test".
    """
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "long_func.py").write_text(LOOPING, encoding="utf-8")
    quick = dataclasses.replace(catalog.get("long_func"), suite_timeout=12.0, test_timeout=5.0)
    result = runner.run_suite(quick, folder, tmp_path / "scratch")
    messages = [t.message for t in result.tests]
    assert result.score == 0
    assert not any("grader failed" in m or "SystemExit" in m for m in messages), messages
    assert any(t.status == "timeout" and "hit their 12 s limit" in t.message
               for t in result.tests), messages


@pytest.mark.slow
def test_at_the_process_level_a_test_process_is_spawned_and_killed_with_its_tree(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No fork server, no session (Windows): spawned by us, its tree found and killed by psutil."""
    monkeypatch.setitem(sandbox.detect.setup_cache, "setup", sandbox.detect.Setup("process"))
    run = make_run(tmp_path, suite_timeout=_unique_seconds(8.0))  # spawning imports it all
    run = TestRun(**{**run.__dict__, "module": "plain-child+long"})
    marker = f"{run.lifetime + 100:.3f}"  # its children would sleep 100 s more than it lives
    outcome = test_launch.run(run, target=_hang_with_a_worker)
    assert report(outcome) == {"started": True}, outcome
    assert (outcome.timed_out, outcome.returncode, outcome.killed_reason) == (True, None,
                                                                               "timeout")
    pid, parent = map(int, (tmp_path / "pids").read_text().split())
    assert parent == os.getpid() and pid != os.getpid()  # ours, not the zygote's
    assert _gone(marker, seconds=3), f"left running: {_alive_with(marker)}"
