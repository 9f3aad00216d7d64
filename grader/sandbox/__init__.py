"""Run one untrusted command: limits, no network, and as much isolation as the machine allows.

Student code runs here (the grader's worker process), never in a process
that judges it. The machine decides what we get, detected once; the levels,
strongest first (`LEVELS`):

1. `bwrap`: bubblewrap with new mount/pid/net/ipc/uts namespaces, a
   read-only system, a private /tmp, loopback up, everything killed with
   the sandbox's pid 1;
2. `unshare`: a network namespace of its own only (no bwrap installed);
3. `setpriv`: no namespaces, but an unprivileged uid of its own (root only);
4. `rlimits`: nothing but rlimits and a process group.

When the grader runs as root every run also drops to a uid of its own
(from `_RUN_UID_BASE`): it cannot signal the grader, RLIMIT_NPROC applies, and every
process left with that uid is killed when the run ends. A fork bomb is also
contained by a pids cgroup of our own when cgroupfs is writable, and the run's
memory as a whole by a memory cgroup. At every level each run gets a fresh
session keyring (sandbox_keyring) and, where libseccomp and the kernel allow,
a seccomp filter (sandbox_seccomp); detection checks both for real.
`isolation()` says what applied; GRADER_SANDBOX=bwrap|unshare|setpriv|rlimits
forces a weaker level (debugging, tests).
"""

from __future__ import annotations

import atexit
import base64
import ctypes
import dataclasses
import errno
import fcntl
import functools
import itertools
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader import sandbox_keyring, sandbox_seccomp, sandbox_view

_CHUNK = 64 << 10
_TAIL = 4 << 10  # bytes of stderr kept apart from the capture, to recognise a MemoryError
_DRAIN_GRACE = 1.0  # seconds to wait for pipes to close once the main process is gone
_ETC_FILES = (
    "passwd", "group", "hosts", "host.conf", "nsswitch.conf", "gai.conf", "localtime",
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "ssl", "ca-certificates", "alternatives",
    "mime.types",
)  # fmt: skip
_SIGNAL_REASONS: dict[int, str] = {
    int(signal.SIGXCPU): "cpu time",
    int(signal.SIGXFSZ): "file size",
}

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_PR_SET_PDEATHSIG = 1

LEVELS = ("bwrap", "unshare", "setpriv", "rlimits")  # strongest first
SETUP_ENV = "GRADER_SANDBOX_SETUP"  # what the grader detected, handed to its own processes
_TERM_GRACE = 5.0  # seconds a trusted process gets to clean up after SIGTERM
_RUN_UID_BASE = 200_000  # root: run k of grader process p runs as a uid of its own from here
_UNSHARE_NO_USER = ("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                    "--unshare-cgroup-try")  # fmt: skip
# What bwrap keeps for its last step: entering the run's folder (owned by the run's uid)
# and setpriv's drop to that uid, which clears every capability before student code runs.
# Before it, CAP_CHOWN and CAP_FOWNER let `cp -a` fill the run's capped folder as the run's uid.
_SETPRIV_CAPS = ("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add",
                 "CAP_SETPCAP", "--cap-add", "CAP_DAC_OVERRIDE", "--cap-add", "CAP_CHOWN",
                 "--cap-add", "CAP_FOWNER")
_ORIGINAL = Path("/run/box/original")  # the host copy, read-only, under a 0700 folder (bwrap)
# The first command in the box: fill the capped folder, then run the real command.
_FILL = 'cp -a -- "$1/." "$2" || exit 125; shift 2; exec "$@"'


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


@dataclass
class Outcome:
    """How a run ended, with its (capped) output."""

    returncode: int | None  # None if we killed it (timeout); -N if a signal N killed it
    timed_out: bool
    stdout: str
    stderr: str
    duration: float
    killed_reason: str  # "", "timeout", "memory", "cpu time", "file size", "signal N", ...


# --------------------------------------------------------------------------- detection


@dataclass(frozen=True)
class _Cgroup:
    """A cgroup directory (pids or memory) under which each run gets a cgroup of its own."""

    parent: Path
    version: int


@dataclass(frozen=True)
class _Setup:
    """What this machine gives us, found once per grader process."""

    kind: str  # one of LEVELS
    bwrap: str = ""
    bwrap_flags: tuple[str, ...] = ()  # user-namespace flags that worked here
    tmpfs_size: bool = False  # bwrap knows --size (0.7+): cap the private /tmp
    userns: bool = False  # the sandbox has a user namespace of its own (non-root only)
    cgroup: _Cgroup | None = None  # pids: the fork guard
    drop_uid: bool = False  # we are root: each run drops to an unprivileged uid of its own
    memory: _Cgroup | None = None  # a memory cgroup per run (v2: may be the pids one's parent)
    keyring: int = 0  # keyctl's call number: each run joins a fresh, empty session keyring
    seccomp: str = ""  # the syscall filter, base64 of libseccomp's BPF; "" = none

    @property
    def nproc_guard(self) -> bool:
        """RLIMIT_NPROC set inside a fresh user namespace counts only the sandbox's tasks."""
        return self.cgroup is None and self.userns and _prlimit_ok(self)

    def describe(self) -> str:
        base = {
            "bwrap": "bubblewrap (no network, read-only system, private /tmp, own pid namespace)",
            "unshare": "unshare --net (no network; the system is not read-only)",
            "setpriv": "setpriv (no namespaces: the network and the system are visible)",
            "rlimits": "rlimits and a process group only",
        }[self.kind]
        if self.drop_uid:
            base += "; an unprivileged uid of its own per run"
        if self.cgroup is not None:
            guard = f"fork guard: pids cgroup v{self.cgroup.version}"
        elif self.nproc_guard:
            guard = "fork guard: RLIMIT_NPROC in a user namespace"
        else:
            guard = "no fork guard (needs a writable pids cgroup or a user namespace)"
        return f"{self.kind}: {base}; {guard}; {'; '.join(self._guards())}"

    def _guards(self) -> list[str]:
        """The guards every level may have: memory cgroup, keyring, syscall filter."""
        return [
            (f"memory: cgroup v{self.memory.version} per run and RLIMIT_AS per process"
             if self.memory is not None else "memory: RLIMIT_AS per process only"),
            ("a fresh session keyring per run" if self.keyring
             else "no keyring of its own (the grader's session keyring is inherited)"),
            (sandbox_seccomp.summary() if self.seccomp
             else "no syscall filter (needs libseccomp and a kernel with seccomp)"),
        ]

    @property
    def bpf(self) -> bytes:
        return base64.b64decode(self.seccomp) if self.seccomp else b""


_setup_lock = threading.Lock()
_shared_etc: list[Path] = []  # the /etc copy of the grader process that started us
_setup_cache: dict[str, _Setup] = {}
_run_ids = itertools.count()
_libc = ctypes.CDLL(None, use_errno=True)
_HAS_PRCTL = hasattr(_libc, "prctl")


def isolation() -> str:
    """Which isolation runs get on this machine, for reports and `grader check`."""
    return _setup().describe()


def level() -> str:
    """The isolation level runs get here: one of LEVELS."""
    return _setup().kind


def syscall_filter() -> str:
    """The syscall filter runs get here, for the per-submission record: "seccomp" or "none"."""
    return "seccomp" if _setup().seccomp else "none"


REQUIREMENTS = (*LEVELS, *(f"{name}+seccomp" for name in LEVELS))  # --require-isolation


def at_least(required: str) -> bool:
    """Whether this machine's level is `required` or stronger ("LEVEL+seccomp": and filtered)."""
    name, _, extra = required.partition("+")
    return (LEVELS.index(level()) <= LEVELS.index(name)
            and (extra != "seccomp" or syscall_filter() == "seccomp"))


def _setup() -> _Setup:
    """Detect once (thread-safe); GRADER_SANDBOX may force a weaker level."""
    with _setup_lock:
        if "setup" not in _setup_cache:
            exported = os.environ.get(SETUP_ENV, "")
            _setup_cache["setup"] = (_import_setup(exported) if exported
                                     else _detect(os.environ.get("GRADER_SANDBOX", "")))
        return _setup_cache["setup"]


def export_setup() -> str:
    """What was detected here, for a process of ours to use without probing again."""
    setup = dataclasses.asdict(_setup())
    for name in ("cgroup", "memory"):
        if setup[name] is not None:
            setup[name]["parent"] = str(setup[name]["parent"])
    if setup["kind"] == "bwrap":
        setup["etc"] = str(_etc_copy())  # made once, here: copying /etc takes ~0.5 s
        setup["view"] = sandbox_view.export()  # likewise the box's view of Python
    return json.dumps(setup)


def _import_setup(text: str) -> _Setup:
    data = json.loads(text)
    cgroups = {name: _Cgroup(Path(found["parent"]), int(found["version"])) if found else None
               for name in ("cgroup", "memory") for found in [data.pop(name, None)]}
    etc = data.pop("etc", None)
    sandbox_view.adopt(data.pop("view", None) or "")
    if etc and Path(etc).is_dir():
        _shared_etc.append(Path(etc))
    return _Setup(**{**data, "bwrap_flags": tuple(data.get("bwrap_flags", ()))}, **cgroups)


def _detect(forced: str) -> _Setup:
    """The strongest level that works here, then the guards every level can add."""
    return _add_guards(_detect_level(forced))


def _detect_level(forced: str) -> _Setup:
    cgroup = _find_cgroup()
    root = os.geteuid() == 0
    weaker = LEVELS[LEVELS.index(forced):] if forced in LEVELS else LEVELS
    bwrap = shutil.which("bwrap") if "bwrap" in weaker else None
    if bwrap and (not root or shutil.which("setpriv")):
        features = _bwrap_features(bwrap)
        variants = [_UNSHARE_NO_USER] if root else _userns_variants(features)
        for flags in variants:
            setup = _Setup("bwrap", bwrap, flags, userns=not root and bool(flags),
                           tmpfs_size="--size" in features, cgroup=cgroup, drop_uid=root)
            if _probe(setup):
                return setup
    # Without a mount namespace the run's uid needs the interpreter to be readable by
    # all (a Python under /root is not): the probe finds out, and we fall back.
    if "unshare" in weaker:
        for drop in ([True, False] if root else [False]):
            setup = _Setup("unshare", userns=not root, cgroup=cgroup, drop_uid=drop)
            if _probe(setup):
                return setup
    if root and "setpriv" in weaker:
        setup = _Setup("setpriv", cgroup=cgroup, drop_uid=True)
        if _probe(setup):
            return setup
    return _Setup("rlimits", cgroup=cgroup)


_PROBE_CODE = """
import socket
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
socket.create_connection(srv.getsockname(), timeout=2).close()
print([name for _, name in socket.if_nameindex()] == ["lo"] and "ok")
"""


def _probe(setup: _Setup, code: str = _PROBE_CODE) -> bool:
    """Check under `setup` that loopback is up and is the only interface: it must really work."""
    with tempfile.TemporaryDirectory(prefix="grader-probe-") as tmp:
        try:
            outcome = _run(setup, [sys.executable, "-I", "-S", "-c", code],
                           Path(tmp), Limits(wall_seconds=10), {}, _Paths())
        except OSError:
            return False
    return outcome.returncode == 0 and outcome.stdout.strip() == "ok"


# A denied call fails with EPERM while fork, a thread (clone3 -> clone) and exec still work.
_FILTER_PROBE_CODE = """
import ctypes, os, subprocess, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
def eperm(rc):
    return rc == -1 and ctypes.get_errno() == 1
threads = []
t = threading.Thread(target=threads.append, args=(1,)); t.start(); t.join()
pid = os.fork()
if pid == 0:
    os._exit(7)
forked = os.waitpid(pid, 0)[1] == 7 << 8
ran = subprocess.run([sys.executable, "-S", "-c", "print(1)"], capture_output=True).stdout
print(eperm(libc.unshare(0)) and eperm(libc.syscall({keyctl}, 0, -3, 0))
      and threads == [1] and forked and ran == b"1\\n" and "ok")
"""


def _add_guards(setup: _Setup) -> _Setup:
    """Memory cgroup, keyring and syscall filter: each used only if it works here, probed."""
    setup = dataclasses.replace(setup, memory=_find_cgroup("memory"),
                                keyring=_keyring_works())
    bpf, keyctl = sandbox_seccomp.build(), sandbox_keyring.keyctl_number()
    if bpf and keyctl is not None:
        filtered = dataclasses.replace(setup, seccomp=base64.b64encode(bpf).decode())
        if _probe(filtered, _FILTER_PROBE_CODE.format(keyctl=keyctl)):
            return filtered
    return setup


def _keyring_works() -> int:
    """keyctl's number if a child that joined a fresh session keyring reports another one."""
    number, ours = sandbox_keyring.keyctl_number(), sandbox_keyring.session_keyring()
    if number is None:  # ours may be -1 (no session keyring yet): the child's is then new
        return 0
    code = (f"import ctypes; print(ctypes.CDLL(None).syscall({number}, "
            f"{sandbox_keyring.KEYCTL_GET_KEYRING_ID}, "
            f"{sandbox_keyring.KEY_SPEC_SESSION_KEYRING}, 0))")
    try:
        probe = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True,
                               text=True, timeout=10, preexec_fn=sandbox_keyring.joiner(number))
    except (OSError, subprocess.SubprocessError):
        return 0
    theirs = probe.stdout.strip()
    return number if theirs.isdigit() and int(theirs) not in (ours, 0) else 0


def _bwrap_features(bwrap: str) -> set[str]:
    """The options this bwrap understands (Ubuntu 22.04 ships 0.6, without --size)."""
    try:
        text = subprocess.run([bwrap, "--help"], capture_output=True, text=True,
                              timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {word for word in text.split() if word.startswith("--")}


def _userns_variants(features: set[str]) -> list[tuple[str, ...]]:
    """User-namespace flags to try, strongest first; none at all as the last resort."""
    variants: list[tuple[str, ...]] = []
    if "--disable-userns" in features:
        variants.append(("--unshare-user", "--disable-userns"))
    return [*variants, ("--unshare-user",), ()]


def _prlimit_ok(setup: _Setup) -> bool:
    return setup.kind != "bwrap" or Path("/usr/bin/prlimit").is_file()


def _find_cgroup(controller: str = "pids") -> _Cgroup | None:
    """A pids or memory cgroup we may create children in (v1 hierarchy or v2 root), probed."""
    for candidate in _cgroup_candidates(controller):
        if _cgroup_works(candidate, controller):
            _sweep_stale(candidate)
            return candidate
    return None


def _cgroup_candidates(controller: str = "pids") -> list[_Cgroup]:
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
            found.append(_Cgroup(parent, 1))
        elif fstype == "cgroup2" and _v2_has(mount_point, controller):
            found.append(_Cgroup(mount_point, 2))
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


def _cgroup_works(cgroup: _Cgroup, controller: str = "pids") -> bool:
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
                               preexec_fn=_joiner(cgroup, path))
        if controller == "pids":
            return probe.stdout.strip() == "ok"
        return probe.returncode == -signal.SIGKILL and _oom_kills(path) > 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        _cgroup_remove(cgroup, path)


def _sweep_stale(cgroup: _Cgroup) -> None:
    """Remove empty run cgroups left behind by grader processes that died.

    Only rmdir, never kill: in a container the pid in the name may belong to
    a live grader we cannot see, and rmdir fails harmlessly on a busy cgroup.
    """
    for path in cgroup.parent.glob("grader-*-*"):
        pid = path.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            try:
                path.rmdir()
            except OSError:
                pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------- cgroups


def _cgroup_create(cgroup: _Cgroup, settings: dict[str, str], name: str = "") -> Path:
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


def _memory_settings(cgroup: _Cgroup, limit: int) -> dict[str, str]:
    """The run's memory limit, swap included (a swapping run is only slower, not stopped)."""
    if cgroup.version == 2:
        return {"memory.max": str(limit), "memory.swap.max": "0"}
    # memsw (memory + swap) after the limit: it may not be set below it
    return {"memory.limit_in_bytes": str(limit), "memory.memsw.limit_in_bytes": str(limit)}


_RunCgroups = list[tuple[_Cgroup, Path]]  # the cgroups one run joins: pids, memory


def _run_cgroups(setup: _Setup, limits: Limits) -> _RunCgroups:
    """Create the run's cgroups; one the machine refuses now is left out (the run goes on).

    On v2 pids and memory live in one hierarchy, and a process is in one cgroup
    of it: the memory limit is then written into the pids cgroup.
    """
    made: _RunCgroups = []
    extra = 2 if setup.kind == "bwrap" else 0  # bwrap's own two processes
    if setup.cgroup is not None:
        try:
            path = _cgroup_create(setup.cgroup, _pids_settings(limits.max_processes + extra))
            made.append((setup.cgroup, path))
        except OSError:
            pass  # cgroupfs went away since detection: run without the guard
    if setup.memory is not None:
        memory = _memory_settings(setup.memory, limits.run_memory_bytes)
        try:
            if made and made[0][0].parent == setup.memory.parent:
                _cgroup_write(made[0][1], memory)
            else:
                name = made[0][1].name if made else ""  # the same name in both hierarchies
                made.append((setup.memory, _cgroup_create(setup.memory, memory, name)))
        except OSError:
            pass  # RLIMIT_AS still bounds each process
    return made


def _cgroup_kill(cgroup: _Cgroup, path: Path) -> None:
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
            _kill(pid)
        killed |= pids


def _cgroup_remove(cgroup: _Cgroup, path: Path) -> None:
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
        _cgroup_kill(cgroup, path)
        time.sleep(0.002)


def _fork_refusals(cgroups: _RunCgroups) -> int:
    """How many forks pids.max refused during the run (for killed_reason)."""
    return sum(_counter(path / "pids.events", "max") for _, path in cgroups)


def _oom_kills(path: Path) -> int:
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


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------- the child side


def _joiner(cgroup: _Cgroup, cgroup_dir: Path) -> Callable[[], None]:
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


def _preexec(setup: _Setup, limits: Limits, cgroups: _RunCgroups,
             uid: int | None) -> Callable[[], None]:
    """What the child does between fork and exec: plain syscalls only, nothing imported.

    The keyring is joined before bwrap starts (bwrap inherits it); the filter
    is loaded last, after the steps it denies (unshare), except under bwrap,
    which applies it itself after its own set-up (--seccomp).
    """
    joins = [_joiner(cgroup, path) for cgroup, path in cgroups]
    keyring = sandbox_keyring.joiner(setup.keyring) if setup.keyring else None
    load_filter = sandbox_seccomp.loader(setup.bpf) if setup.seccomp and setup.kind != "bwrap" \
        else None
    parent = os.getpid()

    def child() -> None:
        for join in joins:
            join()
        if setup.kind != "bwrap":
            _die_with_parent(parent)
        if keyring is not None:
            keyring()
        if setup.kind == "unshare":
            _unshare_net(setup.userns)
        _set_limit(resource.RLIMIT_AS, limits.memory_bytes)
        _set_limit(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1)
        _set_limit(resource.RLIMIT_FSIZE, limits.file_bytes)
        _set_limit(resource.RLIMIT_CORE, 0)
        _set_limit(resource.RLIMIT_NOFILE, limits.open_files)
        if uid is not None or (setup.kind == "unshare" and setup.nproc_guard):
            _set_limit(resource.RLIMIT_NPROC, limits.max_processes)
        if uid is not None and setup.kind != "bwrap":  # bwrap drops it itself, via setpriv
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        if load_filter is not None:
            load_filter()

    return child


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    """Lower a limit, never above the current hard limit (non-root cannot raise it).

    A limit the OS refuses (macOS has no usable RLIMIT_AS) is skipped rather
    than failing the run: the wall-clock kill still bounds it.
    """
    try:
        _cur_soft, cur_hard = resource.getrlimit(which)
        hard = soft if hard is None else hard
        if cur_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, cur_hard), min(hard, cur_hard)
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):
        pass


def _die_with_parent(parent: int) -> None:
    """SIGKILL us when the thread that spawned us exits (the grader died); Linux only."""
    if _HAS_PRCTL:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(137)


def _unshare_net(userns: bool) -> None:
    """New network namespace (plus a user namespace if not root), with loopback up."""
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


# --------------------------------------------------------------------------- bubblewrap


@functools.cache
def _system_binds() -> tuple[str, ...]:
    """Read-only /usr (and its merged-usr links) plus a minimal /etc."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return (*args, "--ro-bind", str(_etc_copy()), "/etc")


@functools.cache
def _etc_copy() -> Path:
    """A private copy of the few /etc files Python needs, bound as one mount.

    One mount instead of a dozen: every bind is a mount, and mounts contend
    for a kernel-wide lock when many sandboxes start at once. It also leaves
    out everything else in /etc (shadow, ssl/private, ...). The grader's own
    test processes use the copy their parent made (export_setup).
    """
    if _shared_etc:
        return _shared_etc[0]
    _sweep_stale_etc()
    target = Path(tempfile.mkdtemp(prefix=f"grader-etc-{os.getpid()}-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    for name in _ETC_FILES:
        source, copy = Path("/etc") / name, target / name
        try:
            if source.is_symlink():
                copy.symlink_to(os.readlink(source))
            elif source.is_dir():
                shutil.copytree(source, copy, symlinks=True,
                                ignore=shutil.ignore_patterns("private"))
            elif source.is_file():
                shutil.copy2(source, copy)
        except OSError:
            continue  # unreadable: the sandbox does without it
    target.chmod(0o755)
    return target


def _sweep_stale_etc() -> None:
    """Remove the /etc copies of our own grader processes that were killed (no atexit)."""
    for path in Path(tempfile.gettempdir()).glob("grader-etc-*-*"):
        pid = path.name.split("-")[2]
        try:
            ours = path.lstat().st_uid == os.getuid() and path.is_dir() and not path.is_symlink()
        except OSError:
            continue
        if ours and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


@functools.lru_cache(maxsize=32)
def _python_roots(program: str, search_path: str) -> tuple[Path, ...]:
    """Install prefixes along the interpreter's symlink chain (venv, then the real Python)."""
    found = shutil.which(program, path=search_path) or program
    path = Path(os.path.abspath(found))
    roots: list[Path] = []
    for _ in range(40):
        root = path.parent.parent if path.parent.name == "bin" else path.parent
        if root not in roots and root != Path("/") and not root.is_relative_to("/usr"):
            roots.append(root)
        if not path.is_symlink():
            break
        path = Path(os.path.normpath(path.parent / os.readlink(path)))
    return tuple(roots)


def _bwrap_command(setup: _Setup, argv: Sequence[str], workdir: Path, limits: Limits,
                   env: dict[str, str], paths: _Paths, uid: int | None) -> list[str]:
    unshare = list(setup.bwrap_flags) if uid is not None else ["--unshare-all",
                                                                 *setup.bwrap_flags]
    command = [setup.bwrap, *unshare, "--die-with-parent", "--new-session",
               "--hostname", "localhost"]
    if os.geteuid() == 0:
        command += ["--cap-drop", "ALL", *(_SETPRIV_CAPS if uid is not None else ())]
    command += _system_binds()
    command += ["--proc", "/proc", "--dev", "/dev"]
    size = ["--size", str(limits.file_bytes)] if setup.tmpfs_size else []  # RAM-backed
    command += ["--perms", "1777", *size, "--tmpfs", "/tmp",
                "--perms", "1777", *size, "--tmpfs", "/dev/shm"]
    argv, mounts, covered = _python_mounts(argv, env, paths)
    writable = [Path(p).resolve() for p in paths.writable if Path(p).resolve() != workdir]
    if setup.tmpfs_size:  # the folder is a capped tmpfs filled from the host copy (_FILL)
        mounts += [Mount("--ro-bind", workdir, _ORIGINAL),
                   Mount("--tmpfs", workdir, workdir, limits.folder_bytes)]
    else:  # bwrap < 0.7 has no --size: writes go to the host copy, uncapped
        writable.append(workdir)
    command += _binds(mounts, writable)
    for hidden in [*paths.hidden, *covered]:  # an empty, read-only directory over it
        if Path(hidden).is_dir():
            command += ["--perms", "0555", "--tmpfs", str(Path(hidden).resolve())]
    command += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", str(workdir), "--"]
    if setup.tmpfs_size:
        command += [shutil.which("sh") or "/bin/sh", "-c", _FILL, "sh", str(_ORIGINAL),
                    str(workdir)]
    if uid is not None:
        command += [shutil.which("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={uid}",
                    "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
                    "--no-new-privs", "--"]
    elif setup.nproc_guard:
        command += ["/usr/bin/prlimit", f"--nproc={limits.max_processes + 1}", "--"]
    return command + list(argv)


def _python_mounts(argv: Sequence[str], env: dict[str, str],
                   paths: _Paths) -> tuple[list[str], list[Mount], list[Path]]:
    """The interpreter as the box sees it: argv, read-only mounts, folders shown empty.

    The grader's own interpreter gets the box's view (sandbox_view: the stdlib
    and the allowed packages only); any other program its install prefixes.
    """
    readable = [Mount("--ro-bind-try", Path(p), Path(p)) for p in paths.readable]
    search = env.get("PATH", os.defpath)
    if not sandbox_view.is_ours(argv[0], search):
        roots = _python_roots(argv[0], search)
        return list(argv), [*readable, *(Mount("--ro-bind-try", p, p) for p in roots)], []
    box = sandbox_view.view()
    mounts = [*readable, *(Mount("--ro-bind-try", p, p) for p in box.readable),
              Mount("--ro-bind", box.folder, box.prefix)]
    return [str(box.executable), *argv[1:]], mounts, list(box.covered)


@dataclass(frozen=True)
class Mount:
    """One bwrap mount: `flag source dest`, or a tmpfs of `size` bytes at dest."""

    flag: str
    source: Path
    dest: Path
    size: int = 0

    def args(self) -> list[str]:
        if self.flag == "--tmpfs":
            return ["--size", str(self.size), "--perms", "0700", "--tmpfs", str(self.dest)]
        return [self.flag, str(self.source), str(self.dest)]


def _binds(mounts: Sequence[Mount], writable: Sequence[Path]) -> list[str]:
    """Mount shallow paths first so nested ones win; writable wins over readable.

    The folders bwrap creates on the way to a bind are 0700, which an
    unprivileged uid cannot cross, so each is made first, 0755.
    """
    entries: dict[Path, Mount] = {}
    for mount in mounts:
        if mount.source == mount.dest:  # a host path shown where it is: its real path
            real = mount.source.resolve()
            mount = Mount(mount.flag, real, real, mount.size)
        entries[mount.dest] = mount
    for path in writable:
        real = path.resolve()
        entries[real] = Mount("--bind", real, real)
    args: list[str] = []
    made: set[Path] = {Path(p) for p in ("/", "/tmp", "/dev", "/dev/shm", "/proc", "/etc")}
    bound: list[Path] = []
    for dest in sorted(entries, key=lambda p: (len(p.parts), str(p))):
        if dest != _ORIGINAL:  # its parents stay 0700: the run's uid cannot look in
            for parent in reversed(dest.parents):
                if parent in made or any(parent.is_relative_to(b) for b in bound):
                    continue
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        args += entries[dest].args()
        bound.append(dest)
    return args


# --------------------------------------------------------------------------- running


class _Capture:
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


@dataclass(frozen=True)
class _Paths:
    """What a run sees besides the system: read-only, writable, and hidden paths."""

    readable: Sequence[Path] = ()
    writable: Sequence[Path] = ()
    hidden: Sequence[Path] = ()  # covered by an empty folder (bwrap only)
    pass_fds: Sequence[int] = ()  # inherited file descriptors (a channel to the grader)


def run(argv: list[str], *, workdir: Path, limits: Limits, env: dict[str, str],
        readable: Sequence[Path] = (), writable: Sequence[Path] = (),
        hidden: Sequence[Path] = (), pass_fds: Sequence[int] = (),
        on_start: Callable[[Callable[[], None]], None] | None = None) -> Outcome:
    """Run `argv` in `workdir` under the machine's best isolation; never raises for the child.

    Spawns and waits in the calling thread: bwrap's --die-with-parent (and the
    parent-death signal of the fallbacks) fires when the *thread* that spawned
    the child exits, so the thread must outlive the child, which this guarantees.
    A long-lived child (the grader's worker) is run from a thread of its own;
    `on_start` receives a function that kills the whole run from anywhere.
    Writable paths are handed to the run's uid when it gets one.
    """
    paths = _Paths(readable, writable, hidden, pass_fds)
    return _run(_setup(), argv, Path(workdir).resolve(strict=True), limits, env, paths,
                on_start)


def _run(setup: _Setup, argv: Sequence[str], workdir: Path, limits: Limits,
         env: dict[str, str], paths: _Paths,
         on_start: Callable[[Callable[[], None]], None] | None = None) -> Outcome:
    child_env = {**env, "HOME": str(workdir)}
    uid = _next_uid() if setup.drop_uid else None
    if uid is not None:
        for path in [*paths.writable, workdir]:
            _give(Path(path), uid)
    cgroups = _run_cgroups(setup, limits)
    pass_fds = list(paths.pass_fds)
    try:
        if setup.kind == "bwrap":
            command = _bwrap_command(setup, argv, workdir, limits, child_env, paths, uid)
            if setup.seccomp:  # bwrap applies it after its own set-up, before exec
                pass_fds.append(sandbox_seccomp.bwrap_fd(setup.bpf))
                command[1:1] = ["--seccomp", str(pass_fds[-1])]
        else:
            command = list(argv)
        return _spawn_and_wait(setup, command, workdir, limits, child_env, cgroups, uid,
                               pass_fds, on_start)
    finally:
        if len(pass_fds) > len(paths.pass_fds):
            os.close(pass_fds[-1])
        for cgroup, path in cgroups:
            _cgroup_remove(cgroup, path)
        if uid is not None and setup.kind != "bwrap":  # bwrap's pid namespace took them all
            _kill_uid(uid)


def supervise(argv: list[str], *, workdir: Path, wall_seconds: float,
              env: dict[str, str], memory_bytes: int | None = None) -> Outcome:
    """Run one of the grader's own processes (never student code) with a time limit.

    It gets its own process group and dies with us; at the limit it gets
    SIGTERM first, so it can kill the sandboxed worker it started, then SIGKILL.
    `memory_bytes` is its RLIMIT_DATA (grader/trusted_limits.py): a process
    that ends at it is reported with killed_reason "memory". Its output is
    kept capped (head and tail), like a sandboxed run's.
    """
    start = time.monotonic()
    parent = os.getpid()

    def preexec() -> None:
        _die_with_parent(parent)
        if memory_bytes is not None:
            _set_limit(resource.RLIMIT_DATA, memory_bytes)

    proc = subprocess.Popen(argv, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=preexec)
    cap = Limits(wall_seconds).output_bytes
    out, err = _Capture(cap), _Capture(cap)
    pump = _Pump(proc, out, err)
    timed_out = False
    try:
        for signal_at_end, seconds in ((signal.SIGTERM, wall_seconds), (signal.SIGKILL,
                                                                         _TERM_GRACE)):
            deadline = time.monotonic() + seconds
            while not pump.exited and time.monotonic() < deadline:
                pump.step(deadline - time.monotonic())
            if pump.exited:
                break
            timed_out = True
            _signal_group(proc.pid, signal_at_end)
        _signal_group(proc.pid, signal.SIGKILL)  # anything of its group left behind
        grace_end = time.monotonic() + _DRAIN_GRACE
        while pump.open_pipes and time.monotonic() < grace_end:
            pump.step(grace_end - time.monotonic())
    finally:
        pump.close()
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
    rc = None if timed_out else proc.returncode
    if timed_out:
        reason = "timeout"
    elif rc is not None and rc < 0:
        reason = f"signal {-rc}"
    elif rc and (b"MemoryError" in err.tail or b"Cannot allocate memory" in err.tail):
        reason = "memory"
    else:
        reason = ""
    return Outcome(rc, timed_out, out.text(), err.text(), time.monotonic() - start, reason)


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


def _spawn_and_wait(setup: _Setup, command: list[str], workdir: Path, limits: Limits,
                    env: dict[str, str], cgroups: _RunCgroups, uid: int | None,
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
    out, err = _Capture(limits.output_bytes), _Capture(limits.output_bytes)
    kill = _killer(proc, cgroups)
    if on_start is not None:
        on_start(kill)
    try:
        timed_out = _pump(proc, out, err, start + limits.wall_seconds, kill)
    finally:
        kill()
        proc.wait()
    duration = time.monotonic() - start
    return _outcome(setup, proc.returncode, timed_out, out, err, duration,
                    _fork_refusals(cgroups), sum(_oom_kills(path) for _, path in cgroups))


def _killer(proc: subprocess.Popen[bytes], cgroups: _RunCgroups) -> Callable[[], None]:
    """Kill the whole run: its process group, and every task of its cgroups."""

    def kill() -> None:
        _signal_group(proc.pid, signal.SIGKILL)
        if proc.returncode is None:  # not reaped yet, so the pid is still ours
            _kill(proc.pid)
        for cgroup, path in cgroups:
            _cgroup_kill(cgroup, path)

    return kill


class _Pump:
    """Drains a child's two pipes and notices its exit, all in the calling thread.

    One selector on stdout, stderr and a pidfd: no threads, no polling, and a
    full pipe never blocks the child.
    """

    def __init__(self, proc: subprocess.Popen[bytes], out: _Capture, err: _Capture) -> None:
        assert proc.stdout is not None and proc.stderr is not None
        self.proc = proc
        self.selector = selectors.DefaultSelector()
        self.selector.register(proc.stdout, selectors.EVENT_READ, out)
        self.selector.register(proc.stderr, selectors.EVENT_READ, err)
        self.pidfd = _pidfd(proc.pid)
        if self.pidfd is not None:
            self.selector.register(self.pidfd, selectors.EVENT_READ, None)
        self.open_pipes = 2
        self.exited = False

    def step(self, wait: float) -> None:
        """Wait up to `wait` seconds for output or the exit, and take what came."""
        if self.pidfd is None and not self.exited:
            wait = min(wait, 0.02)  # no pidfd (old kernel): poll the exit
        for key, _ in self.selector.select(max(wait, 0.0)):
            if key.data is None:
                self.selector.unregister(key.fileobj)
                self.exited = True
            elif not _read_into(key.fileobj, key.data):
                self.selector.unregister(key.fileobj)
                self.open_pipes -= 1
        if self.pidfd is None and not self.exited and self.proc.poll() is not None:
            self.exited = True

    def close(self) -> None:
        self.selector.close()
        if self.pidfd is not None:
            os.close(self.pidfd)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()  # a leftover still writing gets EPIPE, not us


def _pump(proc: subprocess.Popen[bytes], out: _Capture, err: _Capture, deadline: float,
          kill: Callable[[], None]) -> bool:
    """Drain until the main process ends, kill what is left, drain the rest; True on timeout.

    The exit is seen before the process is reaped, so its process group id
    cannot have been reused when `kill` runs.
    """
    pump = _Pump(proc, out, err)
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
    return timed_out


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _read_into(stream: object, capture: _Capture) -> bool:
    data = os.read(stream.fileno(), _CHUNK)  # type: ignore[attr-defined]
    if not data:
        return False
    capture.feed(data)
    return True


def _outcome(setup: _Setup, rc: int | None, timed_out: bool, out: _Capture, err: _Capture,
             duration: float, fork_refusals: int, oom_kills: int = 0) -> Outcome:
    if timed_out:
        return Outcome(None, True, out.text(), err.text(), duration, "timeout")
    assert rc is not None
    if setup.kind == "bwrap" and 128 < rc < 128 + signal.NSIG:
        rc = 128 - rc  # bwrap reports a signal death as 128+N
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
