"""[parent, test process] What one sandboxed run may use and see, as one value (`Policy`).

The rest of the package reads a run's limits and host paths from here only, so
what a run is allowed is visible in one place, whatever the level enforces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Limits:
    """What one run may use; generous enough for a pytest run with aiohttp."""

    wall_seconds: float
    cpu_seconds: int = 120
    memory_bytes: int = 1 << 30  # RLIMIT_AS, per process
    # The memory cgroup's limit: every process of the run together, with what it
    # wrote to its private /tmp and /dev/shm. Above memory_bytes plus both tmpfs
    # (2 x file_bytes), so one process meets its RLIMIT_AS (a MemoryError it can
    # see) before the cgroup's OOM killer, which is there for the run's total.
    run_memory_bytes: int = 3 << 29
    file_bytes: int = 64 << 20  # RLIMIT_FSIZE, also the size of the private /tmp
    folder_bytes: int = 96 << 20  # the run's folder at bwrap level: the copy and all it writes
    max_processes: int = 64  # tasks (processes and threads): the fork-bomb guard
    open_files: int = 256  # RLIMIT_NOFILE
    output_bytes: int = 256 << 10  # per stream; the rest is read and discarded


@dataclass(frozen=True)
class Policy:
    """One run's whole allowance: its limits, and what it sees besides the system.

    `readable` is shown read-only, `writable` read-write (and handed to the
    run's uid), `hidden` covered by an empty folder (bwrap only); `pass_fds`
    are inherited file descriptors (a channel to the grader). `stdout`, at the
    `process` level only (where nothing but the standard three descriptors can
    be inherited), is a descriptor to become the run's stdout instead of a
    captured pipe.
    """

    limits: Limits
    readable: Sequence[Path] = ()
    writable: Sequence[Path] = ()
    hidden: Sequence[Path] = ()
    pass_fds: Sequence[int] = ()
    stdout: int | None = None


@dataclass
class Outcome:
    """How a run ended, with its (capped) output."""

    returncode: int | None  # None if we killed it (timeout); -N if a signal N killed it
    timed_out: bool
    stdout: str
    stderr: str
    duration: float
    killed_reason: str  # "", "timeout", "memory", "cpu time", "file size", "signal N", ...
