"""[parent, test process] What the box shows of Python: interpreter, stdlib, allowed packages.

Trusted side (runs in the grader, builds what bubblewrap binds for the worker).
The box is built from what a submission needs, never from the install around
it: whatever the layout (an editable checkout with its venv inside, a
non-editable site-packages/grader, `pip install -e git+URL` whose checkout sits
in `<venv>/src/grader`), the worker sees

- the base interpreter's executable (and its libpython), and its standard
  library with the base site-packages folder shown empty;
- a virtual environment of the box, bound at the grader's own venv prefix (so
  `sys.executable` and tracebacks read the same as outside), holding only the
  files that `importlib.metadata` lists for the allowed distributions
  (`ALLOWED` and what they require), hard-linked (copied across file systems)
  into a folder made once per grader process.

Nothing else of the venv (the grader, its editable finder, `src/`, pip) and
nothing of the checkout is in it. Folders of the host that a system bind
(`/usr`) would show and that hold other packages or the course (site dirs of
a system Python, the grader package, the course folder) are covered with an
empty folder.
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata as metadata
import importlib.util
import os
import shutil
import site
import sys
import sysconfig
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from grader.sandbox.cgroups import alive

# The assignments' contract (shared spec, assignments.md): aiohttp and the standard
# library; aioresponses is what the handout tells students to test with.
ALLOWED = ("aiohttp", "aioresponses")
NEUTRAL_PREFIX = Path("/opt/venv")  # the box's venv when the grader runs without one
PREFIX = "grader-view-"  # host folders: grader-view-<pid>-<random>
_adopted: list[Path] = []  # a view made by the grader process that started us


@dataclass(frozen=True)
class PythonView:
    """How the box shows the grader's interpreter (all paths absolute)."""

    folder: Path  # host folder: the box's venv (pyvenv.cfg, bin/, lib/.../site-packages)
    prefix: Path  # where the box sees `folder`
    executable: Path  # argv[0] in the box: prefix/bin/<name of sys.executable>
    readable: tuple[Path, ...]  # the base interpreter and stdlib, bound at their own paths
    covered: tuple[Path, ...]  # shown as empty folders: they lie under a bound tree

    def site_packages(self) -> Path:
        return self.folder / _site_rel()


def adopt(folder: str) -> None:
    """Use the view folder the parent grader process made (see sandbox.export_setup)."""
    if folder and Path(folder).is_dir():
        _adopted.append(Path(folder))


def is_ours(program: str, search_path: str) -> bool:
    """Whether `program` is the interpreter the grader runs on (the worker's)."""
    found = shutil.which(program, path=search_path) or program
    return os.path.realpath(found) == os.path.realpath(sys.executable)


@functools.cache
def view() -> PythonView:
    """The box's view of this interpreter, built once per process."""
    in_venv = sys.prefix != sys.base_prefix
    prefix = Path(sys.executable).parent.parent if in_venv else NEUTRAL_PREFIX
    name = Path(sys.executable).name if in_venv else "python3"
    folder = _adopted[0] if _adopted else _build(distributions(ALLOWED))
    readable = tuple(_base_paths())
    return PythonView(folder, prefix, prefix / "bin" / name, readable,
                      tuple(_covered(readable, prefix)))


def export() -> str:
    """The view folder, for a process of ours to use without building its own."""
    return str(view().folder)


# ------------------------------------------------------------------ what may be imported


def distributions(roots: Iterable[str]) -> list[metadata.Distribution]:
    """The installed distributions `roots` need, with their requirements, extras left out."""
    found: dict[str, metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement that is not installed
        found[name] = dist
        for text in dist.requires or []:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return list(found.values())


def dist_files(dist: metadata.Distribution) -> Iterator[tuple[Path, Path]]:
    """(file on the host, its path relative to the site folder) for every file of `dist`.

    From RECORD; files outside the site folder (scripts in bin/) are left out.
    Compiled caches of its modules come too, so imports in the box stay fast.
    """
    site_dir = Path(str(dist.locate_file(""))).resolve()
    listed = [Path(str(dist.locate_file(p))) for p in dist.files or []]
    if not listed:  # no RECORD (a distro package): its top-level names and metadata
        listed = _by_top_level(dist, site_dir)
    seen: set[Path] = set()
    for path in listed:
        for candidate in (path, _cached(path)):
            if candidate is None or candidate in seen or not candidate.is_file():
                continue
            seen.add(candidate)
            try:
                rel = candidate.resolve().relative_to(site_dir)
            except ValueError:
                continue
            yield candidate, rel


def _cached(path: Path) -> Path | None:
    if path.suffix != ".py":
        return None
    try:
        return Path(importlib.util.cache_from_source(str(path)))
    except (NotImplementedError, ValueError):
        return None


def _by_top_level(dist: metadata.Distribution, site_dir: Path) -> list[Path]:
    names = (dist.read_text("top_level.txt") or "").split()
    listed: list[Path] = []
    for name in names:
        for path in [site_dir / name, *site_dir.glob(f"{name}.*")]:
            listed += [p for p in path.rglob("*")] if path.is_dir() else [path]
    meta = getattr(dist, "_path", None)
    if isinstance(meta, Path) and meta.is_dir():
        listed += list(meta.rglob("*"))
    return listed


# ------------------------------------------------------------------ the view folder


def _site_rel() -> Path:
    return Path("lib") / f"python{sys.version_info.major}.{sys.version_info.minor}" / \
        "site-packages"


def _build(dists: list[metadata.Distribution]) -> Path:
    """Make the box's venv folder: pyvenv.cfg, bin/ links to the base interpreter, site."""
    _sweep_stale()
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    base = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    (folder / "bin").mkdir()
    names = {Path(sys.executable).name, "python", "python3",
             f"python{sys.version_info.major}.{sys.version_info.minor}"}
    for name in names:
        (folder / "bin" / name).symlink_to(base)
    version = ".".join(map(str, sys.version_info[:3]))
    (folder / "pyvenv.cfg").write_text(
        f"home = {base.parent}\ninclude-system-site-packages = false\nversion = {version}\n")
    site_dir = folder / _site_rel()
    site_dir.mkdir(parents=True)
    if not (folder / "lib64").exists():
        (folder / "lib64").symlink_to("lib")
    for dist in dists:
        for source, rel in dist_files(dist):
            _link(source, site_dir / rel)
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    return folder


def _link(source: Path, target: Path) -> None:
    """A hard link (no copy, same bytes) or, across file systems or owners, a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    if not os.stat(target).st_mode & 0o004:
        shutil.copy2(source, target.with_name(target.name + ".tmp"))
        os.replace(target.with_name(target.name + ".tmp"), target)
        target.chmod(0o644)


def _sweep_stale() -> None:
    """Remove the view folders of our own grader processes that were killed (no atexit)."""
    for path in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        pid = path.name[len(PREFIX):].split("-")[0]
        try:
            ours = path.lstat().st_uid == os.getuid() and path.is_dir() and not path.is_symlink()
        except OSError:
            continue
        if ours and pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------ the base interpreter


def _base_paths() -> Iterator[Path]:
    """The base executable, its libpython, the stdlib and lib-dynload, outside /usr."""
    base = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    stdlib = Path(sysconfig.get_path("stdlib")).resolve()
    paths = [base, stdlib]
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        libdir = Path(sysconfig.get_config_var("LIBDIR") or "")
        for name in (sysconfig.get_config_var("INSTSONAME"),
                     sysconfig.get_config_var("LDLIBRARY")):
            if name and (libdir / name).exists():
                paths += [libdir / name, (libdir / name).resolve()]
    paths += [Path(p).resolve() for p in sys.path
              if Path(p).name == "lib-dynload" and Path(p).is_dir()]
    kept: list[Path] = []
    for path in dict.fromkeys(p.resolve() for p in paths):  # one mount each: no nested ones
        if not _under(path, [Path("/usr"), *(k for k in kept if k.is_dir())]):
            kept.append(path)
    return iter(kept)


def _covered(readable: tuple[Path, ...], prefix: Path) -> Iterator[Path]:
    """Folders the binds would show that hold more than the stdlib: site dirs, the course.

    Only those under a bound tree (the stdlib, /usr) are covered: elsewhere the
    box's root is empty already, and a covering folder would only add a name.
    """
    from grader import catalog

    stdlib = Path(sysconfig.get_path("stdlib")).resolve()
    candidates = [stdlib / "site-packages", stdlib / "dist-packages",
                  *map(Path, site.getsitepackages([sys.base_prefix])),
                  *map(Path, [p for p in sys.path if p]), catalog.PACKAGE_DIR,
                  catalog.PACKAGE_DIR.parent, Path(os.environ.get("GRADER_COURSE_DIR") or "/")]
    bound = [Path("/usr"), *(p for p in readable if p.is_dir())]
    for path in dict.fromkeys(candidates):
        if not path.is_dir() or path.name == "lib-dynload":
            continue
        real = path.resolve()
        if real == stdlib or _under(real, [prefix]) or _under(stdlib, [real]):
            continue
        if _under(real, bound):
            yield real


def _under(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)
