"""[parent] The closing table `grader grade` prints: each student's scores, then the problems seen.

Plain text, on a terminal and in a log alike: one row per student of the run
(a score per assignment, or the word saying why there is none), the total,
then a short list of what went wrong (errors, timeouts, unreadable hand-ins,
missing files, the grader's own failures) with counts and a few names. The
student column is cut to fit the width; a long class still gets every row.
Names go through escape.terminal; widths count terminal cells (rich.cells),
so wide letters line up.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from rich.cells import cell_len, set_cell_size

from grader import catalog
from grader.i18n import N_, _
from grader.reports.escape import terminal
from grader.reports.feedback import format_points
from grader.reports.results_file import GRADER_ERROR, UNREADABLE, status_cell
from grader.results import AssignmentResult, SubmissionResult

MIN_NAME_WIDTH = 8
MAX_NAME_WIDTH = 32
NAMES_PER_PROBLEM = 5
_STATUS_WORDS = {"missing": N_("missing"), "error": N_("error"), UNREADABLE: N_("unreadable"),
                 GRADER_ERROR: N_("grader error")}


def slugs_of(results: Sequence[SubmissionResult]) -> list[str]:
    """The assignments the results hold, in course order (unknown slugs last)."""
    known = [a.slug for a in catalog.assignments()]
    found = {slug for r in results for slug in r.assignments}
    return [s for s in known if s in found] + sorted(found - set(known))


def cell(assignment: AssignmentResult | None) -> str:
    """A score, or the word saying why the assignment has none."""
    if assignment is None:
        return "—"
    status = status_cell(assignment)
    if status == "graded":
        return format_points(assignment.score)
    return _(_STATUS_WORDS.get(status, status))


def render_table(results: Sequence[SubmissionResult], kept: Collection[str] = (),
                 width: int = 100) -> str:
    """One row per student (course order of columns), fitted to `width` terminal cells."""
    slugs = slugs_of(results)
    rows = [[cell(r.assignments.get(s)) for s in slugs]
            + [f"{format_points(r.score)}/{format_points(r.max_score)}",
               _("unchanged, kept") if r.student in kept else ""] for r in results]
    header = [*slugs, _("total"), ""]
    widths = [max(cell_len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    fixed = sum(widths) + 2 * len(widths)
    names = [terminal(r.student) for r in results]
    longest = max([cell_len(_("student")), *map(cell_len, names)])
    name_width = max(MIN_NAME_WIDTH, min(longest, MAX_NAME_WIDTH, width - fixed))
    lines = [_line(_("student"), header, widths, name_width)]
    lines.append("-" * min(width, name_width + fixed))
    lines += [_line(name, row, widths, name_width) for name, row in zip(names, rows, strict=True)]
    return "\n".join(lines)


def _line(name: str, cells: list[str], widths: list[int], name_width: int) -> str:
    shown = name if cell_len(name) <= name_width else set_cell_size(name, name_width - 1) + "…"
    parts = [set_cell_size(shown, name_width)]
    for i, (text, width) in enumerate(zip(cells, widths, strict=True)):
        last = i == len(cells) - 1
        parts.append(text if last else " " * (width - cell_len(text)) + text)
    return "  ".join(parts).rstrip()


@dataclass
class Problem:
    """One kind of problem seen in the run: how many assignments, and whose."""

    what: str
    count: int = 0
    students: list[str] = field(default_factory=list)

    def add(self, student: str) -> None:
        self.count += 1
        if student not in self.students:
            self.students.append(student)


def problems_seen(results: Sequence[SubmissionResult]) -> list[Problem]:
    """What went wrong in the run, worst first; kinds that did not happen are left out."""
    kinds = {GRADER_ERROR: Problem(_("the grader failed (grade them again)")),
             UNREADABLE: Problem(_("hand-ins that could not be read")),
             "error": Problem(_("assignments whose code could not run (import error, crash)")),
             "timeout": Problem(_("assignments with a test out of time")),
             "missing": Problem(_("assignment files missing"))}
    for result in results:
        unreadable = False
        for assignment in result.assignments.values():
            status = status_cell(assignment)
            if status == UNREADABLE:
                unreadable = True
            elif status in kinds:
                kinds[status].add(result.student)
            if status == "graded" and any(t.status == "timeout" for t in assignment.tests):
                kinds["timeout"].add(result.student)
        if unreadable:
            kinds[UNREADABLE].add(result.student)
    return [problem for problem in kinds.values() if problem.count]


def render_problems(results: Sequence[SubmissionResult]) -> str:
    """The short "problems seen" list: one line a kind, a count and the first few names."""
    seen = problems_seen(results)
    if not seen:
        return _("Problems seen: none.")
    lines = [_("Problems seen:")]
    for problem in seen:
        names = ", ".join(terminal(s) for s in problem.students[:NAMES_PER_PROBLEM])
        more = len(problem.students) - NAMES_PER_PROBLEM
        if more > 0:
            names += " " + _("and {count} more").format(count=more)
        lines.append(f"  - {problem.what}: {problem.count} ({names})")
    return "\n".join(lines)


def render_closing(results: Sequence[SubmissionResult], kept: Collection[str] = (),
                   width: int = 100) -> str:
    """The table, a blank line, the problems seen; "" when the run graded nobody."""
    if not results:
        return ""
    return f"{render_table(results, kept, width)}\n\n{render_problems(results)}"
