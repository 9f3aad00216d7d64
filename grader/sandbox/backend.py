"""[parent, test process] What each isolation level does differently, one object per level.

Detection picks the level once (grader.sandbox.detect); everything that
differs between levels is a method or attribute of its backend, so the rest of
the package never asks which level it runs at. The levels without
bubblewrap live here; bubblewrap's is grader.sandbox.bwrap.Bwrap.
"""

from __future__ import annotations

import ctypes
import functools
import os
import socket
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from grader import posix
from grader.posix import fcntl  # Linux only here: the unshare level
from grader.sandbox.policy import Policy

if TYPE_CHECKING:
    from grader.sandbox.detect import Setup

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_libc = ctypes.CDLL(None, use_errno=True) if os.name == "posix" else None  # Windows: no libc


class Backend:
    """The weakest level, `rlimits`: the command runs as it is, in a process group of its own.

    The child's preexec (grader.sandbox.spawn) does the rest: the parent-death
    signal, rlimits, the uid drop when there is a run uid, the syscall filter.
    """

    name = "rlimits"
    summary = "rlimits and a process group only"
    extra_tasks = 0  # processes of the level itself, counted in the run's pids.max
    own_pid_namespace = False  # its pid 1 takes every process along: no sweep by uid
    applies_filter = False  # it loads the syscall filter itself, after its own set-up
    drops_uid = False  # it drops to the run's uid itself
    dies_with_parent = False  # it ends with the thread that spawned it by itself
    portable = False  # spawned the portable way (grader.sandbox.portable_run): no fork, no preexec

    def command(self, setup: Setup, argv: Sequence[str], workdir: Path, policy: Policy,
                env: dict[str, str], uid: int | None) -> tuple[list[str], int | None]:
        """The command to spawn, and a file descriptor to pass and close afterwards (or None)."""
        return list(argv), None

    def enter(self, setup: Setup) -> Callable[[], None] | None:
        """What the child does to isolate itself, before its limits are set (None: nothing)."""
        return None

    def nproc_in_child(self, setup: Setup) -> bool:
        """Whether the child sets RLIMIT_NPROC as the fork guard without a run uid."""
        return False

    def nproc_guard_works(self) -> bool:
        """Whether RLIMIT_NPROC can be set inside this level's user namespace."""
        return True

    def returncode(self, rc: int) -> int:
        """The run's return code as subprocess reports it (-N for signal N)."""
        return rc

    def export(self) -> dict[str, str]:
        """What this level made once and hands to the grader's own processes."""
        return {}


class Process(Backend):
    """`process`, the weakest: the worker is a process of its own and nothing more (Windows).

    For `grader check` on a student's own machine where POSIX process controls
    do not exist: no rlimits, no process group, no uid, no filter. The run is
    spawned without fork or preexec, drained by threads, bounded by its
    wall-clock limit and output caps, and ended by killing its process tree
    (grader.sandbox.portable_run). Teachers' commands refuse it unless asked for.
    """

    name = "process"
    summary = ("a process of its own only: no rlimits, no namespaces, no syscall filter, "
               "no uid of its own; wall-clock kill of its process tree and output caps")
    portable = True


class Setpriv(Backend):
    """`setpriv`: root without namespaces; each run drops to a uid of its own (in preexec)."""

    name = "setpriv"
    summary = "setpriv (no namespaces: the network and the system are visible)"


class Unshare(Backend):
    """`unshare`: a network namespace of its own (and a user namespace when not root)."""

    name = "unshare"
    summary = "unshare --net (no network; the system is not read-only)"

    def enter(self, setup: Setup) -> Callable[[], None] | None:
        return functools.partial(_unshare_net, setup.userns)

    def nproc_in_child(self, setup: Setup) -> bool:
        return setup.nproc_guard


def _unshare_net(userns: bool) -> None:
    """New network namespace (plus a user namespace if not root), with loopback up."""
    assert _libc is not None and posix.LINUX  # detection offers `unshare` on Linux only
    uid, gid = os.getuid(), os.getgid()
    flags = _CLONE_NEWNET | (_CLONE_NEWUSER if userns else 0)
    if _libc.unshare(flags) != 0:
        raise OSError(ctypes.get_errno(), "unshare failed")
    if userns:
        _write_proc("/proc/self/setgroups", b"deny")
        _write_proc("/proc/self/uid_map", f"{uid} {uid} 1".encode())
        _write_proc("/proc/self/gid_map", f"{gid} {gid} 1".encode())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags_now = struct.unpack("16sH14x", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags_now | _IFF_UP))


def _write_proc(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
