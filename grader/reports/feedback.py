"""[parent] What `grader check` prints for a student, and the one-line summary for logs.

Also the small text helpers the other reports share (numbers, course order,
messages cleaned for people), so a score reads the same everywhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import click

from grader import catalog
from grader.reports.escape import terminal
from grader.results import AssignmentResult, SubmissionResult, TestResult

PROBLEM_STATUSES = ("failed", "error", "timeout")
_MARKS = {"failed": "✘", "error": "✘", "timeout": "⏱"}
_STATUS_WORDS = {"failed": "", "error": " (error)", "timeout": " (timed out)"}
_TRACEBACK = "Traceback (most recent call last):"
_MESSAGE_LIMIT = 500
GROUP_AT = 3  # lost tests sharing one cause are told together from this many on

Painter = Callable[..., str]


def format_points(value: float) -> str:
    """20 not 20.0, 12.5 as is: scores read as a person would write them."""
    return format(round(float(value), 2), ".15g")


def score_text(score: float, max_score: float) -> str:
    return f"{format_points(score)}/{format_points(max_score)}"


def in_course_order(result: SubmissionResult) -> list[AssignmentResult]:
    """The result's assignments in course order; unknown slugs last, as found."""
    rank = {a.slug: a.order for a in catalog.assignments()}
    return sorted(result.assignments.values(), key=lambda a: rank.get(a.slug, math.inf))


def plain_message(text: str) -> str:
    """A message fit for a student: no grader traceback, no wall of text."""
    if _TRACEBACK in text:
        head, _, tail = text.partition(_TRACEBACK)
        text = " ".join([head.strip(), *tail.strip().splitlines()[-1:]])  # keep the exception line
    text = text.strip()
    if len(text) > _MESSAGE_LIMIT:
        text = text[: _MESSAGE_LIMIT - 1].rstrip() + "…"
    return text


def file_of(slug: str) -> str:
    """The file a student hands in for `slug` (a guess for a slug the catalog lacks)."""
    try:
        return catalog.get(slug).file
    except KeyError:
        return f"{slug}.py"


def assignment_problem(assignment: AssignmentResult) -> str:
    """Why a missing/error assignment scored nothing, even if the runner gave no message."""
    if assignment.message:
        return plain_message(assignment.message)
    if assignment.status == "missing":
        return f"{file_of(assignment.slug)} is missing — create it from the stub"
    return f"{file_of(assignment.slug)} could not be graded"


def problem_tests(assignment: AssignmentResult) -> list[TestResult]:
    return [t for t in assignment.tests if t.status in PROBLEM_STATUSES]


def _painter(color: bool) -> Painter:
    if color:
        return click.style
    return lambda text, **_: text


def _full_marks(assignment: AssignmentResult) -> bool:
    return assignment.status == "graded" and assignment.score >= assignment.max_score


def _indented(text: str, prefix: str) -> list[str]:
    """Continuation lines line up under the first one."""
    first, *rest = text.splitlines() or [""]
    return [first, *(prefix + line for line in rest)]


def _count_line(tests: list[TestResult]) -> str:
    if not tests:
        return ""
    passed = sum(t.status == "passed" for t in tests)
    skipped = sum(t.status == "skipped" for t in tests)
    return f"{passed} of {len(tests)} tests passed" + (f", {skipped} skipped" if skipped else "")


def _test_lines(test: TestResult, paint: Painter) -> list[str]:
    """A lost test: its title as the heading, then what was observed and expected, then a hint."""
    mark = paint(_MARKS[test.status], fg="red")
    most = format_points(test.max_points)
    worth = f"{format_points(test.points)} of {most} point{'' if most == '1' else 's'}"
    lines = [f"    {mark} {terminal(test.heading)}{_STATUS_WORDS[test.status]}  ({worth})"]
    message = terminal(plain_message(test.message), multiline=True) or "no details"
    lines += ["      " + line for line in _indented(message, "")]
    if test.hint:
        hint = terminal(plain_message(test.hint), multiline=True)
        hint_first, *hint_rest = _indented(hint, " " * 12)
        lines += [f"      {paint('Hint:', fg='yellow')} {hint_first}", *hint_rest]
    return lines


def _passed_line(test: TestResult, paint: Painter) -> str:
    """A test that lost nothing (or was skipped): one line, its title."""
    if test.status == "passed":
        return f"    {paint('✔', fg='green')} {terminal(test.heading)}"
    return f"    – {terminal(test.heading)} (skipped)"


def _assignment_lines(assignment: AssignmentResult, width: int, paint: Painter) -> list[str]:
    good = _full_marks(assignment)
    mark = paint("✔" if good else "✘", fg="green" if good else "red", bold=True)
    score = score_text(assignment.score, assignment.max_score)
    head = f"{mark} {assignment.slug.ljust(width)}  {score:>7}"
    if assignment.status != "graded":
        problem = terminal(assignment_problem(assignment), multiline=True)
        # "req.py is missing" needs no "missing:" in front
        said = re.search(rf"\b{assignment.status}\b", problem, re.IGNORECASE)
        note = problem if said else f"{assignment.status}: {problem}"
    else:
        note = _count_line(assignment.tests)
    lines = [f"{head}  {note}".rstrip()]
    if assignment.status != "graded" or good:
        return lines  # one shared cause already printed, or nothing lost: no list of echoes
    groups = _same_cause(assignment.tests)
    for test in assignment.tests:  # in the suite's order, so they read like the statement
        group = groups.get(id(test))
        if group is not None:
            if group[0] is test:  # the group is told once, where its first test stands
                lines += _group_lines(group, paint)
        elif test.status in PROBLEM_STATUSES:
            lines += _test_lines(test, paint)
        else:
            lines.append(_passed_line(test, paint))
    return lines


def _cause(test: TestResult) -> tuple[str, str]:
    """What a lost test asks the student to fix: its hint, or its message when it has none."""
    return test.status, plain_message(test.hint) or plain_message(test.message)


def _same_cause(tests: list[TestResult]) -> dict[int, list[TestResult]]:
    """Lost tests that share a cause with GROUP_AT or more others, by id: told once, not 14 times.

    A stub fails every test the same way; a screen of identical advice hides the score.
    """
    by_cause: dict[tuple[str, str], list[TestResult]] = {}
    for test in tests:
        if test.status in PROBLEM_STATUSES:
            by_cause.setdefault(_cause(test), []).append(test)
    return {id(test): group for group in by_cause.values() if len(group) >= GROUP_AT
            for test in group}


def _group_lines(group: list[TestResult], paint: Painter) -> list[str]:
    """Tests lost the same way: how many and what they were worth, one example, one hint."""
    first = group[0]
    lost = sum(t.max_points - t.points for t in group)
    total = format_points(sum(t.max_points for t in group))
    mark = paint(_MARKS[first.status], fg="red")
    lines = [f"    {mark} {len(group)} tests lost {format_points(lost)} of {total} points the "
             f"same way{_STATUS_WORDS[first.status]}, first “{terminal(first.heading)}”:"]
    message = terminal(plain_message(first.message), multiline=True) or "no details"
    lines += ["      " + line for line in _indented(message, "")]
    if first.hint:
        hint = terminal(plain_message(first.hint), multiline=True)
        hint_first, *hint_rest = _indented(hint, " " * 12)
        lines += [f"      {paint('Hint:', fg='yellow')} {hint_first}", *hint_rest]
    return lines


def _score_table(result: SubmissionResult, assignments: list[AssignmentResult],
                 width: int, paint: Painter) -> list[str]:
    """The scores again at the very end, where they stay on screen after a long report."""
    lines = [paint("Score", bold=True)]
    for assignment in assignments:
        good = _full_marks(assignment)
        mark = paint("✔" if good else "✘", fg="green" if good else "red")
        status = "" if assignment.status == "graded" else f"  ({assignment.status})"
        score = score_text(assignment.score, assignment.max_score)
        lines.append(f"  {mark} {assignment.slug.ljust(width)}  {score:>7}{status}")
    total = score_text(result.score, result.max_score)
    lines.append(f"    {'total'.ljust(width)}  {total:>7}")
    return lines


def _first_step(assignments: list[AssignmentResult]) -> str:
    """The one concrete thing to do first: the earliest shortfall in course order."""
    for assignment in assignments:
        slug, file = assignment.slug, file_of(assignment.slug)
        if assignment.status == "missing":
            return f"Create {file} from the stub in your kit and fill it in."
        if assignment.status == "error":
            return f"Make {file} import and run without crashing (see the {slug} line above)."
        failing = problem_tests(assignment)
        if failing:
            return f"Fix {slug} first, starting with “{terminal(failing[0].heading)}” (see above)."
        if not _full_marks(assignment):
            return f"Look at {slug} above: {score_text(assignment.score, assignment.max_score)}."
    return "Look at the note at the top of this report."


def _next_steps(
    result: SubmissionResult, assignments: list[AssignmentResult], paint: Painter
) -> list[str]:
    head = paint("What to do next", bold=True)
    if assignments and all(map(_full_marks, assignments)) and not result.message:
        return [head, "  Every assignment has full marks — congratulations! Nothing left to do."]
    lines = [
        head,
        f"  1. {_first_step(assignments)}",
        "  2. Run `grader check` again to see your new score.",
    ]
    behind = sum(not _full_marks(a) for a in assignments)
    if behind > 1:
        lines.append(f"  {behind} assignments are below full marks: take them in the order above.")
    return lines


def render_check(result: SubmissionResult, *, color: bool) -> str:
    """The report a student reads after `grader check`: verdicts, failures with hints, next step.

    Every text that may quote the submission goes through escape.terminal: shown, not obeyed.
    """
    paint = _painter(color)
    assignments = in_course_order(result)
    width = max((len(a.slug) for a in assignments), default=0)
    total = score_text(result.score, result.max_score)
    lines = [paint(f"Grading report for {terminal(result.student)}: {total}", bold=True)]
    if result.isolation:
        lines.append(f"Your code ran in a sandbox: {result.isolation} isolation.")
    lines.append("")
    if result.message:
        lines += [paint(terminal(plain_message(result.message), multiline=True), fg="yellow"), ""]
    for assignment in assignments:
        lines += _assignment_lines(assignment, width, paint)
    if assignments:
        lines += ["", *_score_table(result, assignments, width, paint)]
    lines += ["", *_next_steps(result, assignments, paint)]
    return "\n".join(lines)


def render_summary_line(result: SubmissionResult) -> str:
    """One plain line per submission for progress output and CI logs."""
    cells = []
    for assignment in in_course_order(result):
        status = "" if assignment.status == "graded" else f" ({assignment.status})"
        score = score_text(assignment.score, assignment.max_score)
        cells.append(f"{assignment.slug} {score}{status}")
    parts = [terminal(result.student), score_text(result.score, result.max_score),
             " ".join(cells)]
    if result.message:
        parts.append(f"({terminal(' '.join(plain_message(result.message).split()))})")
    return "  ".join(part for part in parts if part)
