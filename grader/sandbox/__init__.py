"""[parent, test process] Run one untrusted command with limits, no network, and the best isolation.

Student code runs here (the grader's worker process), never in a process
that judges it. The machine decides what we get, detected once; the levels,
strongest first (`LEVELS`):

1. `bwrap`: bubblewrap with new mount/pid/net/ipc/uts namespaces, a
   read-only system, a private /tmp, loopback up, everything killed with
   the sandbox's pid 1;
2. `unshare`: a network namespace of its own only (no bwrap installed);
3. `setpriv`: no namespaces, but an unprivileged uid of its own (root only);
4. `rlimits`: nothing but rlimits and a process group (also macOS);
5. `process`: a process of its own, its wall-clock limit and output caps,
   nothing else (Windows, where there is no fork, rlimit or process group).

When the grader runs as root every run also drops to a uid of its own: it
cannot signal the grader, RLIMIT_NPROC applies, and every process left with
that uid is killed when the run ends. A fork bomb is also contained by a pids
cgroup of our own when cgroupfs is writable, and the run's memory as a whole by
a memory cgroup. At every level each run gets a fresh session keyring and,
where libseccomp and the kernel allow, a seccomp filter; detection checks both
for real. `isolation()` says what applied; GRADER_SANDBOX=bwrap|unshare|setpriv|rlimits
forces a weaker level (debugging, tests;
`process` also simulates Windows' path on Linux).

The package, one concern a module:

- `policy`: what a run may use and see (`Limits`, `Policy`) and how it ended (`Outcome`);
- `detect`: the machine's `Setup`, found once, exported to the grader's own processes;
- `backend`, `bwrap`: one object per level for everything that differs between levels;
- `cgroups`: the pids and memory cgroups of each run;
- `seccomp`, `keyring`: the syscall filter and the fresh session keyring;
- `view`: what the box shows of Python (bwrap level);
- `spawn`: fork, limits between fork and exec, capture, end of a run;
- `portable_run`: the `process` level's spawn, drain and kill (no fork, no select, no group).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from grader.sandbox.detect import (
    LEVELS,
    REQUIREMENTS,
    adopt,
    at_least,
    export_setup,
    folder_capped,
    isolation,
    level,
    portable,
    syscall_filter,
)
from grader.sandbox.detect import setup as _setup
from grader.sandbox.policy import Limits, Outcome, Policy
from grader.sandbox.spawn import run_with

__all__ = ["LEVELS", "REQUIREMENTS", "Limits", "Outcome", "Policy", "adopt", "at_least",
           "export_setup", "folder_capped", "isolation", "level", "portable", "run",
           "syscall_filter"]


def run(argv: list[str], *, workdir: Path, limits: Limits, env: dict[str, str],
        readable: Sequence[Path] = (), writable: Sequence[Path] = (),
        hidden: Sequence[Path] = (), pass_fds: Sequence[int] = (), stdout: int | None = None,
        on_start: Callable[[Callable[[], None]], None] | None = None) -> Outcome:
    """Run `argv` in `workdir` under the machine's best isolation; never raises for the child.

    Spawns and waits in the calling thread: bwrap's --die-with-parent (and the
    parent-death signal of the fallbacks) fires when the *thread* that spawned
    the child exits, so the thread must outlive the child, which this guarantees.
    A long-lived child (the grader's worker) is run from a thread of its own;
    `on_start` receives a function that kills the whole run from anywhere.
    Writable paths are handed to the run's uid when it gets one. `stdout`
    (the `process` level's stand-in for an inherited descriptor) becomes the
    run's stdout.
    """
    policy = Policy(limits, readable, writable, hidden, pass_fds, stdout)
    return run_with(_setup(), argv, Path(workdir).resolve(strict=True), policy, env, on_start)
