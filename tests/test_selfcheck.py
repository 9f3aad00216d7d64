"""`grader selfcheck`: references full marks, stubs zero; and it can say no."""

from __future__ import annotations

from click.testing import CliRunner

from grader import selfcheck
from grader.cli import main
from grader.results import AssignmentResult, SubmissionResult


def test_selfcheck_passes_on_the_shipped_course() -> None:
    result = CliRunner().invoke(main, ["selfcheck", "-j", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "reference solutions: 100/100" in result.output
    assert "stubs:               0/100" in result.output


def _result(score: float, status: str = "graded") -> SubmissionResult:
    return SubmissionResult("x", {"req": AssignmentResult("req", score, 25, status)})


def test_selfcheck_flags_a_reference_below_full_marks() -> None:
    assert selfcheck._problems(_result(24), expect_full=True)
    assert not selfcheck._problems(_result(25), expect_full=True)


def test_selfcheck_flags_a_stub_that_scores_or_does_not_import() -> None:
    assert selfcheck._problems(_result(2), expect_full=False)
    assert selfcheck._problems(_result(0, "error"), expect_full=False)
    assert not selfcheck._problems(_result(0), expect_full=False)
