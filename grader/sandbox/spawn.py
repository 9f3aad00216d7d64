"""[parent, test process] Spawn a run, set its limits between fork and exec, drain it, and end it.

Everything here works at every level: the backend (grader.sandbox.backend,
grader.sandbox.bwrap) says what differs. When the grader runs as root every
run also drops to a uid of its own (from `_RUN_UID_BASE`): it cannot signal
the grader, RLIMIT_NPROC applies, and every process left with that uid is
killed when the run ends. The grader's own trusted test processes
(grader/test_launch.py) are drained with the same `Capture` and `Pump`.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from grader import posix
from grader.posix import resource  # None on Windows, where nothing is spawned
from grader.sandbox import keyring, seccomp
from grader.sandbox.cgroups import (
    RunCgroups,
    cgroup_kill,
    cgroup_remove,
    fork_refusals,
    joiner,
    kill_pid,
    oom_kills,
    run_cgroups,
)
from grader.sandbox.policy import Limits, Outcome, Policy

if TYPE_CHECKING:
    from grader.sandbox.detect import Setup

_CHUNK = 64 << 10
_TAIL = 4 << 10  # bytes of stderr kept apart from the capture, to recognise a MemoryError
_DRAIN_GRACE = 1.0  # seconds to wait for pipes to close once the main process is gone
_SIGNAL_REASONS: dict[int, str] = {  # POSIX's: Windows has neither signal
    int(number): reason for name, reason in (("SIGXCPU", "cpu time"), ("SIGXFSZ", "file size"))
    if (number := getattr(signal, name, None)) is not None
}
_PR_SET_PDEATHSIG = 1
_RUN_UID_BASE = 200_000  # root: run k of grader process p runs as a uid of its own from here
_run_ids = itertools.count()
_libc = ctypes.CDLL(None, use_errno=True) if os.name == "posix" else None  # Windows: no libc
_HAS_PRCTL = posix.LINUX and hasattr(_libc, "prctl")  # macOS has no prctl


class Capture:
    """One output stream: the first `cap` bytes, a count of the rest, and a short tail."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.head = bytearray()
        self.dropped = 0
        self.tail = b""

    def feed(self, data: bytes) -> None:
        room = self.cap - len(self.head)
        if room > 0:
            self.head += data[:room]
        self.dropped += max(0, len(data) - max(room, 0))
        self.tail = (self.tail + data)[-_TAIL:]

    def text(self) -> str:
        text = self.head.decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n[… output truncated: {self.dropped} more bytes discarded …]\n"
        return text


def run_with(setup: Setup, argv: Sequence[str], workdir: Path, policy: Policy,
             env: dict[str, str],
             on_start: Callable[[Callable[[], None]], None] | None = None) -> Outcome:
    """Run `argv` under `setup` (the machine's, or a probe's) and `policy`; see sandbox.run."""
    backend = setup.backend
    child_env = {**env, "HOME": str(workdir)}
    if backend.portable:
        from grader.sandbox import portable_run  # imports this module: not at the top

        return portable_run.run(setup, argv, workdir, policy, child_env, on_start)
    uid = _next_uid() if setup.drop_uid else None
    if uid is not None:
        for path in [*policy.writable, workdir]:
            _give(Path(path), uid)
    cgroups = run_cgroups(setup.cgroup, setup.memory, policy.limits, backend.extra_tasks)
    extra_fd: int | None = None
    try:
        command, extra_fd = backend.command(setup, argv, workdir, policy, child_env, uid)
        pass_fds = [*policy.pass_fds, *([] if extra_fd is None else [extra_fd])]
        return _spawn_and_wait(setup, command, workdir, policy.limits, child_env, cgroups, uid,
                               pass_fds, on_start)
    finally:
        if extra_fd is not None:
            os.close(extra_fd)
        for cgroup, path in cgroups:
            cgroup_remove(cgroup, path)
        if uid is not None and not backend.own_pid_namespace:  # else its pid 1 took them all
            _kill_uid(uid)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _next_uid() -> int:
    """A uid no other live run of ours uses: 100 per grader process (by pid), reused in turn."""
    return _RUN_UID_BASE + os.getpid() * 100 + next(_run_ids) % 100


def _give(path: Path, uid: int) -> None:
    """chown a writable tree to the run's uid (symlinks themselves, never their targets).

    The top folder becomes 0700: other runs' uids cannot look in.
    """
    os.lchown(path, uid, uid)
    os.chmod(path, 0o700)
    if path.is_dir() and not path.is_symlink():
        for folder, dirs, files in os.walk(path):
            for name in dirs + files:
                os.lchown(os.path.join(folder, name), uid, uid)


def _kill_uid(uid: int) -> None:
    """SIGKILL every process left with the run's uid, wherever it went (kill -1 as that uid)."""
    def become() -> None:
        os.setresuid(uid, uid, uid)

    for _ in range(3):  # a second pass for what forked during the first
        subprocess.run(["kill", "-9", "-1"], preexec_fn=become, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)


def _spawn_and_wait(setup: Setup, command: list[str], workdir: Path, limits: Limits,
                    env: dict[str, str], cgroups: RunCgroups, uid: int | None,
                    pass_fds: Sequence[int] = (),
                    on_start: Callable[[Callable[[], None]], None] | None = None) -> Outcome:
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True, pass_fds=tuple(pass_fds),
            preexec_fn=_preexec(setup, limits, cgroups, uid),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        message = f"cannot start {command[0]}: {exc}\n"
        return Outcome(127, False, "", message, time.monotonic() - start, "")
    out, err = Capture(limits.output_bytes), Capture(limits.output_bytes)
    kill = _killer(proc, cgroups)
    if on_start is not None:
        on_start(kill)
    try:
        timed_out = _pump(proc, out, err, start + limits.wall_seconds, kill)
    finally:
        kill()
        proc.wait()
    duration = time.monotonic() - start
    return outcome(setup, proc.returncode, timed_out, out, err, duration,
                    fork_refusals(cgroups), sum(oom_kills(path) for _, path in cgroups))


def _killer(proc: subprocess.Popen[bytes], cgroups: RunCgroups) -> Callable[[], None]:
    """Kill the whole run: its process group, and every task of its cgroups."""

    def kill() -> None:
        _signal_group(proc.pid, signal.SIGKILL)
        if proc.returncode is None:  # not reaped yet, so the pid is still ours
            kill_pid(proc.pid)
        for cgroup, path in cgroups:
            cgroup_kill(cgroup, path)

    return kill


class Pump:
    """Drains a child's two pipes and notices its exit, all in the calling thread.

    One selector on stdout, stderr and a file descriptor that becomes readable
    when the child ends (a pidfd, or a sentinel pipe): no threads, no polling,
    and a full pipe never blocks the child. `ended` is asked only when there
    is no such descriptor (old kernel: no pidfd). The caller closes the pipes.
    """

    def __init__(self, streams: Sequence[tuple[int, Capture]], exit_fd: int | None,
                 ended: Callable[[], bool]) -> None:
        self.selector = selectors.DefaultSelector()
        for fd, capture in streams:
            self.selector.register(fd, selectors.EVENT_READ, capture)
        self.exit_fd = exit_fd
        if exit_fd is not None:
            self.selector.register(exit_fd, selectors.EVENT_READ, None)
        self.ended = ended
        self.open_pipes = len(streams)
        self.exited = False

    def step(self, wait: float) -> None:
        """Wait up to `wait` seconds for output or the exit, and take what came."""
        if self.exit_fd is None and not self.exited:
            wait = min(wait, 0.02)  # nothing to wait on for the exit: poll it
        for key, _ in self.selector.select(max(wait, 0.0)):
            if key.data is None:
                self.selector.unregister(key.fileobj)
                self.exited = True
            elif not _read_into(key.fd, key.data):
                self.selector.unregister(key.fileobj)
                self.open_pipes -= 1
        if self.exit_fd is None and not self.exited and self.ended():
            self.exited = True

    def close(self) -> None:
        self.selector.close()


def _pump(proc: subprocess.Popen[bytes], out: Capture, err: Capture, deadline: float,
          kill: Callable[[], None]) -> bool:
    """Drain until the main process ends, kill what is left, drain the rest; True on timeout.

    The exit is seen before the process is reaped, so its process group id
    cannot have been reused when `kill` runs.
    """
    assert proc.stdout is not None and proc.stderr is not None
    pidfd = _pidfd(proc.pid)
    pump = Pump([(proc.stdout.fileno(), out), (proc.stderr.fileno(), err)], pidfd,
                lambda: proc.poll() is not None)
    try:
        while not pump.exited and time.monotonic() < deadline:
            pump.step(deadline - time.monotonic())
        timed_out = not pump.exited
        kill()  # on timeout the whole run; otherwise whatever it left running
        grace_end = time.monotonic() + _DRAIN_GRACE
        while pump.open_pipes and time.monotonic() < grace_end:
            pump.step(grace_end - time.monotonic())
    finally:
        pump.close()
        if pidfd is not None:
            os.close(pidfd)
        proc.stdout.close()  # a leftover still writing gets EPIPE, not us
        proc.stderr.close()
    return timed_out


def _pidfd(pid: int) -> int | None:
    """A descriptor readable when `pid` ends (Linux 5.3+; elsewhere None: the exit is polled)."""
    if not posix.LINUX:
        return None
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _read_into(fd: int, capture: Capture) -> bool:
    data = os.read(fd, _CHUNK)
    if not data:
        return False
    capture.feed(data)
    return True


def outcome(setup: Setup, rc: int | None, timed_out: bool, out: Capture, err: Capture,
            duration: float, fork_refusals: int, oom_kills: int = 0) -> Outcome:
    """How a run ended, its reason read from the signal, the counters and stderr's tail."""
    if timed_out:
        return Outcome(None, True, out.text(), err.text(), duration, "timeout")
    assert rc is not None
    rc = setup.backend.returncode(rc)
    reason = ""
    if rc != 0 and oom_kills:  # the memory cgroup's OOM killer took one of the run's processes
        reason = "memory"
    elif rc < 0:
        reason = _SIGNAL_REASONS.get(-rc, f"signal {-rc}")
    elif rc != 0 and b"MemoryError" in err.tail:
        reason = "memory"
    elif rc != 0 and b"File too large" in err.tail:
        reason = "file size"
    elif rc != 0 and fork_refusals:
        reason = "process limit"
    return Outcome(rc, False, out.text(), err.text(), duration, reason)


# --------------------------------------------------------------------------- the child side


def _preexec(setup: Setup, limits: Limits, cgroups: RunCgroups,
             uid: int | None) -> Callable[[], None]:
    """What the child does between fork and exec: plain syscalls only, nothing imported.

    The keyring is joined before the backend's own steps (bwrap inherits it);
    the filter is loaded last, after the steps it denies (unshare), unless the
    backend applies it itself after its own set-up (bwrap --seccomp).
    """
    backend = setup.backend
    joins = [joiner(cgroup, path) for cgroup, path in cgroups]
    join_keyring = keyring.joiner(setup.keyring) if setup.keyring else None
    load_filter = (seccomp.loader(setup.bpf) if setup.seccomp and not backend.applies_filter
                   else None)
    enter = backend.enter(setup)
    nproc = uid is not None or backend.nproc_in_child(setup)
    drop = None if backend.drops_uid else uid
    die = not backend.dies_with_parent
    parent = os.getpid()

    def child() -> None:
        for join in joins:
            join()
        if die:
            die_with_parent(parent)
        if join_keyring is not None:
            join_keyring()
        if enter is not None:
            enter()
        _set_limit(resource.RLIMIT_AS, limits.memory_bytes)
        _set_limit(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1)
        _set_limit(resource.RLIMIT_FSIZE, limits.file_bytes)
        _set_limit(resource.RLIMIT_CORE, 0)
        _set_limit(resource.RLIMIT_NOFILE, limits.open_files)
        if nproc:
            _set_limit(resource.RLIMIT_NPROC, limits.max_processes)
        if drop is not None:
            os.setgroups([])
            os.setresgid(drop, drop, drop)
            os.setresuid(drop, drop, drop)
        if load_filter is not None:
            load_filter()

    return child


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    """Lower a limit, never above the current hard limit (non-root cannot raise it).

    A limit the OS refuses (macOS has no usable RLIMIT_AS) is skipped rather
    than failing the run: the wall-clock kill still bounds it.
    """
    if not posix.available("resource"):
        return
    try:
        _cur_soft, cur_hard = resource.getrlimit(which)
        hard = soft if hard is None else hard
        if cur_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, cur_hard), min(hard, cur_hard)
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):
        pass


def die_with_parent(parent: int) -> None:
    """SIGKILL us when the thread that spawned us exits (the grader died); Linux only."""
    if _HAS_PRCTL and _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(137)
