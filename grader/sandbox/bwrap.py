"""[parent, test process] The bubblewrap level, its command line, its binds and the box's view.

bwrap gives each run new mount/pid/net/ipc/uts namespaces, a read-only
system, a private /tmp, the run's folder as a capped tmpfs filled from the host
copy, and kills everything with the sandbox's pid 1. What it shows of Python is
grader.sandbox.view's; what else a run sees comes from its Policy.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import signal
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader.sandbox import cgroups, seccomp, view
from grader.sandbox.backend import Backend
from grader.sandbox.policy import Policy

if TYPE_CHECKING:
    from grader.sandbox.detect import Setup

_ETC_FILES = (
    "passwd", "group", "hosts", "host.conf", "nsswitch.conf", "gai.conf", "localtime",
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "ssl", "ca-certificates", "alternatives",
    "mime.types",
)  # fmt: skip
# What bwrap keeps for its last step: entering the run's folder (owned by the run's uid)
# and setpriv's drop to that uid, which clears every capability before student code runs.
# Before it, CAP_CHOWN and CAP_FOWNER let `cp -a` fill the run's capped folder as the run's uid.
_SETPRIV_CAPS = ("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add",
                 "CAP_SETPCAP", "--cap-add", "CAP_DAC_OVERRIDE", "--cap-add", "CAP_CHOWN",
                 "--cap-add", "CAP_FOWNER")
_ORIGINAL = Path("/run/box/original")  # the host copy, read-only, under a 0700 folder (bwrap)
# The first command in the box: fill the capped folder, then run the real command.
_FILL = 'cp -a -- "$1/." "$2" || exit 125; shift 2; exec "$@"'



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
        if ours and pid.isdigit() and not cgroups.alive(int(pid)):
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


def _bwrap_command(setup: Setup, argv: Sequence[str], workdir: Path, policy: Policy,
                   env: dict[str, str], uid: int | None) -> list[str]:
    limits = policy.limits
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
    argv, mounts, covered = _python_mounts(argv, env, policy)
    writable = [Path(p).resolve() for p in policy.writable if Path(p).resolve() != workdir]
    if setup.tmpfs_size:  # the folder is a capped tmpfs filled from the host copy (_FILL)
        mounts += [Mount("--ro-bind", workdir, _ORIGINAL),
                   Mount("--tmpfs", workdir, workdir, limits.folder_bytes)]
    else:  # bwrap < 0.7 has no --size: writes go to the host copy, uncapped
        writable.append(workdir)
    command += _binds(mounts, writable)
    for hidden in [*policy.hidden, *covered]:  # an empty, read-only directory over it
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
                   policy: Policy) -> tuple[list[str], list[Mount], list[Path]]:
    """The interpreter as the box sees it: argv, read-only mounts, folders shown empty.

    The grader's own interpreter gets the box's view (grader.sandbox.view: the stdlib
    and the allowed packages only); any other program its install prefixes.
    """
    readable = [Mount("--ro-bind-try", Path(p), Path(p)) for p in policy.readable]
    search = env.get("PATH", os.defpath)
    if not view.is_ours(argv[0], search):
        roots = _python_roots(argv[0], search)
        return list(argv), [*readable, *(Mount("--ro-bind-try", p, p) for p in roots)], []
    box = view.view()
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


class Bwrap(Backend):
    """`bwrap`: bubblewrap builds the box; it drops the uid and loads the filter itself."""

    name = "bwrap"
    summary = "bubblewrap (no network, read-only system, private /tmp, own pid namespace)"
    extra_tasks = 2  # bwrap's own two processes
    own_pid_namespace = True
    applies_filter = True
    drops_uid = True
    dies_with_parent = True  # --die-with-parent

    def command(self, setup: Setup, argv: Sequence[str], workdir: Path, policy: Policy,
                env: dict[str, str], uid: int | None) -> tuple[list[str], int | None]:
        command = _bwrap_command(setup, argv, workdir, policy, env, uid)
        if not setup.seccomp:
            return command, None
        fd = seccomp.bwrap_fd(setup.bpf)  # bwrap applies it after its own set-up, before exec
        command[1:1] = ["--seccomp", str(fd)]
        return command, fd

    def nproc_guard_works(self) -> bool:
        return Path("/usr/bin/prlimit").is_file()

    def returncode(self, rc: int) -> int:
        return 128 - rc if 128 < rc < 128 + signal.NSIG else rc  # bwrap says 128+N for signal N

    def export(self) -> dict[str, str]:
        # made once, here: copying /etc takes ~0.5 s; likewise the box's view of Python
        return {"etc": str(_etc_copy()), "view": view.export()}


def adopt(etc: str | None, view_folder: str | None) -> None:
    """Use the /etc copy and the view the grader process that started us made."""
    view.adopt(view_folder or "")
    if etc and Path(etc).is_dir():
        _shared_etc.append(Path(etc))


_shared_etc: list[Path] = []  # the /etc copy of the grader process that started us
