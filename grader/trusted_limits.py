"""[parent] Memory limits for the grader's own (trusted) processes: the parent and each test one.

Student code never runs in these processes, but it feeds them data (HTTP
requests to the trusted web, lines on the worker's channel), so a missed
bound there would let a submission grow them without end. The caps on that
data are the first defence; these limits are the backstop that turns a
leak into a clear internal error instead of a machine out of memory.

RLIMIT_DATA, not RLIMIT_AS and not a memory cgroup: it counts the private
writable memory a process has actually mapped (heap, malloc arenas in use,
thread stacks), which is what a flood grows, while RLIMIT_AS also counts
address space reserved and never used (64 MiB per malloc arena, so it grows
with the thread count, not with use: a test process maps about 340 MiB to
use 70). It needs no writable cgroup, works as root and as a user at every
isolation level, and bounds each process on its own.
"""

from __future__ import annotations

from grader import posix
from grader.posix import resource

MIB = 1 << 20
# A test process uses about 75 MiB of data (measured: VmData 73 MiB, peak RSS 62 MiB, demo
# class at -j 2); ten times that leaves room for any honest run, and the caps on what the
# worker can feed it (grader/worker_reply.py, grader/suites/web.py) keep it far below.
TEST_PROCESS_BYTES = 768 * MIB
# The parent: about 70 MiB (demo class, -j 2), plus a thread, its stack and a malloc arena per
# job, plus results kept for the whole class (each capped, see grader/runner.py).
PARENT_BASE_BYTES = 1024 * MIB
PARENT_PER_JOB_BYTES = 32 * MIB


def parent_bytes(jobs: int) -> int:
    """The parent's limit at `-j jobs`: grows with the jobs, so no -j N ever hits it."""
    return PARENT_BASE_BYTES + PARENT_PER_JOB_BYTES * max(1, jobs)


def limit_parent(jobs: int) -> None:
    """Called by the CLI before grading: the parent's own limit at `-j jobs`.

    Only the soft limit: the hard one stays, so a later command in the same
    process (the project's tests run the CLI in-process) can set its own, and
    each test process sets its own, lower one (limit_test_process; the sandbox
    sets the worker's RLIMIT_AS). A system that refuses RLIMIT_DATA runs
    without it: the caps on the worker's data still hold.
    """
    if not posix.available("resource"):  # Windows: no such limit to set
        return
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        limit = parent_bytes(jobs)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    except (ValueError, OSError, AttributeError):
        pass


def out_of_memory_message(limit: int) -> str:
    """The internal error of a trusted process at its limit: the grader's failure, not the
    student's (what the worker sends is capped before it is used)."""
    return (f"a trusted test process of the grader reached its memory limit ({limit // MIB} MiB)"
            " and was stopped")


def limit_test_process() -> None:
    """Called by each test process as it starts (grader/test_process.py): its own limit.

    Soft and hard both: the test process (and the worker it starts) cannot
    raise it again. Never above a hard limit already set.
    """
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        limit = TEST_PROCESS_BYTES
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except (ValueError, OSError, AttributeError):
        pass
