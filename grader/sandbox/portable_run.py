"""[parent, test process] The `process` level's run: spawn, drain and end it without POSIX controls.

Where there is no fork, no preexec, no inherited descriptors beyond the
standard three and no `select` on pipes (Windows), a run is still a process of
its own, spawned plainly; threads drain its pipes (capped as at every level),
its wall-clock limit is kept from here, and it ends by killing its process
tree, found with psutil (a process group exists only on POSIX). The same path
runs on any system when the level is `process`, so it is tested on Linux too.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

import psutil

from grader.sandbox.policy import Outcome, Policy

if TYPE_CHECKING:
    from grader.sandbox.detect import Setup
    from grader.sandbox.spawn import Capture

_CHUNK = 64 << 10
_DRAIN_GRACE = 1.0  # seconds to wait for the pipes to close once the tree is killed
_WATCH_EVERY = 0.25  # seconds between two looks at the run's process tree
_NEW_GROUP = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)  # Windows: Ctrl-C stays ours
_WINDOWS_ENV = ("SYSTEMROOT", "WINDIR")  # Python cannot start on Windows without SYSTEMROOT


def run(setup: Setup, argv: Sequence[str], workdir: Path, policy: Policy, env: dict[str, str],
        on_start: Callable[[Callable[[], None]], None] | None = None) -> Outcome:
    """Run `argv` as a plain process; `policy.stdout`, if set, is its stdout (else captured)."""
    from grader.sandbox.spawn import Capture, outcome

    start = time.monotonic()
    limits = policy.limits
    try:
        proc = subprocess.Popen(
            list(argv), cwd=workdir, env=_with_system_env(env), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if policy.stdout is None else policy.stdout,
            stderr=subprocess.PIPE, creationflags=_NEW_GROUP)
    except (OSError, subprocess.SubprocessError) as exc:
        return Outcome(127, False, "", f"cannot start {argv[0]}: {exc}\n",
                       time.monotonic() - start, "")
    out, err = Capture(limits.output_bytes), Capture(limits.output_bytes)
    drains = [_drain(stream, capture) for stream, capture in ((proc.stdout, out),
                                                              (proc.stderr, err))
              if stream is not None]
    tree = Tree(proc)
    if on_start is not None:
        on_start(tree.kill)
    deadline = start + limits.wall_seconds
    try:
        timed_out = tree.watch_until(deadline)
    finally:
        tree.kill()
        proc.wait()
        for drain in drains:
            drain.join(_DRAIN_GRACE)
    return outcome(setup, proc.returncode, timed_out, out, err, time.monotonic() - start, 0)


class Tree:
    """A run's process and every process it started, seen while they live, killed at the end.

    Descendants are looked up while their parents live (on Windows a process
    whose parent died can no longer be found from the root), so the tree is
    watched as the run goes and every process ever seen in it is killed.
    psutil refuses to signal a pid that now belongs to another process.
    """

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.seen: dict[int, psutil.Process] = {}
        self._lock = threading.Lock()
        self.look()

    def look(self) -> None:
        """Add the run's current descendants to those seen."""
        with self._lock:
            try:
                root = psutil.Process(self.proc.pid)
                found = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            for process in found:
                self.seen.setdefault(process.pid, process)

    def watch_until(self, deadline: float) -> bool:
        """Wait for the run's end, looking at its tree meanwhile; True if the deadline came."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            try:
                self.proc.wait(min(left, _WATCH_EVERY))
                return False
            except subprocess.TimeoutExpired:
                self.look()

    def kill(self) -> None:
        """Kill the run and everything of it seen (callable from any thread, more than once)."""
        if self.proc.returncode is None:  # not reaped: its pid is still ours
            self.look()
        with self._lock:
            processes = list(self.seen.values())
        _kill_all(processes)


def kill_tree(pid: int) -> None:
    """Kill `pid` and its descendants (a trusted test process and its worker, on Windows)."""
    try:
        root = psutil.Process(pid)
        processes = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    _kill_all(processes)


def _kill_all(processes: list[psutil.Process]) -> None:
    """SIGKILL (TerminateProcess) each, gone or not, and wait a little for them to end."""
    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(processes, timeout=_DRAIN_GRACE)


def descendants(pid: int) -> list[psutil.Process]:
    """The processes `pid` started, and theirs ([] when it is gone)."""
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return []


def _drain(stream: IO[bytes], capture: Capture) -> threading.Thread:
    """A thread reading `stream` to its end into `capture`: no `select` on Windows pipes."""
    def read() -> None:
        try:
            while chunk := os.read(stream.fileno(), _CHUNK):
                capture.feed(chunk)
        except (OSError, ValueError):
            pass
        finally:
            stream.close()

    thread = threading.Thread(target=read, name="grader-run-drain", daemon=True)
    thread.start()
    return thread


def _with_system_env(env: dict[str, str]) -> dict[str, str]:
    """The run's environment, plus what Windows needs for any process to start."""
    if os.name != "nt":
        return dict(env)
    return {**{k: os.environ[k] for k in _WINDOWS_ENV if k in os.environ}, **env}
