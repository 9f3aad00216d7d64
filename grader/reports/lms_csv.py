"""[parent] OUT/grades-lms.csv: the gradebook as an LMS's grade import reads it.

Moodle's CSV grade import and Canvas's gradebook import both map an identifier
column to their students and each other column to one grade item, named in its
header: here `student`, one column per assignment named with its points
("long_func (20)"), then the total. Only scores: the statuses and max totals of
gradebook.csv would be read as grade items. The student column is the only text
a student controls and is escaped as in gradebook.csv (escape.csv_cell).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from grader import catalog
from grader.reports import escape
from grader.reports.feedback import format_points
from grader.results import SubmissionResult

LMS_NAME = "grades-lms.csv"


def header() -> list[str]:
    """`student`, "slug (points)" per assignment in course order, "total (max)"."""
    items = [f"{a.slug} ({format_points(a.points)})" for a in catalog.assignments()]
    return ["student", *items, f"total ({format_points(catalog.max_total())})"]


def lms_csv(results: Iterable[SubmissionResult]) -> str:
    """The file's text: a missing or unreadable file is a 0 (gradebook.csv says which);
    an assignment the result does not hold is left empty (no grade, not a zero)."""
    slugs = [a.slug for a in catalog.assignments()]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header())
    for result in results:
        cells = [result.assignments.get(slug) for slug in slugs]
        writer.writerow([escape.csv_cell(result.student),
                         *("" if a is None else format_points(a.score) for a in cells),
                         format_points(result.score)])
    return buffer.getvalue()
