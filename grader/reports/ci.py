"""[parent] Output for CI: the GitHub job summary, workflow annotations and a JUnit XML file.

Every text from a submission goes through grader.reports.escape for its place:
Markdown or HTML in the summary, GitHub's escaping in annotations, XML in JUnit.
One student whose part cannot be rendered gets a line saying so; the rest is written.
"""

# No `from __future__ import annotations`: this module's `annotations()` is its API.

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from grader import catalog
from grader.i18n import N_, _, ngettext
from grader.reports import escape
from grader.reports.feedback import (
    assignment_problem,
    file_of,
    format_points,
    in_course_order,
    plain_message,
    problem_tests,
    score_text,
)
from grader.results import AssignmentResult, SubmissionResult, TestResult

_MAX_DETAIL_ITEMS = 300  # keeps the summary far below GitHub's 1 MiB per step
_NAMES_SHOWN = 5  # test names listed under a grouped message
# GitHub shows at most 10 error and 10 warning annotations per step, 50 per job
# (docs: "workflow commands", annotations): more are dropped silently, so we choose.
MAX_ERRORS = 10
MAX_WARNINGS = 10
_md = escape.markdown
T = TypeVar("T")
# a status as a person reads it (results.json keeps the English word)
_STATUS = {"passed": N_("passed"), "failed": N_("failed"), "error": N_("error"),
           "timeout": N_("timeout"), "skipped": N_("skipped"), "missing": N_("missing"),
           "graded": N_("graded")}


def _status(status: str) -> str:
    return _(_STATUS[status]) if status in _STATUS else status


def _no_details() -> str:
    return _("no details")


def _per_student(result: SubmissionResult, render: Callable[[SubmissionResult], T],
                 instead: Callable[[str, SubmissionResult], T]) -> T:
    """`render(result)`, or `instead(why, result)` if that fails: one student never costs all."""
    try:
        return render(result)
    except Exception as exc:  # noqa: BLE001 - a report bug must not end the whole report
        why = _("the report for this student failed ({error})").format(
            error=f"{type(exc).__name__}: {exc}")
        return instead(why, result)


# --- job summary ---------------------------------------------------------------------------


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _cell(assignment: AssignmentResult | None) -> str:
    if assignment is None:
        return "—"
    text = score_text(assignment.score, assignment.max_score)
    return text if assignment.status == "graded" else f"{text} ({_status(assignment.status)})"


def _table(results: list[SubmissionResult]) -> list[str]:
    slugs = [a.slug for a in catalog.assignments()]
    lines = [
        _row([_("Student"), _("Total"), *(f"`{slug}`" for slug in slugs)]),
        _row(["---", "---:", *("---:" for _ in slugs)]),
    ]
    for result in results:
        lines.append(_per_student(result, lambda r: _student_row(r, slugs),
                                  lambda why, r: _row([_md(r.student), _md(why)])))
    return lines


def _student_row(result: SubmissionResult, slugs: list[str]) -> str:
    total = f"**{score_text(result.score, result.max_score)}**"
    cells = [_cell(result.assignments.get(slug)) for slug in slugs]
    return _row([_md(result.student), total, *cells])


@dataclass
class _Problem:
    """Failed tests of one assignment that tell the same thing, said once with their count."""

    slug: str
    status: str
    message: str
    hint: str
    tests: list[TestResult]
    file: str = ""
    line: int = 0

    @property
    def points(self) -> float:
        return sum(t.max_points - t.points for t in self.tests)


def _grouped(assignment: AssignmentResult) -> list[_Problem]:
    """The assignment's failed tests, one group per (status, message, hint, place)."""
    groups: dict[tuple[str, str, str, str, int], _Problem] = {}
    for test in problem_tests(assignment):
        message = plain_message(test.message) or _no_details()
        key = (test.status, message, plain_message(test.hint), test.file, test.line)
        if key not in groups:
            groups[key] = _Problem(assignment.slug, test.status, message, key[2], [],
                                   test.file, test.line)
        groups[key].tests.append(test)
    return list(groups.values())


def _group_item(problem: _Problem) -> str:
    hint = "<br>" + _("Hint: {hint}").format(hint=_md(problem.hint)) if problem.hint else ""
    status = _status(problem.status)
    if len(problem.tests) == 1:
        test = problem.tests[0]
        title = f" — {_md(test.title)}<br>" if test.title else ": "
        return f"- **{_md(test.id)}** {status}{title}{_md(problem.message)}{hint}"
    names = ", ".join(_md(t.heading) for t in problem.tests[:_NAMES_SHOWN])
    left = len(problem.tests) - _NAMES_SHOWN
    more = _(" and {count} more").format(count=left) if left > 0 else ""
    count = len(problem.tests)
    said = ngettext("{count} test {status}", "{count} tests {status}", count).format(
        count=count, status=status)
    tests = _("Tests: {names}{more}").format(names=names, more=more)
    return f"- **{_md(problem.slug)}** {said}: {_md(problem.message)}{hint}<br>{tests}"


def _problem_items(result: SubmissionResult) -> list[str]:
    """One markdown list item per thing that cost points; tests that say the same, once."""
    items = [f"- {_md(result.message)}"] if result.message else []
    for assignment in in_course_order(result):
        if assignment.status != "graded":  # one cause: its tests would only repeat it
            problem = _md(assignment_problem(assignment))
            items.append(f"- **{_md(assignment.slug)}** {_status(assignment.status)}: {problem}")
            continue
        items += [_group_item(problem) for problem in _grouped(assignment)]
    return items


def _details(results: list[SubmissionResult]) -> list[str]:
    lines = ["", "### " + _("Problems"), ""]
    listed = 0
    for result in results:
        items = _per_student(result, _problem_items, lambda why, _r: [f"- {_md(why)}"])
        if not items:
            continue
        if listed >= _MAX_DETAIL_ITEMS:
            lines.append("_" + _("More problems are not listed here: see results.json.") + "_")
            break
        summary = _("{student} — {count} problem(s)").format(
            student=escape.html(result.student), count=len(items))
        lines += [f"<details><summary>{summary}</summary>", "", *items, "", "</details>"]
        listed += len(items)
    return lines if listed else [*lines, _("No failed tests.")]


def job_summary_markdown(results: list[SubmissionResult]) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: a score table, then each student's failed tests."""
    heading = "## " + _("Grading results")
    if not results:
        return f"{heading}\n\n" + _("No submissions were graded.") + "\n"
    return "\n".join([heading, "", *_table(results), *_details(results)]) + "\n"


# --- workflow annotations ------------------------------------------------------------------


@dataclass(frozen=True)
class Annotation:
    """One workflow annotation: what it says, where on the diff, and what it is worth."""

    level: str  # "error", "warning" or "notice"
    title: str
    message: str
    points: float  # the points it explains: the most valuable are shown first
    file: str = ""  # repository-relative path, e.g. submissions/ivanov/req.py
    line: int = 0

    def command(self) -> str:
        """One workflow command on one line: its texts escaped, so none of them starts another."""
        where = f"file={escape.workflow_property(self.file)}," if self.file else ""
        where += f"line={self.line}," if self.file and self.line > 0 else ""
        title = escape.workflow_property(self.title)
        return f"::{self.level} {where}title={title}::{escape.workflow_data(self.message)}"


def _test_message(test: TestResult) -> str:
    """What was observed (and a hint), under the test's title when it has one."""
    message = plain_message(test.message) or _no_details()
    if test.hint:
        message += "\n" + _("Hint: {hint}").format(hint=plain_message(test.hint))
    return f"{test.title}\n{message}" if test.title else message


def _path(submissions: str, student: str, file: str) -> str:
    """The file's path in the repository, as the diff names it."""
    return "/".join(part for part in (submissions.strip("/"), student, file) if part)


def _student_candidates(result: SubmissionResult, submissions: str) -> list[Annotation]:
    """Every annotation worth making for one student, at most one per failed test."""
    found = []
    if result.message:
        found.append(Annotation("error", result.student, result.message, result.max_score))
    for assignment in in_course_order(result):
        own_file = _path(submissions, result.student, file_of(assignment.slug))
        if assignment.status != "graded":
            level = "warning" if assignment.status == "missing" else "error"
            title = f"{result.student}: {assignment.slug} {_status(assignment.status)}"
            where = own_file if assignment.status == "error" else ""
            found.append(Annotation(level, title, assignment_problem(assignment),
                                    assignment.max_score, where))
            continue
        for problem in _grouped(assignment):
            test = problem.tests[0]
            file = _path(submissions, result.student, problem.file) if problem.file else own_file
            if len(problem.tests) == 1:
                title = f"{result.student}: {test.id} {_status(test.status)}"
                message = _test_message(test)
            else:
                count = len(problem.tests)
                said = ngettext("{count} test {status}", "{count} tests {status}", count).format(
                    count=count, status=_status(problem.status))
                title = f"{result.student}: {assignment.slug}, {said}"
                message = problem.message
                if problem.hint:
                    message += "\n" + _("Hint: {hint}").format(hint=problem.hint)
            found.append(Annotation("error", title, message, problem.points, file, problem.line))
    return found


def annotations(results: list[SubmissionResult], submissions: str = "submissions") -> list[str]:
    """Workflow commands: the most valuable problems first, within GitHub's limits.

    One annotation per failed test at most (tests that fail for the same reason at the
    same place share one), placed on the student's file and line when the failure
    points there (`submissions` is the folder's path in the repository). A missing file
    is a warning; the rest are errors. What does not fit is counted in one notice.
    """
    found: list[Annotation] = []
    for result in results:
        found += _per_student(
            result, lambda r: _student_candidates(r, submissions),
            lambda why, r: [Annotation("error", r.student, why, r.max_score)])
    found.sort(key=lambda a: -a.points)  # stable: course order among equals
    room = {"error": MAX_ERRORS, "warning": MAX_WARNINGS}
    shown = []
    for annotation in found:
        if room[annotation.level] > 0:
            room[annotation.level] -= 1
            shown.append(annotation.command())
    left = len(found) - len(shown)
    if left:
        more = Annotation("notice", _("More problems"), _(
            "{count} more problem(s) are not annotated (GitHub shows 10 errors and 10 warnings "
            "per step): see the job summary.").format(count=left), 0)
        shown.append(more.command())
    return shown


# --- JUnit XML -----------------------------------------------------------------------------


_xml_text = escape.xml_text


def _element(tag: str, text: str = "", **attributes: str) -> ET.Element:
    element = ET.Element(tag, {k: _xml_text(v) for k, v in attributes.items()})
    element.text = _xml_text(text) or None
    return element


def _verdict(test: TestResult) -> ET.Element | None:
    """The child saying why a test case did not pass; None when it passed."""
    body = _test_message(test)
    first_line = (plain_message(test.message) or _no_details()).splitlines()[0]
    if test.status in ("failed", "timeout"):
        return _element("failure", body, message=first_line, type=test.status)
    if test.status == "error":
        return _element("error", body, message=first_line, type="error")
    if test.status == "skipped":
        return _element("skipped", message=first_line)
    return None


def _points(points: float, max_points: float) -> ET.Element:
    """The test's points as JUnit properties (read by Jenkins, GitLab and pytest's own format);
    they come first in the test case, as the JUnit schema orders them."""
    properties = ET.Element("properties")
    for name, value in (("points", points), ("max_points", max_points)):
        properties.append(_element("property", name=name, value=format_points(value)))
    return properties


def _test_case(classname: str, name: str, verdict: ET.Element | None,
               points: float, max_points: float) -> ET.Element:
    case = _element("testcase", classname=classname, name=name)
    case.append(_points(points, max_points))
    if verdict is not None:
        case.append(verdict)
    return case


def _status_case(classname: str, assignment: AssignmentResult) -> ET.Element:
    """A missing or broken file as a test case of its own, so it shows in the counts; its
    max_points are what the assignment's listed tests do not already carry (the sum stays)."""
    message = assignment_problem(assignment)
    tag = "failure" if assignment.status == "missing" else "error"
    verdict = _element(tag, message, message=message, type=assignment.status)
    unlisted = assignment.max_score - sum(t.max_points for t in assignment.tests)
    name = _("{file} present and importable").format(file=file_of(assignment.slug))
    return _test_case(classname, name, verdict,
                      0.0, max(unlisted, 0.0))  # the points its own test cases do not carry


def _count(element: ET.Element, cases: list[ET.Element]) -> None:
    element.set("tests", str(len(cases)))
    for tag, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        element.set(attribute, str(sum(case.find(tag) is not None for case in cases)))


def _suite(student: str, assignment: AssignmentResult) -> ET.Element:
    classname = f"{student}.{assignment.slug}"
    suite = _element("testsuite", name=classname, time=f"{assignment.duration:.3f}")
    cases = [_status_case(classname, assignment)] if assignment.status != "graded" else []
    cases += [_test_case(classname, t.name, _verdict(t), t.points, t.max_points)
              for t in assignment.tests]
    suite.extend(cases)
    _count(suite, cases)
    return suite


def write_junit(results: list[SubmissionResult], path: Path) -> None:
    """JUnit XML: one testsuite per submission × assignment, one testcase per hidden test."""
    root = _element("testsuites", name="grader")
    for result in results:
        root.extend(_suite(result.student, a) for a in in_course_order(result))
    _count(root, root.findall("./testsuite/testcase"))
    tree = ET.ElementTree(root)
    ET.indent(tree)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
