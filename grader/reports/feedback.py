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
from grader.i18n import N_, _, ngettext
from grader.reports.escape import terminal
from grader.results import AssignmentResult, SubmissionResult, TestResult

PROBLEM_STATUSES = ("failed", "error", "timeout")
_MARKS = {"failed": "✘", "error": "✘", "timeout": "⏱"}
_STATUS_WORDS = {"failed": "", "error": N_(" (error)"), "timeout": N_(" (timed out)")}
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
        return _("{file} is missing — create it from the stub").format(
            file=file_of(assignment.slug))
    return _("{file} could not be graded").format(file=file_of(assignment.slug))


def problem_tests(assignment: AssignmentResult) -> list[TestResult]:
    return [t for t in assignment.tests if t.status in PROBLEM_STATUSES]


_STATUS_NAMES = {"graded": N_("graded"), "missing": N_("missing"), "error": N_("error"),
                 "timeout": N_("timed out")}


def _hint_word() -> str:
    return _("Hint:")


def _status_name(status: str) -> str:
    """An assignment's status as a word of the chosen language."""
    return _(_STATUS_NAMES[status]) if status in _STATUS_NAMES else status


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
    line = ngettext("{passed} of {count} test passed", "{passed} of {count} tests passed",
                    len(tests)).format(passed=passed, count=len(tests))
    return line + (_(", {skipped} skipped").format(skipped=skipped) if skipped else "")


def _worth(points: float, most: float) -> str:
    """"0 of 12.5 points": what a lost test was worth."""
    # a fraction takes the form of 2 in both languages ("12.5 points", "12,5 балла")
    count = int(most) if float(most).is_integer() else 2
    return ngettext("{points} of {most} point", "{points} of {most} points", count).format(
        points=format_points(points), most=format_points(most))


def _status_words(test: TestResult) -> str:
    word = _STATUS_WORDS[test.status]
    return _(word) if word else ""


def _test_lines(test: TestResult, paint: Painter) -> list[str]:
    """A lost test: its title as the heading, then what was observed and expected, then a hint."""
    mark = paint(_MARKS[test.status], fg="red")
    worth = _worth(test.points, test.max_points)
    return [f"    {mark} {terminal(test.heading)}{_status_words(test)}  ({worth})",
            *_details(test, paint)]


def _details(test: TestResult, paint: Painter) -> list[str]:
    """What was observed and expected, then the hint: the body of a lost test or group."""
    message = terminal(plain_message(test.message), multiline=True) or _("no details")
    lines = ["      " + line for line in _indented(message, "")]
    if test.hint:
        hint = terminal(plain_message(test.hint), multiline=True)
        hint_first, *hint_rest = _indented(hint, " " * 12)
        lines += [f"      {paint(_hint_word(), fg='yellow')} {hint_first}", *hint_rest]
    return lines


def _passed_line(test: TestResult, paint: Painter) -> str:
    """A test that lost nothing (or was skipped): one line, its title."""
    if test.status == "passed":
        return f"    {paint('✔', fg='green')} {terminal(test.heading)}"
    return f"    – {terminal(test.heading)}" + _(" (skipped)")


def _assignment_lines(assignment: AssignmentResult, width: int, paint: Painter) -> list[str]:
    good = _full_marks(assignment)
    mark = paint("✔" if good else "✘", fg="green" if good else "red", bold=True)
    score = score_text(assignment.score, assignment.max_score)
    head = f"{mark} {assignment.slug.ljust(width)}  {score:>7}"
    if assignment.status != "graded":
        problem = terminal(assignment_problem(assignment), multiline=True)
        # "req.py is missing" needs no "missing:" in front
        said = re.search(rf"\b{assignment.status}\b", problem, re.IGNORECASE)
        note = problem if said else f"{_status_name(assignment.status)}: {problem}"
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
    most = sum(t.max_points for t in group)
    mark = paint(_MARKS[first.status], fg="red")
    said = _("{count} tests lost {worth} the same way{status}, first “{title}”:").format(
        count=len(group), worth=_worth(lost, most), status=_status_words(first),
        title=terminal(first.heading))
    return [f"    {mark} {said}", *_details(first, paint)]


def _score_table(result: SubmissionResult, assignments: list[AssignmentResult],
                 width: int, paint: Painter) -> list[str]:
    """The scores again at the very end, where they stay on screen after a long report."""
    lines = [paint(_("Score"), bold=True)]
    for assignment in assignments:
        good = _full_marks(assignment)
        mark = paint("✔" if good else "✘", fg="green" if good else "red")
        status = "" if assignment.status == "graded" else f"  ({_status_name(assignment.status)})"
        score = score_text(assignment.score, assignment.max_score)
        lines.append(f"  {mark} {assignment.slug.ljust(width)}  {score:>7}{status}")
    total = score_text(result.score, result.max_score)
    total_word = _("total")
    lines.append(f"    {total_word.ljust(width)}  {total:>7}")
    return lines


def _first_step(assignments: list[AssignmentResult]) -> str:
    """The one concrete thing to do first: the earliest shortfall in course order."""
    for assignment in assignments:
        slug, file = assignment.slug, file_of(assignment.slug)
        if assignment.status == "missing":
            return _("Create {file} from the stub in your kit and fill it in.").format(file=file)
        if assignment.status == "error":
            return _("Make {file} import and run without crashing "
                     "(see the {slug} line above).").format(file=file, slug=slug)
        failing = problem_tests(assignment)
        if failing:
            return _("Fix {slug} first, starting with “{title}” (see above).").format(
                slug=slug, title=terminal(failing[0].heading))
        if not _full_marks(assignment):
            return _("Look at {slug} above: {score}.").format(
                slug=slug, score=score_text(assignment.score, assignment.max_score))
    return _("Look at the note at the top of this report.")


def _next_steps(
    result: SubmissionResult, assignments: list[AssignmentResult], paint: Painter
) -> list[str]:
    head = paint(_("What to do next"), bold=True)
    if assignments and all(map(_full_marks, assignments)) and not result.message:
        return [head, "  " + _("Every assignment has full marks — congratulations! "
                               "Nothing left to do.")]
    lines = [
        head,
        f"  1. {_first_step(assignments)}",
        "  2. " + _("Run `grader check` again to see your new score."),
    ]
    behind = sum(not _full_marks(a) for a in assignments)
    if behind > 1:
        lines.append("  " + ngettext(
            "{count} assignment is below full marks: take them in the order above.",
            "{count} assignments are below full marks: take them in the order above.",
            behind).format(count=behind))
    return lines


def render_check(result: SubmissionResult, *, color: bool) -> str:
    """The report a student reads after `grader check`: verdicts, failures with hints, next step.

    Every text that may quote the submission goes through escape.terminal: shown, not obeyed.
    """
    paint = _painter(color)
    assignments = in_course_order(result)
    width = max((len(a.slug) for a in assignments), default=0)
    total = score_text(result.score, result.max_score)
    head = _("Grading report for {student}: {score}").format(
        student=terminal(result.student), score=total)
    lines = [paint(head, bold=True)]
    if result.isolation == "process":  # Windows: nothing but a process of its own
        lines.append(_("Your code ran without a sandbox, as a process of its own ({level} "
                       "isolation).").format(level=result.isolation))
    elif result.isolation:
        lines.append(_("Your code ran in a sandbox: {level} isolation.").format(
            level=result.isolation))
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
