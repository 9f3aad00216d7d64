"""[parent, test process] What this machine gives the sandbox, detected once and probed for real.

The strongest level that works (`LEVELS`, strongest first) and the guards
every level can add (pids and memory cgroups, keyring, syscall filter). The
result, a `Setup`, is exported to the grader's own test processes (in their
run description, grader/test_run.py: `adopt`) so they never probe again.
GRADER_SANDBOX=LEVEL forces a weaker level. Namespaces, uid drops, cgroups,
keyrings and the syscall filter are Linux's (`posix.LINUX`); macOS gets
`rlimits`, and a system without POSIX process controls (Windows) `process`.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import posix
from grader.sandbox import bwrap, cgroups, keyring, seccomp, spawn
from grader.sandbox.backend import Backend, Process, Setpriv, Unshare
from grader.sandbox.cgroups import Cgroup
from grader.sandbox.policy import Limits, Policy

LEVELS = ("bwrap", "unshare", "setpriv", "rlimits", "process")  # strongest first
FILTERED = LEVELS[:-1]  # the levels that can have the syscall filter
REQUIREMENTS = (*LEVELS, *(f"{name}+seccomp" for name in FILTERED))  # --require-isolation
BACKENDS: dict[str, Backend] = {
    backend.name: backend
    for backend in (bwrap.Bwrap(), Unshare(), Setpriv(), Backend(), Process())
}
_UNSHARE_NO_USER = ("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                    "--unshare-cgroup-try")  # fmt: skip


@dataclass(frozen=True)
class Setup:
    """What this machine gives us, found once per grader process."""

    kind: str  # one of LEVELS
    bwrap: str = ""
    bwrap_flags: tuple[str, ...] = ()  # user-namespace flags that worked here
    tmpfs_size: bool = False  # bwrap knows --size (0.7+): cap the private /tmp
    userns: bool = False  # the sandbox has a user namespace of its own (non-root only)
    cgroup: Cgroup | None = None  # pids: the fork guard
    drop_uid: bool = False  # we are root: each run drops to an unprivileged uid of its own
    memory: Cgroup | None = None  # a memory cgroup per run (v2: may be the pids one's parent)
    keyring: int = 0  # keyctl's call number: each run joins a fresh, empty session keyring
    seccomp: str = ""  # the syscall filter, base64 of libseccomp's BPF; "" = none

    @property
    def nproc_guard(self) -> bool:
        """RLIMIT_NPROC set inside a fresh user namespace counts only the sandbox's tasks."""
        return self.cgroup is None and self.userns and self.backend.nproc_guard_works()

    @property
    def backend(self) -> Backend:
        """What this level does differently from the others (chosen by `kind`)."""
        return BACKENDS[self.kind]

    def describe(self) -> str:
        base = self.backend.summary
        if self.backend.portable:
            return f"{self.kind}: {base}"
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
            (seccomp.summary() if self.seccomp
             else "no syscall filter (needs libseccomp and a kernel with seccomp)"),
        ]

    @property
    def bpf(self) -> bytes:
        return base64.b64decode(self.seccomp) if self.seccomp else b""


_setup_lock = threading.Lock()
setup_cache: dict[str, Setup] = {}


def isolation() -> str:
    """Which isolation runs get on this machine, for reports and `grader check`."""
    return setup().describe()


def level() -> str:
    """The isolation level runs get here: one of LEVELS."""
    return setup().kind


def portable() -> bool:
    """Whether runs here take the portable path (the `process` level: no fork, no fd passing)."""
    return setup().backend.portable


def syscall_filter() -> str:
    """The syscall filter runs get here, for the per-submission record: "seccomp" or "none"."""
    return "seccomp" if setup().seccomp else "none"


def at_least(required: str) -> bool:
    """Whether this machine's level is `required` or stronger ("LEVEL+seccomp": and filtered)."""
    name, _, extra = required.partition("+")
    return (LEVELS.index(level()) <= LEVELS.index(name)
            and (extra != "seccomp" or syscall_filter() == "seccomp"))


def setup() -> Setup:
    """Detect once (thread-safe); GRADER_SANDBOX may force a weaker level."""
    with _setup_lock:
        if "setup" not in setup_cache:
            setup_cache["setup"] = detect(os.environ.get("GRADER_SANDBOX", ""))
        return setup_cache["setup"]


def adopt(exported: str) -> None:
    """Use the set-up the parent grader process detected (export_setup): a test process's."""
    with _setup_lock:
        setup_cache["setup"] = import_setup(exported)


def export_setup() -> str:
    """What was detected here, for a process of ours to use without probing again."""
    found = setup()
    data = dataclasses.asdict(found)
    for name in ("cgroup", "memory"):
        if data[name] is not None:
            data[name]["parent"] = str(data[name]["parent"])
    return json.dumps({**data, **found.backend.export()})


def import_setup(text: str) -> Setup:
    """The set-up a parent grader process exported (export_setup)."""
    data = json.loads(text)
    cgroups = {name: Cgroup(Path(found["parent"]), int(found["version"])) if found else None
               for name in ("cgroup", "memory") for found in [data.pop(name, None)]}
    bwrap.adopt(data.pop("etc", None), data.pop("view", None))
    fields: dict[str, Any] = {**data, "bwrap_flags": tuple(data.get("bwrap_flags", ())), **cgroups}
    return Setup(**fields)


def detect(forced: str) -> Setup:
    """The strongest level that works here, then the guards every level can add."""
    if forced == "process" or not posix.has_process_controls():
        return Setup("process")  # nothing to add: no cgroups, keyring or filter without fork
    return _add_guards(_detect_level(forced))


def _detect_level(forced: str) -> Setup:
    if not posix.LINUX:  # macOS: no namespaces, no uid drop of ours, no cgroups
        return Setup("rlimits")
    cgroup = cgroups.find_cgroup()
    root = os.geteuid() == 0
    weaker = LEVELS[LEVELS.index(forced):] if forced in LEVELS else LEVELS
    bwrap = shutil.which("bwrap") if "bwrap" in weaker else None
    if bwrap and (not root or shutil.which("setpriv")):
        features = _bwrap_features(bwrap)
        variants = [_UNSHARE_NO_USER] if root else _userns_variants(features)
        for flags in variants:
            setup = Setup("bwrap", bwrap, flags, userns=not root and bool(flags),
                           tmpfs_size="--size" in features, cgroup=cgroup, drop_uid=root)
            if _probe(setup):
                return setup
    # Without a mount namespace the run's uid needs the interpreter to be readable by
    # all (a Python under /root is not): the probe finds out, and we fall back.
    if "unshare" in weaker:
        for drop in ([True, False] if root else [False]):
            setup = Setup("unshare", userns=not root, cgroup=cgroup, drop_uid=drop)
            if _probe(setup):
                return setup
    if root and "setpriv" in weaker:
        setup = Setup("setpriv", cgroup=cgroup, drop_uid=True)
        if _probe(setup):
            return setup
    return Setup("rlimits", cgroup=cgroup)


_PROBE_CODE = """
import socket
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
socket.create_connection(srv.getsockname(), timeout=2).close()
print([name for _, name in socket.if_nameindex()] == ["lo"] and "ok")
"""


def _probe(setup: Setup, code: str = _PROBE_CODE) -> bool:
    """Check under `setup` that loopback is up and is the only interface: it must really work."""
    with tempfile.TemporaryDirectory(prefix="grader-probe-") as tmp:
        try:
            outcome = spawn.run_with(setup, [sys.executable, "-I", "-S", "-c", code],
                                     Path(tmp), Policy(Limits(wall_seconds=10)), {})
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


def _add_guards(setup: Setup) -> Setup:
    """Memory cgroup, keyring and syscall filter: each used only if it works here, probed."""
    if not posix.LINUX:
        return setup
    setup = dataclasses.replace(setup, memory=cgroups.find_cgroup("memory"),
                                keyring=_keyring_works())
    bpf, keyctl = seccomp.build(), keyring.keyctl_number()
    if bpf and keyctl is not None:
        filtered = dataclasses.replace(setup, seccomp=base64.b64encode(bpf).decode())
        if _probe(filtered, _FILTER_PROBE_CODE.format(keyctl=keyctl)):
            return filtered
    return setup


def _keyring_works() -> int:
    """keyctl's number if a child that joined a fresh session keyring reports another one."""
    number, ours = keyring.keyctl_number(), keyring.session_keyring()
    if number is None:  # ours may be -1 (no session keyring yet): the child's is then new
        return 0
    code = (f"import ctypes; print(ctypes.CDLL(None).syscall({number}, "
            f"{keyring.KEYCTL_GET_KEYRING_ID}, "
            f"{keyring.KEY_SPEC_SESSION_KEYRING}, 0))")
    try:
        probe = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True,
                               text=True, timeout=10, preexec_fn=keyring.joiner(number))
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


def folder_capped() -> bool:
    """Whether a run's folder, /tmp and /dev/shm are capped tmpfs here (bwrap 0.7+)."""
    return setup().tmpfs_size
