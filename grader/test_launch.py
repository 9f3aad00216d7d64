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

At the `process` level (no fork server: Windows has only "spawn") each test
process is a fresh interpreter started by multiprocessing's "spawn", its
stdout and stderr files of ours (no descriptor travels), ended at its wall
limit by terminating it and then killing every process seen in its tree
(grader.sandbox.portable_run): slower, but the same `Outcome`.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import multiprocessing.forkserver
import os
import signal
import tempfile
import threading
import time
from typing import TYPE_CHECKING

from grader import sandbox, test_process
from grader.sandbox.policy import Limits, Outcome
from grader.sandbox.spawn import Capture, Pump
from grader.test_process import InheritedFd, OutputFile, Target
from grader.test_run import TestRun

if TYPE_CHECKING:
    import psutil

_PRELOAD = ["__main__", "grader.zygote"]
_TERM_GRACE = 5.0  # seconds a test process gets to kill its worker after SIGTERM
_DRAIN_GRACE = 1.0  # seconds to wait for its pipes to close once it is gone
# multiprocessing's Process.start polls the other children and exitcode reads a pipe: neither
# is safe from several threads at once, so both happen under this lock (never a wait).
_lock = threading.Lock()


@functools.cache
def _forkserver() -> multiprocessing.context.ForkServerContext:
    """multiprocessing's fork server, its zygote preloaded (only asked for where it exists).

    "__main__" first: the program that started the grader (the `grader` script)
    is imported once, in the zygote, instead of in every test process
    (multiprocessing's "safe importing of main").
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def warm() -> None:
    """Start the zygote now, from this thread, with Ctrl-C ignored for good in it.

    The terminal's Ctrl-C reaches the zygote too (it is in our process group):
    the grader handles that Ctrl-C itself (it lets running test processes
    finish), so the zygote must not die of it, not even while it imports. An
    ignored signal stays ignored across exec, and Python keeps it so.
    """
    if sandbox.portable():
        return  # no zygote: each test process is spawned afresh
    _forkserver()
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
    if sandbox.portable():
        return _run_spawned(test_run, target)
    start = time.monotonic()
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        process = _forkserver().Process(
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


def _run_spawned(test_run: TestRun, target: Target) -> Outcome:
    """`run` where there is no fork server: a spawned test process, its output in files."""
    import psutil  # the `process` level only: Linux never loads it

    from grader.sandbox import portable_run

    start = time.monotonic()
    cap = Limits(test_run.suite_timeout).output_bytes
    with tempfile.TemporaryDirectory(prefix="grader-test-output-") as folder:
        out, err = (OutputFile(os.path.join(folder, name)) for name in ("stdout", "stderr"))
        process = multiprocessing.get_context("spawn").Process(
            target=test_process.main, name=f"grader-test-{test_run.suite.name}", daemon=True,
            args=(target, test_run, out, err))
        with _lock:
            process.start()
        pid = process.pid
        assert pid is not None
        seen: dict[int, psutil.Process] = {}
        timed_out = False
        try:
            timed_out = not _join_watching(process, start + test_run.suite_timeout, seen)
            if timed_out:
                process.terminate()  # POSIX: SIGTERM, it kills its worker; Windows: ends it
                _join_watching(process, time.monotonic() + _TERM_GRACE, seen)
        finally:
            for child in seen.values():  # its worker, even once the test process is gone
                with contextlib.suppress(psutil.Error):
                    child.kill()
            portable_run.kill_tree(pid)
            returncode = _ended(process)
        stdout, stderr = _read_capped(out.path, cap), _read_capped(err.path, cap)
    return _outcome(returncode, timed_out, stdout, stderr, time.monotonic() - start)


def _join_watching(process: multiprocessing.process.BaseProcess, deadline: float,
                   seen: dict[int, psutil.Process]) -> bool:
    """Wait for `process` up to `deadline`, noting the processes it starts; True if it ended."""
    from grader.sandbox import portable_run

    while time.monotonic() < deadline:
        process.join(min(deadline - time.monotonic(), 0.25))
        if process.exitcode is not None:
            return True
        assert process.pid is not None
        for child in portable_run.descendants(process.pid):
            seen.setdefault(child.pid, child)
    return process.exitcode is not None


def _read_capped(path: str, cap: int) -> Capture:
    """A spawned test process's output file, kept as a pipe's would be (capped)."""
    capture = Capture(cap)
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 16):
                capture.feed(chunk)
    except OSError:
        pass
    return capture


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
