"""Bad input is normal input: each case gets a clear message and 0 for what it breaks,
and the batch always finishes with a result for every submission."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from grader import grading
from grader.results import SubmissionResult
from grader.submission import discover

GOOD_TIMING = (Path(__file__).resolve().parent.parent / "solutions/timing/timing.py").read_text(
    encoding="utf-8")

CASES: dict[str, dict[str, str | bytes]] = {
    "syntax_error": {"long_func.py": "async def main(:\n    pass\n"},
    "exit_at_import": {"long_func.py": "import sys\nsys.exit(3)\n"},
    "exit_in_function": {"long_func.py": "import sys\nURL = 'x'\n"
                         "async def long_func(i):\n    sys.exit(0)\n"
                         "async def main():\n    sys.exit(0)\n"},
    "os_exit_in_function": {"long_func.py": "import os\nURL = 'x'\n"
                            "async def long_func(i):\n    os._exit(0)\n"
                            "async def main():\n    os._exit(0)\n"},
    "loop_at_import": {"long_func.py": "while True:\n    pass\n"},
    "huge_output": {"long_func.py": "import sys\nfor _ in range(200):\n"
                    "    sys.stdout.write('x' * 1_000_000)\n"},
    "memory_bomb": {"long_func.py": "blocks = []\nwhile True:\n"
                    "    blocks.append(bytearray(50_000_000))\n"},
    "cp1251_source": {"long_func.py": "URL = \"Задание 1\"\n".encode("cp1251")},
    "symlink_out": {},
    "good_timing_only": {"timing.py": GOOD_TIMING},
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SubmissionResult]:
    root = tmp_path_factory.mktemp("class")
    for name, files in CASES.items():
        folder = root / name
        folder.mkdir()
        for file, content in files.items():
            data = content if isinstance(content, bytes) else content.encode("utf-8")
            (folder / file).write_bytes(data)
    os.symlink("/etc/passwd", root / "symlink_out" / "long_func.py")
    bad_zip = root / "escaping.zip"
    with zipfile.ZipFile(bad_zip, "w") as archive:
        archive.writestr("../../evil/long_func.py", "URL = 1\n")
    good_zip = root / "zipped.zip"
    with zipfile.ZipFile(good_zip, "w") as archive:
        archive.writestr("zipped/timing.py", GOOD_TIMING)
    results = grading.grade(discover(root), jobs=os.cpu_count() or 2)
    return {r.student: r for r in results}


def test_every_submission_gets_a_result(graded: dict[str, SubmissionResult]) -> None:
    assert set(graded) == set(CASES) | {"escaping", "zipped"}


def _long_func(graded: dict[str, SubmissionResult], name: str):
    return graded[name].assignments["long_func"]


@pytest.mark.parametrize(("case", "words"), [
    ("syntax_error", "syntax error in long_func.py, line 1"),
    ("exit_at_import", "sys.exit(3)"),
    ("loop_at_import", "never finished"),
    ("memory_bomb", "MemoryError"),
    ("cp1251_source", "long_func.py is not saved as UTF-8"),
])
def test_import_failures_are_errors_that_name_the_cause(
    graded: dict[str, SubmissionResult], case: str, words: str
) -> None:
    result = _long_func(graded, case)
    assert (result.status, result.score) == ("error", 0)
    assert words in result.message


def test_sys_exit_in_a_function_fails_tests_with_a_message(
    graded: dict[str, SubmissionResult],
) -> None:
    result = _long_func(graded, "exit_in_function")
    assert result.status == "graded" and result.score == 0
    assert any("sys.exit" in t.message for t in result.tests)


def test_os_exit_ends_the_process_and_is_reported(graded: dict[str, SubmissionResult]) -> None:
    """The worker dies, the trusted test process does not: every test still gets a verdict."""
    result = _long_func(graded, "os_exit_in_function")
    assert result.score == 0 and result.status == "graded"
    assert any("exited (exit code 0)" in t.message for t in result.tests)


def test_huge_output_is_capped_and_graded(graded: dict[str, SubmissionResult]) -> None:
    result = _long_func(graded, "huge_output")
    assert result.status == "graded"  # the module imports fine; it just prints a lot
    assert len(str(result.to_dict())) < 200_000


def test_symlink_out_of_the_submission_is_not_followed(
    graded: dict[str, SubmissionResult],
) -> None:
    assert _long_func(graded, "symlink_out").status == "missing"
    assert "symlink" in graded["symlink_out"].message.lower()


def test_missing_files_score_zero_and_the_rest_is_graded(
    graded: dict[str, SubmissionResult],
) -> None:
    result = graded["good_timing_only"]
    assert result.assignments["timing"].score == 25
    for slug in ("long_func", "req", "wiki_stats"):
        assert result.assignments[slug].status == "missing"
        assert f"{slug}.py is missing" in result.assignments[slug].message


def test_zip_archives_are_unwrapped_and_escapes_refused(
    graded: dict[str, SubmissionResult],
) -> None:
    assert graded["zipped"].assignments["timing"].score == 25
    escaping = graded["escaping"]
    assert escaping.score == 0
    assert all(a.status == "error" for a in escaping.assignments.values())
    assert "could not be read" in escaping.assignments["long_func"].message
