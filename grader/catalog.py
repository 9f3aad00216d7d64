"""[parent, test process] The course's assignments, read from `assignments/<slug>/meta.toml`.

The course files (statements, stubs, solutions, demo class) live beside the
package in the repository, so the grader must be installed from a checkout
(`pip install -e .`); `GRADER_COURSE_DIR` points elsewhere if needed.
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


def course_dir() -> Path:
    """The repository root holding assignments/, solutions/ and examples/."""
    override = os.environ.get("GRADER_COURSE_DIR")
    root = Path(override) if override else PACKAGE_DIR.parent
    if not (root / "assignments").is_dir():
        raise FileNotFoundError(
            f"no assignments/ folder under {root}: install the grader from a checkout "
            "(pip install -e .) or set GRADER_COURSE_DIR"
        )
    return root


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
        return course_dir() / "assignments" / self.slug

    @property
    def stub(self) -> Path:
        return self.folder / self.file

    @property
    def solution(self) -> Path:
        return course_dir() / "solutions" / self.slug / self.file

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
    metas = sorted((course_dir() / "assignments").glob("*/meta.toml"))
    return tuple(sorted((_load(p) for p in metas), key=lambda a: a.order))


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
