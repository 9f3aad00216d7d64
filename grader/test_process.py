"""[test process] A test process: one hidden suite against one submission, forked from the zygote.

grader/test_launch.py forks it from the warm zygote (grader/zygote.py) and
calls `main` with the run's description (grader/test_run.py). Before pytest
runs it makes itself what a freshly started test process was: a session of
its own, its trusted memory limit, its own environment, folder, stdout and
stderr. It never imports student code: that runs in the sandboxed worker the
suite plugin starts. Plugins are named explicitly (autoload is off), so only
what we load runs.
"""

from __future__ import annotations

import multiprocessing.forkserver
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from multiprocessing import reduction

import pytest

from grader import sandbox, trusted_limits
from grader.catalog import SUITES_DIR
from grader.sandbox.spawn import die_with_parent
from grader.suites.plugin import RunPlugin
from grader.test_run import TestRun, trusted_path

Target = Callable[[TestRun], int]
TIME_UP = 124  # exit status after the parent's SIGTERM (the suite's wall limit)
# A test over its time fails and the suite goes on (SIGALRM); without SIGALRM (Windows) the
# thread method ends the whole test process instead, and the tests after it count zero.
TIMEOUT_METHOD = "signal" if hasattr(signal, "SIGALRM") else "thread"


class InheritedFd:
    """A file descriptor of the parent's, handed to the forked process when it starts.

    Pickled while multiprocessing starts the process, it travels to the fork
    server with the call (SCM_RIGHTS); unpickled in the test process, it is
    that process's own copy of the descriptor.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Callable[[int], InheritedFd], tuple[object]]:
        return _received, (reduction.DupFd(self.fd),)


def _received(dup: object) -> InheritedFd:
    return InheritedFd(dup.detach())  # type: ignore[attr-defined]


class OutputFile:
    """A file for the test process's output, where no descriptor can travel (`process` level)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def open(self) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)  # Windows
        return os.open(self.path, flags, 0o600)


def main(target: Target, run: TestRun, out: InheritedFd | OutputFile,
         err: InheritedFd | OutputFile) -> None:
    """The forked (or spawned) call: become the run's own test process, then run `target`."""
    if isinstance(out, InheritedFd) and isinstance(err, InheritedFd):
        enter(run, out.fd, err.fd)
    else:
        assert isinstance(out, OutputFile) and isinstance(err, OutputFile)
        enter(run, out.open(), err.open(), forked=False)
    sys.exit(target(run))


def enter(run: TestRun, out: int, err: int, forked: bool = True) -> None:
    """Everything a fresh `python -I -B` test process had, set up in the fork instead.

    A spawned test process (not `forked`: the `process` level) has no zygote,
    and the parent ends its whole tree itself; it ignores Ctrl-C, which the
    grader handles (running test processes finish).
    """
    if forked:
        os.setsid()  # a session of its own: the parent's kill reaches it and all it started
        # The zygote cannot have ended yet: it waits for our copy of its "alive" pipe too.
        die_with_parent(os.getppid())  # the zygote ends with the grader, and we end with it
        _leave_the_zygotes_lifeline()
    else:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    for source, target in ((out, 1), (err, 2)):
        os.dup2(source, target)
        os.close(source)
    trusted_limits.limit_test_process()
    sys.path[:] = trusted_path(sys.path)  # multiprocessing gave us the parent's again
    os.chdir(run.home)
    env = run.env(os.path.dirname(sys.executable))  # before the clear: Windows keeps SYSTEMROOT
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None  # found again, from the TMPDIR just set
    sys.dont_write_bytecode = True
    signal.signal(signal.SIGTERM, _time_is_up)
    sandbox.adopt(run.sandbox_setup)


def _time_is_up(_signum: int, _frame: object) -> None:
    """SIGTERM: the parent's time limit for the whole suite. End the session, not the test.

    pytest.exit unwinds through pytest (the worker is killed on the way out) and
    records nothing for the test that was running: the parent words that test as
    the student's run hitting the suite's limit. A plain SystemExit would be
    taken as that test's own failure and read "the grader failed".
    """
    pytest.exit("the suite's time limit", returncode=TIME_UP)


def _leave_the_zygotes_lifeline() -> None:
    """Close our copy of the fork server's "alive" pipe (multiprocessing gives each child one).

    The fork server exits when every copy is closed: with the grader gone it
    must exit even while test processes run, so that they (their parent-death
    signal) and their workers end with it.
    """
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(fd, int):
        try:
            os.close(fd)
        except OSError:
            pass
        server._forkserver_alive_fd = None  # type: ignore[union-attr]


def pytest_args(run: TestRun) -> list[str]:
    """The suite, its fixed configuration and plugins: nothing of the run but its timeout."""
    targets = [str(SUITES_DIR / node) for node in run.tests] or [str(run.suite)]
    return [*targets, *pytest_args_without_suite(run.test_timeout)]


def pytest_args_without_suite(timeout: float) -> list[str]:
    """What every hidden-suite run is given, also the zygote's collection (grader/zygote.py)."""
    return [
        "-c", str(SUITES_DIR / "pytest.ini"),
        "--rootdir", str(SUITES_DIR),
        "-p", "pytest_asyncio.plugin",
        "-p", "pytest_timeout",
        "-p", "grader.suites.plugin",
        "--timeout", str(timeout),
        "--timeout-method", TIMEOUT_METHOD,
        "-p", "no:cacheprovider",
        "-q", "--no-header", "-rN", "--tb=no", "-W", "ignore",
    ]


def run_suite(run: TestRun) -> int:
    """pytest on the run's suite; the plugin reads the run from the plugin object it is given."""
    return int(pytest.main(pytest_args(run), plugins=[RunPlugin(run)]))
