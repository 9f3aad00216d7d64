"""[parent] What a folder a person names is: one submission, a class of them, or a student kit.

People name the wrong folder: a teacher forgets `all` and names the class
(`grader grade CLASS`), a student runs `grader check` in the kit of `grader
handout`, which keeps each assignment's file in a folder of its own
(`long_func/long_func.py`) beside the kit's own `pytest.ini`. Both are
recognised here, from the catalog's file names, before anything is graded.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from grader import catalog, handout
from grader.submission import Submission

KIT_CONFIG = "pytest.ini"  # written by `grader handout` beside the assignments' folders
_LOOK_DEPTH = 2  # a student's folder may wrap its files in a folder or two


def _holds_contract_file(folder: Path, depth: int = 0) -> bool:
    """A contract file at the top of `folder` or up to _LOOK_DEPTH folders below (no links)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return False
    names = catalog.contract_files()
    if any(e.name in names and e.is_file(follow_symlinks=False) for e in entries):
        return True
    return depth < _LOOK_DEPTH and any(
        _holds_contract_file(Path(e.path), depth + 1) for e in entries
        if e.is_dir(follow_symlinks=False) and not e.name.startswith("."))


def _top_files(folder: Path) -> set[str]:
    try:
        return {e.name for e in os.scandir(folder) if e.is_file(follow_symlinks=False)}
    except OSError:
        return set()


def kit_files(folder: Path) -> dict[str, Path]:
    """file name -> the file of each assignment kept the kit's way (`<slug>/<file>`), if any."""
    found = {}
    for a in catalog.assignments():
        path = folder / a.slug / a.file
        if path.is_file() and not path.is_symlink() and not (folder / a.slug).is_symlink():
            found[a.file] = path
    return found


def is_kit(folder: Path) -> bool:
    """The kit's root: the assignments' files in their own folders, or the kit's own pytest.ini.

    A folder holding a contract file at its top is a kit only if it also holds
    the kit's pytest.ini unchanged (a student who filled the files in at the root).
    """
    if not folder.is_dir() or folder.is_symlink():
        return False
    on_top = _top_files(folder) & catalog.contract_files()
    if not on_top:
        return bool(kit_files(folder))
    config = folder / KIT_CONFIG
    try:
        return config.is_file() and not config.is_symlink() and \
            config.read_text(encoding="utf-8") == handout.PYTEST_INI
    except (OSError, UnicodeDecodeError):
        return False


@dataclass(frozen=True)
class KitCopy:
    """A kit's files gathered into one submission folder, and where each came from."""

    submission: Submission
    taken: list[str]  # "long_func/long_func.py", ... as found in the kit


def gather_kit(folder: Path, into: Path) -> KitCopy:
    """Copy each assignment's file of the kit (at its root, else `<slug>/<file>`) into `into`.

    Only the contract files: the kit's statements, examples and pytest.ini are
    not the student's work, so intake has nothing of the kit's to drop or warn about.
    """
    student = folder.resolve().name or "submission"
    target = into / student
    target.mkdir(parents=True)
    nested = kit_files(folder)
    taken = []
    for a in catalog.assignments():
        top = folder / a.file
        source = top if top.is_file() and not top.is_symlink() else nested.get(a.file)
        if source is not None:
            shutil.copyfile(source, target / a.file)
            taken.append(source.relative_to(folder).as_posix())
    return KitCopy(Submission(student, target), taken)


def class_size(folder: Path) -> int:
    """How many submissions `folder` holds when it is a class folder, not one submission; else 0.

    A class folder holds no contract file of its own but two or more folders
    (or .zip files) that each hold one; the kit's assignment folders are not students.
    """
    if not folder.is_dir() or folder.is_symlink() or _top_files(folder) & catalog.contract_files():
        return 0
    slugs = {a.slug for a in catalog.assignments()}
    try:
        entries = [e for e in os.scandir(folder) if not e.name.startswith(".")]
    except OSError:
        return 0
    students = [e for e in entries
                if (e.is_file(follow_symlinks=False) and e.name.lower().endswith(".zip"))
                or (e.is_dir(follow_symlinks=False) and e.name not in slugs
                    and _holds_contract_file(Path(e.path)))]
    return len(students) if len(students) >= 2 else 0
