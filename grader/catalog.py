"""[parent, test process] The course's assignments, read from `grader/assignments/<slug>/meta.toml`.

What a wheel holds and what it does not (docs/cli.md, "Installs"):

- in the package (`grader/assignments/`, `grader/suites/`): each assignment's
  meta.toml, statements, stub and public example, and the hidden suites, so a
  plain `pip install .`, a wheel or `pip install git+URL` grades anywhere;
- in the course folder only (the repository, or `GRADER_COURSE_DIR`): the
  reference solutions (`solutions/`, for `grader selfcheck`) and the demo
  class (`examples/submissions/`, for `grader grade all` with no folder).
  A student's copy of the grader therefore never holds the solutions.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SUITES_DIR = PACKAGE_DIR / "suites"
ASSIGNMENTS_DIR = PACKAGE_DIR / "assignments"
COURSE_ENV = "GRADER_COURSE_DIR"


class CourseFolderMissing(FileNotFoundError):
    """A command needs the course folder (solutions, demo class) and this install has none."""


def course_dir() -> Path | None:
    """The course folder holding solutions/ and examples/: None when this install has none.

    `GRADER_COURSE_DIR` when set; else the checkout the package runs from (an
    editable install or `python -m grader` in a clone); never the site-packages
    folder of an installed wheel, which holds the package alone.
    """
    override = os.environ.get(COURSE_ENV)
    if override:
        return Path(override)
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file() and (
            (checkout / "solutions").is_dir() or (checkout / "examples").is_dir()):
        return checkout
    return None


def course_path(*parts: str, what: str) -> Path:
    """A folder of the course folder, or a message saying where it is looked for and why."""
    root = course_dir()
    path = None if root is None else root.joinpath(*parts)
    if path is None or not path.is_dir():
        where = f"{path} does not exist" if path is not None else (
            "this grader is installed without a course folder (a wheel or `pip install .` "
            "holds the assignments and hidden suites, never the solutions or the demo class)")
        raise CourseFolderMissing(
            f"{what} not found: {where}. Run the grader from a clone of the course "
            f"repository, or set {COURSE_ENV} to the folder holding {'/'.join(parts)}/.")
    return path


def solutions_dir() -> Path:
    """The reference solutions' folder (course authors only: never in a wheel)."""
    return course_path("solutions", what="the reference solutions (solutions/)")


def demo_class_dir() -> Path:
    """The demo class of the README's first command (a clone only)."""
    return course_path("examples", "submissions",
                       what="the demo class (examples/submissions/)")


@dataclass(frozen=True)
class Assignment:
    """One exercise: the file a student hands in, its points and time limits."""

    slug: str
    file: str
    points: int
    order: int
    imports: tuple[str, ...]
    summary_en: str
    summary_ru: str
    test_timeout: float
    suite_timeout: float

    @property
    def module(self) -> str:
        return Path(self.file).stem

    @property
    def folder(self) -> Path:
        return ASSIGNMENTS_DIR / self.slug

    @property
    def stub(self) -> Path:
        return self.folder / self.file

    @property
    def solution(self) -> Path:
        """The reference solution; CourseFolderMissing where there is no course folder."""
        return solutions_dir() / self.slug / self.file

    @property
    def suite(self) -> Path:
        return SUITES_DIR / self.slug


def _load(meta_path: Path) -> Assignment:
    meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    return Assignment(
        slug=meta["slug"],
        file=meta["file"],
        points=int(meta["points"]),
        order=int(meta["order"]),
        imports=tuple(meta.get("imports", ())),
        summary_en=meta["summary_en"],
        summary_ru=meta["summary_ru"],
        test_timeout=float(meta["timeouts"]["test"]),
        suite_timeout=float(meta["timeouts"]["assignment"]),
    )


@cache
def assignments() -> tuple[Assignment, ...]:
    """All assignments in course order."""
    metas = sorted(ASSIGNMENTS_DIR.glob("*/meta.toml"))
    if not metas:
        raise FileNotFoundError(f"no assignment under {ASSIGNMENTS_DIR}: the package is "
                                "incomplete (its package data was not installed)")
    return tuple(sorted((_load(p) for p in metas), key=lambda a: a.order))


@cache
def contract_files() -> frozenset[str]:
    """The file names a submission hands in, one per assignment (the submission contract)."""
    return frozenset(a.file for a in assignments())


def get(slug: str) -> Assignment:
    for assignment in assignments():
        if assignment.slug == slug:
            return assignment
    raise KeyError(slug)


def max_total() -> int:
    return sum(a.points for a in assignments())


@cache
def suite_hash() -> str:
    """sha256 over the hidden suites, stubs and points: names what graded a result."""
    digest = hashlib.sha256()
    files = sorted(SUITES_DIR.rglob("*.py")) + sorted(SUITES_DIR.rglob("*.ini"))
    for assignment in assignments():
        files += [assignment.stub, assignment.folder / "meta.toml"]
    for path in files:
        digest.update(str(path.relative_to(path.parents[1])).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
