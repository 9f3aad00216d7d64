"""[parent] Gradescope's results.json: one submission's verdicts in the autograder's format.

The format is Gradescope's "Autograder Specifications" (results.json: `score`,
`execution_time`, `output`, `tests` with `name`, `score`, `max_score`, `status`,
`output`, `visibility`). Every text is plain (`output_format: text`), so a
student's message is shown as written, never rendered as HTML or Markdown.
A submission the grader cannot read still gets a valid document: score 0 and why.
"""

from __future__ import annotations

from typing import Any

from grader import catalog
from grader.i18n import _
from grader.reports import escape
from grader.reports.feedback import (
    assignment_problem,
    file_of,
    in_course_order,
    plain_message,
    score_text,
)
from grader.results import AssignmentResult, SubmissionResult, TestResult

VISIBILITY = "visible"  # the course's feedback is for the student: every test is shown
FORMAT = "text"  # plain text: nothing a student wrote is rendered as markup


def _text(text: str) -> str:
    """Plain text for Gradescope: hidden characters shown, line breaks kept."""
    return escape.visible(text, multiline=True)


def _test_output(message: str, hint: str) -> str:
    """The message, then the hint on its own line (what was observed, then what to try)."""
    body = plain_message(message) or _("no details")
    if hint:
        body += "\n" + _("Hint:") + " " + plain_message(hint)
    return _text(body)


def _test(slug: str, test: TestResult) -> dict[str, Any]:
    passed = test.status == "passed"
    return {
        "name": _text(f"{slug}: {test.heading}"),
        "score": round(test.points, 2),
        "max_score": test.max_points,
        "status": "passed" if passed else "failed",
        "output": "" if passed else _test_output(test.message, test.hint),
        "visibility": VISIBILITY,
    }


def _not_graded(assignment: AssignmentResult) -> dict[str, Any]:
    """A missing or broken file as one failed test worth the assignment: the zero explained."""
    return {
        "name": _text(_("{slug}: {file} present and importable").format(
            slug=assignment.slug, file=file_of(assignment.slug))),
        "score": 0,
        "max_score": assignment.max_score,
        "status": "failed",
        "output": _text(assignment_problem(assignment)),
        "visibility": VISIBILITY,
    }


def _tests(result: SubmissionResult) -> list[dict[str, Any]]:
    tests = []
    for assignment in in_course_order(result):
        if assignment.status != "graded":  # one cause: its tests would only repeat it
            tests.append(_not_graded(assignment))
            continue
        tests += [_test(assignment.slug, t) for t in assignment.tests]
    return tests


def _summary(result: SubmissionResult) -> str:
    lines = [_("Score: {score}").format(score=score_text(result.score, result.max_score))]
    lines += [f"{a.slug}: {score_text(a.score, a.max_score)}" for a in in_course_order(result)]
    if result.message:
        lines.insert(0, plain_message(result.message))
    return _text("\n".join(lines))


def document(result: SubmissionResult, execution_time: float) -> dict[str, Any]:
    """results.json for one graded submission (`execution_time` in seconds)."""
    return {
        "score": result.score,
        "execution_time": max(0, round(execution_time)),
        "output": _summary(result),
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "visibility": VISIBILITY,
        "tests": _tests(result),
    }


def unreadable(reason: str, execution_time: float = 0.0) -> dict[str, Any]:
    """results.json for a submission the grader could not grade: score 0 and the reason,
    one failed test per assignment so the student sees what each would have been worth."""
    shown = _text(reason)
    tests = [{"name": _text(f"{a.slug}: {a.file}"), "score": 0, "max_score": a.points,
              "status": "failed", "output": shown, "visibility": VISIBILITY}
             for a in catalog.assignments()]
    return {
        "score": 0,
        "execution_time": max(0, round(execution_time)),
        "output": _text(_("Not graded: {reason}").format(reason=reason)),
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "visibility": VISIBILITY,
        "tests": tests,
    }
