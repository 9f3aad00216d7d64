"""[parent] `grader selfcheck`: the reference solutions must get full marks, the stubs zero.

A suite that fails a reference solution is wrong; one that gives points to a
stub is checking nothing. Both are caught here before a class is graded.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from grader import catalog, grading
from grader.i18n import _
from grader.reports.feedback import render_check
from grader.results import SubmissionResult
from grader.submission import Submission


def _kit(folder: Path, kind: str) -> Submission:
    """A submission folder holding every assignment's reference solution or stub."""
    folder.mkdir()
    for a in catalog.assignments():
        source = a.solution if kind == "reference" else a.stub
        shutil.copy2(source, folder / a.file)
    return Submission(kind, folder)


def _problems(result: SubmissionResult, expect_full: bool) -> list[str]:
    problems = []
    for slug, a in result.assignments.items():
        if expect_full and a.score != a.max_score:
            problems.append(_("reference {slug}: {score:g}/{max_score:g}, expected full marks")
                            .format(slug=slug, score=a.score, max_score=a.max_score))
        if not expect_full and (a.score != 0 or a.status != "graded"):
            problems.append(_("stub {slug}: {score:g}/{max_score:g} ({status}), expected 0 and "
                              "an importable stub").format(slug=slug, score=a.score,
                                                           max_score=a.max_score, status=a.status))
    return problems


def run(jobs: int = 2) -> tuple[str, bool]:
    """Grade both kits; return a report for the course author and whether all is well."""
    with tempfile.TemporaryDirectory(prefix="grader-selfcheck-") as tmp:
        kits = [_kit(Path(tmp) / kind, kind) for kind in ("reference", "stubs")]
        results = {r.student: r for r in grading.grade(kits, jobs=jobs)}
    problems = _problems(results["reference"], True) + _problems(results["stubs"], False)
    lines = [
        _("reference solutions: {score:g}/{total}").format(
            score=results["reference"].score, total=catalog.max_total()),
        _("stubs:               {score:g}/{total}").format(
            score=results["stubs"].score, total=catalog.max_total()),
    ]
    if problems:
        lines += ["", _("Problems:"), *(f"  - {p}" for p in problems), "",
                  render_check(results["reference"], color=False)]
    else:
        lines.append(_("selfcheck passed: references get full marks, stubs get 0"))
    return "\n".join(lines), not problems
