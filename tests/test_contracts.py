"""The project owns its contracts: docs/ holds them, in step with the course's fixed copy.

docs/cli.md, docs/assignments.md and docs/grading-policy.md are the project's
documents; between their contract markers they say what the course's copy says
(compared when that copy is at hand: `shared` beside the clone), with only the
local edits listed here. Nothing in the repository cites a file outside it.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

# The course's fixed copy: $GRADER_CONTRACTS_DIR, else `shared` beside the clone (or beside
# the folder of its git worktrees).
COURSE_COPY = next((p for p in (*([Path(os.environ["GRADER_CONTRACTS_DIR"])]
                                  if os.environ.get("GRADER_CONTRACTS_DIR") else []),
                                *(up / "shared" / "spec" for up in ROOT.parents[:2]))
                    if p.is_dir()), ROOT.parent / "shared" / "spec")
CONTRACTS = ("cli.md", "assignments.md", "grading-policy.md")
BEGIN, END = "<!-- contract -->\n", "<!-- /contract -->\n"

# (the course's words, the project's words): each edit drops a citation of a file outside
# the repository; nothing else may differ.
LOCAL_EDITS = {
    "assignments.md": [
        ("(`../lecture/004_fa9ad2272f2ce41e.txt`, section\n", "(its notes, section\n"),
        ("The other files in\n`../lecture/` are sibling lecture notes on the same topic: "
         "background only.",
         "The course's other\nlecture notes on the same topic are background only."),
    ],
}

# A path into the course's folders beside the clone, or the old name of these documents.
OUTSIDE = re.compile(r"(?<![\w/.])(?:\.\./(?:shared|lecture)\b|spec/[\w-]+\.md)")


def contract_text(name: str) -> str:
    """The part of docs/NAME that must match the course's copy."""
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1, f"docs/{name}: contract markers"
    return text.split(BEGIN, 1)[1].split(END, 1)[0]


@pytest.mark.parametrize("name", CONTRACTS)
def test_docs_hold_each_contract(name: str) -> None:
    text = contract_text(name)
    assert text.startswith("# ") and len(text.splitlines()) > 40
    assert OUTSIDE.search(text) is None, OUTSIDE.search(text)


@pytest.mark.skipif(not COURSE_COPY.is_dir(), reason="the course's copy is not beside the clone")
@pytest.mark.parametrize("name", CONTRACTS)
def test_docs_say_what_the_course_copy_says(name: str) -> None:
    expected = (COURSE_COPY / name).read_text(encoding="utf-8")
    for course_words, project_words in LOCAL_EDITS.get(name, []):
        assert course_words in expected, f"stale local edit of {name}: {course_words!r}"
        expected = expected.replace(course_words, project_words)
    assert contract_text(name) == expected.rstrip("\n") + "\n", (
        f"docs/{name} and the course's {name} differ: copy the course's text in again "
        "(keeping LOCAL_EDITS)")


def tracked_text_files() -> list[Path]:
    """Every file of the repository (git's list in a clone, else a walk), binary ones left out."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                                check=True).stdout.decode().split("\0")
        files = [ROOT / name for name in listed if name]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "__pycache__", "build", ".mypy_cache", ".ruff_cache"}
        files = [p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.parts)]
    return [p for p in files if p.is_file() and b"\0" not in p.read_bytes()[:4096]]


def test_nothing_cites_a_file_outside_the_repository() -> None:
    cited = []
    for path in tracked_text_files():
        if path == Path(__file__):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace")
                                      .splitlines(), 1):
            if OUTSIDE.search(line):
                cited.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert cited == []


def test_the_pattern_finds_what_it_must() -> None:
    """The check above is only as good as its pattern: each old form is caught, code is not."""
    for cited in ("(spec/cli.md)", "`../shared/spec/grading-policy.md`", "`../lecture/`"):
        assert OUTSIDE.search(cited), cited
    for fine in ("WorkerSpec(folder)", "docs/cli.md", "importlib.util.spec_from_file_location",
                 "tests/spec_test.py"):
        assert OUTSIDE.search(fine) is None, fine
