"""Golden feedback: the exact `grader check` text three demo students read.

Each student's report (colours off) is kept in tests/golden/check_<student>.txt
and compared line for line, so any change of wording, order or verdict a
student would see is a deliberate one, reviewed as a diff of that file.

To regenerate after a deliberate change (then review `git diff tests/golden`):

    GRADER_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_feedback.py

Only what truly varies between runs and machines is normalised: the folder's
absolute path, durations written in seconds or milliseconds, and the sandbox
level line (bwrap on one machine, rlimits on another).
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "submissions"
GOLDEN = Path(__file__).resolve().parent / "golden"
STUDENTS = ["kuznetsov_oleg", "petrova_anna", "сидоров_пётр"]
UPDATE = os.environ.get("GRADER_UPDATE_GOLDEN") == "1"

# A measured duration: decimal seconds ("0.2013 s", "1.5 seconds", "0.2013 секунд") or
# milliseconds ("512 ms"); whole seconds ("a 60 s limit") are fixed wording, not measurements.
_DURATION = re.compile(
    r"\b(?:\d+\.\d+ ?(?:s|sec|secs|seconds|секунд[аы]?|сек)|\d+(?:\.\d+)? ?(?:ms|мс))\b")
_ISOLATION = re.compile(r"^Your code ran in a sandbox: .+ isolation\.$", re.MULTILINE)


def normalise(text: str, folder: Path) -> str:
    """`text` with what varies between runs and machines replaced by placeholders."""
    for path in {str(folder), str(folder.resolve())}:
        text = text.replace(path, "<folder>")
    text = text.replace(str(ROOT), "<project>")
    text = _ISOLATION.sub("Your code ran in a sandbox: <level> isolation.", text)
    return _DURATION.sub("<duration>", text)


def check_output(folder: Path) -> str:
    result = CliRunner().invoke(main, ["check", str(folder), "-j", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_normalise_touches_only_what_varies(tmp_path: Path) -> None:
    text = (f"Grading report for a: 89/100\nYour code ran in a sandbox: rlimits isolation.\n"
            f"  printed 0.2013 s, the call took 512 ms; 15 requests in {tmp_path}/x.py\n"
            "  «Время выполнения fetch: 0.2013 секунд»\n"
            "  timing 16/25, 3 of 9 tests passed, status 500s, a 60 s limit")
    assert normalise(text, tmp_path) == (
        "Grading report for a: 89/100\nYour code ran in a sandbox: <level> isolation.\n"
        "  printed <duration>, the call took <duration>; 15 requests in <folder>/x.py\n"
        "  «Время выполнения fetch: <duration>»\n"
        "  timing 16/25, 3 of 9 tests passed, status 500s, a 60 s limit")


@pytest.mark.slow
@pytest.mark.parametrize("student", STUDENTS)
def test_check_output_matches_the_golden_file(student: str, tmp_path: Path) -> None:
    folder = tmp_path / student  # a copy: the student's name is the folder's
    shutil.copytree(DEMO / student, folder)
    actual = normalise(check_output(folder), folder)
    golden = GOLDEN / f"check_{student}.txt"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.is_file(), f"no {golden.name}: run with GRADER_UPDATE_GOLDEN=1 to create it"
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(expected.splitlines(keepends=True),
                                    actual.splitlines(keepends=True),
                                    fromfile=f"tests/golden/{golden.name}",
                                    tofile=f"grader check {student}")
        pytest.fail("the feedback changed (GRADER_UPDATE_GOLDEN=1 to accept it):\n"
                    + "".join(diff), pytrace=False)
