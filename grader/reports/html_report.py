"""[parent] OUT/report.html: the class report a teacher opens in a browser.

One self-contained file (inline CSS, a small inline script, inline SVG; no URL
to fetch), rendered by Jinja2 from the same results as results.json: the
class table (sortable, filterable), a histogram per assignment, the tests most
failed across the class (what to re-teach), and each student's detail with
the timelines of their requests. Autoescaping is on, and every text a
submission controls also passes `escape.visible` (the `shown` filter); a
Content-Security-Policy lets only our own script run and nothing load, a
second layer under the escaping.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from grader import catalog, i18n
from grader.i18n import N_, _
from grader.reports import charts, escape
from grader.reports.atomic import write_atomic
from grader.reports.feedback import (
    PROBLEM_STATUSES,
    format_points,
    in_course_order,
    plain_message,
)
from grader.results import SubmissionResult, TestResult

REPORT_NAME = "report.html"
TEMPLATES = Path(__file__).resolve().parent / "templates"
MOST_FAILED = 10  # tests listed in "what to re-teach"
TIMELINE_SLUGS = ("long_func", "wiki_stats")


@dataclass
class Failure:
    """A hidden test as the class fared on it: how many failed, and the commonest message."""

    test_id: str
    heading: str
    failed: int = 0
    graded: int = 0  # submissions whose assignment was graded (the test ran)
    messages: Counter[str] = field(default_factory=Counter)

    @property
    def commonest(self) -> str:
        return self.messages.most_common(1)[0][0] if self.messages else ""

    @property
    def commonest_count(self) -> int:
        return self.messages.most_common(1)[0][1] if self.messages else 0


def most_failed(results: list[SubmissionResult], limit: int = MOST_FAILED) -> list[Failure]:
    """The tests failed by most submissions whose assignment was graded.

    A missing or unreadable file fails every test of its assignment for one
    reason, already shown in the table: counting it would bury what the
    students who did hand in got wrong.
    """
    seen: dict[str, Failure] = {}
    for result in results:
        for assignment in result.assignments.values():
            if assignment.status != "graded":
                continue
            for test in assignment.tests:
                entry = seen.setdefault(test.id, Failure(test.id, test.heading))
                entry.graded += 1
                if test.status in PROBLEM_STATUSES:
                    entry.failed += 1
                    entry.messages[plain_message(test.message) or test.status] += 1
    failures = [f for f in seen.values() if f.failed]
    return sorted(failures, key=lambda f: (-f.failed, f.test_id))[:limit]


@dataclass(frozen=True)
class Column:
    slug: str
    max_score: float


def columns(results: list[SubmissionResult]) -> list[Column]:
    """The course's assignments, then any other slug the results hold (a merged older file)."""
    known = [Column(a.slug, a.points) for a in catalog.assignments()]
    slugs = {c.slug for c in known}
    extra: dict[str, float] = {}
    for result in results:
        for slug, assignment in result.assignments.items():
            if slug not in slugs:
                extra[slug] = max(extra.get(slug, 0.0), assignment.max_score)
    return known + [Column(slug, extra[slug]) for slug in sorted(extra)]


def histograms(results: list[SubmissionResult], cols: list[Column]) -> list[dict[str, Any]]:
    """One histogram per assignment (scores of the submissions that have it), then the totals."""
    pictures = []
    for col in cols:
        scores = [r.assignments[col.slug].score for r in results if col.slug in r.assignments]
        pictures.append({"title": col.slug, "max": col.max_score, "count": len(scores),
                         "svg": charts.histogram(scores, col.max_score,
                                                 label=_scores_label(col.slug))})
    most = max((r.max_score for r in results), default=float(catalog.max_total()))
    total = _("total")
    pictures.append({"title": total, "max": most, "count": len(results),
                     "svg": charts.histogram([r.score for r in results], most,
                                             label=_scores_label(total))})
    return pictures


def _scores_label(title: str) -> str:
    return _("{title}: scores").format(title=title)


def timelines(result: SubmissionResult) -> dict[str, list[dict[str, Any]]]:
    """Per assignment, the timelines its tests kept (long_func's and wiki_stats' overlap)."""
    kept: dict[str, list[dict[str, Any]]] = {}
    for slug in TIMELINE_SLUGS:
        assignment = result.assignments.get(slug)
        for test in assignment.tests if assignment is not None else []:
            if test.timeline:
                kept.setdefault(slug, []).append(_timeline_view(test))
    return kept


def _timeline_view(test: TestResult) -> dict[str, Any]:
    timeline = test.timeline or []
    return {"heading": test.heading, "requests": len(timeline),
            "peak": charts.peak_in_flight(timeline),
            "svg": charts.timeline_svg(timeline, label=_("{heading}: requests over time").format(
                heading=test.heading))}


# a status as a person reads it; the class names and results.json keep the English word
_STATUS_WORDS = {"passed": N_("passed"), "failed": N_("failed"), "error": N_("error"),
                 "timeout": N_("timeout"), "skipped": N_("skipped"), "missing": N_("missing"),
                 "graded": N_("graded")}


def _status_word(status: str) -> str:
    return _(_STATUS_WORDS[status]) if status in _STATUS_WORDS else status


def _status_class(status: str) -> str:
    return status if status in ("passed", "failed", "error", "timeout", "skipped", "graded",
                                "missing") else "other"


def _sort_number(value: float) -> str:
    return format_points(value) if math.isfinite(value) else "0"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template here is HTML: never rely on file extensions
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # `_` and `ngettext` read the language chosen when called, so one cached environment serves
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the extension
        i18n._, i18n.ngettext, newstyle=True)
    env.filters["status_word"] = _status_word
    env.filters["shown"] = lambda text: escape.visible(str(text), multiline=True)
    env.filters["points"] = format_points
    env.filters["sort_number"] = _sort_number
    env.filters["status_class"] = _status_class
    env.filters["plain"] = plain_message
    return env


def _script() -> str:
    return (TEMPLATES / "report.js").read_text(encoding="utf-8")


def _style() -> str:
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")


def script_hash(script: str) -> str:
    """The CSP source that lets exactly this inline script run (and no other)."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def render(results: list[SubmissionResult], meta: dict[str, Any]) -> str:
    """The report's HTML for `results` (in the given order) under results.json's top fields."""
    cols = columns(results)
    script = _script()
    return _environment().get_template("report.html.j2").render(
        meta=meta,
        results=results,
        columns=cols,
        histograms=histograms(results, cols),
        failures=most_failed(results),
        timelines={r.student: timelines(r) for r in results},
        in_course_order=in_course_order,
        script=script,
        script_source=script_hash(script),
        style=_style(),
        lang=i18n.language(),
    )


def write(path: Path, results: list[SubmissionResult], meta: dict[str, Any]) -> None:
    """Render and replace `path` atomically (the reader sees the old report or the new one)."""
    html = render(results, meta)
    write_atomic(path, html.encode("utf-8", errors="replace"))
