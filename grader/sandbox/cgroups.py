"""[parent, test process] The pids and memory cgroups a run joins, found, probed, made and removed.

A fork bomb meets pids.max and the run's memory as a whole meets the memory
cgroup's limit; both are per run, named grader-<pid>-<k>, and swept when a
grader process died without removing its own.
"""

from __future__ import annotations

import errno
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.policy import Limits

_run_ids = itertools.count()


@dataclass(frozen=True)
class Cgroup:
    """A cgroup directory (pids or memory) under which each run gets a cgroup of its own."""

    parent: Path
    version: int


def find_cgroup(controller: str = "pids") -> Cgroup | None:
    """A pids or memory cgroup we may create children in (v1 hierarchy or v2 root), probed."""
    for candidate in cgroup_candidates(controller):
        if _cgroup_works(candidate, controller):
            _sweep_stale(candidate)
            return candidate
    return None


def cgroup_candidates(controller: str = "pids") -> list[Cgroup]:
    own = _own_cgroups()
    found = []
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in mountinfo:
        fields = line.split(" - ")
        if len(fields) != 2:
            continue
        mount_point = Path(fields[0].split()[4])
        fstype, _source, options = (fields[1].split() + ["", ""])[:3]
        if fstype == "cgroup" and controller in options.split(","):
            inner = own.get(controller, "/").lstrip("/")
            parent = mount_point / inner if (mount_point / inner).is_dir() else mount_point
            found.append(Cgroup(parent, 1))
        elif fstype == "cgroup2" and _v2_has(mount_point, controller):
            found.append(Cgroup(mount_point, 2))
    return found


def _own_cgroups() -> dict[str, str]:
    """controller -> our cgroup path, from /proc/self/cgroup."""
    result = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _id, controllers, path = line.split(":", 2)
            for name in controllers.split(","):
                result[name] = path
    except (OSError, ValueError):
        pass
    return result


def _v2_has(mount_point: Path, controller: str) -> bool:
    try:
        return controller in (mount_point / "cgroup.subtree_control").read_text().split()
    except OSError:
        return False


_CGROUP_PROBES = {  # what each controller's probe runs, and what it must see
    # pids.max of 1: the fork is refused
    "pids": "import os\ntry:\n    os.fork() or os._exit(0)\nexcept OSError:\n    print('ok')",
    # 48 MiB for the run: 128 MiB written is killed by the cgroup's OOM killer
    "memory": "hoard = b'x' * (128 << 20)\nprint('not stopped')",
}
_PROBE_MEMORY = 48 << 20


def _cgroup_works(cgroup: Cgroup, controller: str = "pids") -> bool:
    """Create a cgroup, move a real process into it, and see its limit stop the process."""
    try:
        if controller == "pids":
            path = _cgroup_create(cgroup, _pids_settings(1))
        else:
            path = _cgroup_create(cgroup, _memory_settings(cgroup, _PROBE_MEMORY))
    except OSError:
        return False
    try:
        probe = subprocess.run([sys.executable, "-I", "-S", "-c", _CGROUP_PROBES[controller]],
                               capture_output=True, text=True, timeout=10,
                               preexec_fn=joiner(cgroup, path))
        if controller == "pids":
            return probe.stdout.strip() == "ok"
        return probe.returncode == -signal.SIGKILL and oom_kills(path) > 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        cgroup_remove(cgroup, path)


def _sweep_stale(cgroup: Cgroup) -> None:
    """Remove empty run cgroups left behind by grader processes that died.

    Only rmdir, never kill: in a container the pid in the name may belong to
    a live grader we cannot see, and rmdir fails harmlessly on a busy cgroup.
    """
    for path in cgroup.parent.glob("grader-*-*"):
        pid = path.name.split("-")[1]
        if pid.isdigit() and not alive(int(pid)):
            try:
                path.rmdir()
            except OSError:
                pass


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cgroup_create(cgroup: Cgroup, settings: dict[str, str], name: str = "") -> Path:
    """A run's cgroup with its limits written (in order); nothing left behind on failure."""
    path = cgroup.parent / (name or f"grader-{os.getpid()}-{next(_run_ids)}")
    path.mkdir()
    try:
        _cgroup_write(path, settings)
    except OSError:
        path.rmdir()
        raise
    return path


_SWAP_FILES = ("memory.swap.max", "memory.memsw.limit_in_bytes")  # only with swap accounting


def _cgroup_write(path: Path, settings: dict[str, str]) -> None:
    for file, value in settings.items():
        if file not in _SWAP_FILES or (path / file).exists():
            (path / file).write_text(value)


def _pids_settings(max_tasks: int) -> dict[str, str]:
    return {"pids.max": str(max_tasks)}


def _memory_settings(cgroup: Cgroup, limit: int) -> dict[str, str]:
    """The run's memory limit, swap included (a swapping run is only slower, not stopped)."""
    if cgroup.version == 2:
        return {"memory.max": str(limit), "memory.swap.max": "0"}
    # memsw (memory + swap) after the limit: it may not be set below it
    return {"memory.limit_in_bytes": str(limit), "memory.memsw.limit_in_bytes": str(limit)}


RunCgroups = list[tuple[Cgroup, Path]]  # the cgroups one run joins: pids, memory


def run_cgroups(pids: Cgroup | None, memory: Cgroup | None, limits: Limits,
                extra_tasks: int = 0) -> RunCgroups:
    """Create the run's cgroups; one the machine refuses now is left out (the run goes on).

    On v2 pids and memory live in one hierarchy, and a process is in one cgroup
    of it: the memory limit is then written into the pids cgroup. `extra_tasks`
    are the level's own processes (bwrap's two), counted on top of the run's.
    """
    made: RunCgroups = []
    if pids is not None:
        try:
            path = _cgroup_create(pids, _pids_settings(limits.max_processes + extra_tasks))
            made.append((pids, path))
        except OSError:
            pass  # cgroupfs went away since detection: run without the guard
    if memory is not None:
        settings = _memory_settings(memory, limits.run_memory_bytes)
        try:
            if made and made[0][0].parent == memory.parent:
                _cgroup_write(made[0][1], settings)
            else:
                name = made[0][1].name if made else ""  # the same name in both hierarchies
                made.append((memory, _cgroup_create(memory, settings, name)))
        except OSError:
            pass  # RLIMIT_AS still bounds each process
    return made


def cgroup_kill(cgroup: Cgroup, path: Path) -> None:
    """Kill every task of the run, including ones that left its process group."""
    if cgroup.version == 2 and (path / "cgroup.kill").exists():
        try:
            (path / "cgroup.kill").write_text("1")
            return
        except OSError:
            pass
    killed: set[int] = set()
    for _ in range(50):  # repeat for tasks forked while we were killing
        try:
            pids = {int(p) for p in (path / "cgroup.procs").read_text().split()}
        except OSError:
            return
        if pids <= killed:  # what is left are zombies waiting to be reaped
            return
        for pid in pids - killed:
            kill_pid(pid)
        killed |= pids


def cgroup_remove(cgroup: Cgroup, path: Path) -> None:
    """rmdir the run's cgroup; tasks take a moment to leave it after SIGKILL."""
    deadline = time.monotonic() + 2
    while True:
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                return  # left for _sweep_stale of a later grader process
        cgroup_kill(cgroup, path)
        time.sleep(0.002)


def fork_refusals(cgroups: RunCgroups) -> int:
    """How many forks pids.max refused during the run (for killed_reason)."""
    return sum(_counter(path / "pids.events", "max") for _, path in cgroups)


def oom_kills(path: Path) -> int:
    """Processes of the cgroup its memory limit's OOM killer killed (v2 events, v1 oom_control).

    Kernels before 4.13 count no kills in v1: there, hitting the limit at all
    (failcnt) is the best sign left.
    """
    if (path / "memory.events").exists():
        return _counter(path / "memory.events", "oom_kill")
    kills = _counter(path / "memory.oom_control", "oom_kill", missing=-1)
    return kills if kills >= 0 else _counter(path / "memory.failcnt", "")


def _counter(file: Path, key: str, missing: int = 0) -> int:
    """One `key value` line of a cgroup file (key "" for a file that is one number)."""
    try:
        for line in file.read_text().splitlines():
            name, _, value = line.rpartition(" ") if key else ("", "", line)
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return missing


def kill_pid(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def joiner(cgroup: Cgroup, cgroup_dir: Path) -> Callable[[], None]:
    """Move the (just forked, single-threaded) child into the run's cgroup.

    On v1 we write our own thread to `tasks`: moving one thread skips the
    kernel-wide threadgroup lock that `cgroup.procs` takes, whose RCU wait
    cost about 10 ms per run here. v2 has no such per-thread file.
    """
    name = "tasks" if cgroup.version == 1 else "cgroup.procs"
    procs = os.fsencode(cgroup_dir / name)

    def join() -> None:
        fd = os.open(procs, os.O_WRONLY)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)

    return join
