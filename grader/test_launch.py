"""[parent] Start each trusted test process by forking the warm zygote, and see it to its end.

The zygote is the standard library's fork server (multiprocessing's
"forkserver" context) with grader/zygote.py preloaded: pytest, its plugins,
aiohttp and every hidden suite already imported and collected, so a test
process costs a fork instead of an interpreter start-up and a collection.
Nothing of a submission ever reaches the zygote, so it serves every run.

The parent keeps what it had with a fresh `python -m grader.child`: the
run's description goes whole as the forked call's argument (no argv, no
options, no environment variable); the test process's stdout and stderr are
pipes of ours, kept capped; at the wall limit its session gets SIGTERM (it
kills its worker on the way out), then SIGKILL; and the `Outcome` is the
same. The fork server ignores Ctrl-C and exits when the grader does; each
test process then dies with it (grader/test_process.py).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import signal
import threading
import time

from grader import test_process
from grader.sandbox.policy import Limits, Outcome
from grader.sandbox.spawn import Capture, Pump
from grader.test_process import InheritedFd, Target
from grader.test_run import TestRun

_CONTEXT = multiprocessing.get_context("forkserver")
# "__main__" first: the program that started the grader (the `grader` script) is imported once,
# in the zygote, instead of in every test process (multiprocessing's "safe importing of main").
_CONTEXT.set_forkserver_preload(["__main__", "grader.zygote"])
_TERM_GRACE = 5.0  # seconds a test process gets to kill its worker after SIGTERM
_DRAIN_GRACE = 1.0  # seconds to wait for its pipes to close once it is gone
# multiprocessing's Process.start polls the other children and exitcode reads a pipe: neither
# is safe from several threads at once, so both happen under this lock (never a wait).
_lock = threading.Lock()


def warm() -> None:
    """Start the zygote now, from this thread, with Ctrl-C ignored for good in it.

    The terminal's Ctrl-C reaches the zygote too (it is in our process group):
    the grader handles that Ctrl-C itself (it lets running test processes
    finish), so the zygote must not die of it, not even while it imports. An
    ignored signal stays ignored across exec, and Python keeps it so.
    """
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None
    if previous is None:
        multiprocessing.forkserver.ensure_running()
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def run(test_run: TestRun, target: Target = test_process.run_suite) -> Outcome:
    """Fork a test process for `test_run` and wait for it, up to its wall limit.

    `target` is what the test process runs once it is set up (the hidden
    suite; the project's tests give others). Its memory limit is
    trusted_limits.TEST_PROCESS_BYTES; one that ends at it (a MemoryError on
    its stderr) is reported with killed_reason "memory".
    """
    start = time.monotonic()
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        process = _CONTEXT.Process(
            target=test_process.main, name=f"grader-test-{test_run.suite.name}", daemon=True,
            args=(target, test_run, InheritedFd(out_write), InheritedFd(err_write)))
        with _lock:
            process.start()
    except BaseException:
        os.close(out_read)
        os.close(err_read)
        raise
    finally:
        os.close(out_write)  # only the test process holds them now: end of file when it ends
        os.close(err_write)
    cap = Limits(test_run.suite_timeout).output_bytes
    out, err = Capture(cap), Capture(cap)
    pid = process.pid
    assert pid is not None
    pump = Pump([(out_read, out), (err_read, err)], process.sentinel, lambda: False)
    timed_out = False
    try:
        for signal_at_end, seconds in ((signal.SIGTERM, test_run.suite_timeout),
                                       (signal.SIGKILL, _TERM_GRACE)):
            deadline = time.monotonic() + seconds
            while not pump.exited and time.monotonic() < deadline:
                pump.step(deadline - time.monotonic())
            if pump.exited:
                break
            timed_out = True
            _signal(pid, signal_at_end, itself=True)
        _signal(pid, signal.SIGKILL)  # anything of its session left behind
        grace_end = time.monotonic() + _DRAIN_GRACE
        while pump.open_pipes and time.monotonic() < grace_end:
            pump.step(grace_end - time.monotonic())
    finally:
        pump.close()
        os.close(out_read)  # a leftover still writing gets EPIPE, not us
        os.close(err_read)
        _signal(pid, signal.SIGKILL)
        returncode = _ended(process)
    return _outcome(returncode, timed_out, out, err, time.monotonic() - start)


def _signal(pid: int, sig: int, itself: bool = False) -> None:
    """Signal the test process's session (its process group); `itself` too while it runs.

    Its pid is signalled only before its end was seen (the zygote reaps it
    then); the group id stays reserved while any process of the group lives.
    """
    for kill, target in ((os.killpg, pid), *(((os.kill, pid),) if itself else ())):
        try:
            kill(target, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _ended(process: multiprocessing.process.BaseProcess) -> int | None:
    """Wait for the end of a test process already killed; its exit code (-N: signal N)."""
    multiprocessing.connection.wait([process.sentinel])
    with _lock:
        code = process.exitcode
        process.close()
    return code


def _outcome(rc: int | None, timed_out: bool, out: Capture, err: Capture,
             duration: float) -> Outcome:
    if timed_out:
        return Outcome(None, True, out.text(), err.text(), duration, "timeout")
    if rc is not None and rc < 0:
        reason = f"signal {-rc}"
    elif rc and (b"MemoryError" in err.tail or b"Cannot allocate memory" in err.tail):
        reason = "memory"
    else:
        reason = ""
    return Outcome(rc, False, out.text(), err.text(), duration, reason)
