"""Golden feedback: the exact `grader check` text three demo students read.

Each student's report (colours off) is kept in tests/golden/check_<student>.txt
and compared line for line, so any change of wording, order or verdict a
student would see is a deliberate one, reviewed as a diff of that file.

To regenerate after a deliberate change (then review `git diff tests/golden`):

    GRADER_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_feedback.py

Only what truly varies between runs and machines is normalised: the folder's
absolute path, measured or printed durations (three or more decimals, or
milliseconds), the random tokens the trusted side draws for each run (hex
words), and the sandbox level line (bwrap on one machine, rlimits on another).
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

# A measured or printed duration: three or more decimals ("0.0000 секунд", "between 0.301 and
# 0.412 s") or milliseconds ("512 ms"). Durations the suites choose are written with one or two
# decimals ("held 0.30 s") and are fixed wording, like "a 60 s limit".
_MEASURED = re.compile(r"\b\d+\.\d{3,}\b|\b\d+(?:\.\d+)?(?= ?(?:ms|мс)\b)")
# A token the trusted side draws at random for each run (secrets.token_hex): six or more hex
# digits ending a word ("/v2/news/b20b5f", "'fc335233287b51ee'", "ReportError3fa2b1").
_TOKEN = re.compile(r"(?<![0-9a-f])[0-9a-f]{6,}(?![0-9A-Za-z_])")
_ISOLATION = re.compile(r"^Your code ran in a sandbox: .+ isolation\.$", re.MULTILINE)


def normalise(text: str, folder: Path) -> str:
    """`text` with what varies between runs and machines replaced by placeholders.

    Tokens become <token1>, <token2>, ... in order of first appearance, so a token
    that appears twice (a URL and the answer it should give) still reads as one.
    """
    for path in {str(folder), str(folder.resolve())}:
        text = text.replace(path, "<folder>")
    text = text.replace(str(ROOT), "<project>")
    text = _ISOLATION.sub("Your code ran in a sandbox: <level> isolation.", text)
    text = _MEASURED.sub("<measured>", text)
    tokens: dict[str, str] = {}
    return _TOKEN.sub(lambda m: tokens.setdefault(m.group(), f"<token{len(tokens) + 1}>"), text)


def check_output(folder: Path) -> str:
    result = CliRunner().invoke(main, ["check", str(folder), "-j", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_normalise_touches_only_what_varies(tmp_path: Path) -> None:
    text = (f"Grading report for a: 89/100\nYour code ran in a sandbox: rlimits isolation.\n"
            f"  printed 0.2013 s, the call took 512 ms; 15 requests in {tmp_path}/x.py\n"
            "  'Время выполнения fetch: 0.0000 секунд' (answers held 0.60, 0.30 s)\n"
            "  req('https://x.ru/v2/b20b5f') gave {'id': 'fc335233287b51ee'}; ReportError3fa2b1"
            " for /v2/b20b5f\n"
            "  timing 16/25, 3 of 9 tests passed, status 500s, a 60 s limit, 2024-09-01, café")
    assert normalise(text, tmp_path) == (
        "Grading report for a: 89/100\nYour code ran in a sandbox: <level> isolation.\n"
        "  printed <measured> s, the call took <measured> ms; 15 requests in <folder>/x.py\n"
        "  'Время выполнения fetch: <measured> секунд' (answers held 0.60, 0.30 s)\n"
        "  req('https://x.ru/v2/<token1>') gave {'id': '<token2>'}; ReportError<token3>"
        " for /v2/<token1>\n"
        "  timing 16/25, 3 of 9 tests passed, status 500s, a 60 s limit, 2024-09-01, café")


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
