"""[parent] `grader gradescope`: grade the one submission of Gradescope's autograder container.

Gradescope puts the student's files in /autograder/submission and reads
/autograder/results/results.json when run_autograder ends (its "Autograder
Specifications"). Whatever happens to the submission, a valid results.json is
written: a submission that cannot be read or graded gets score 0 and the reason.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import grading, layout
from grader.i18n import _
from grader.reports import escape
from grader.reports import gradescope as report
from grader.reports.atomic import write_atomic
from grader.submission import SubmissionError, submission_for

SUBMISSION_DIR = Path("/autograder/submission")
RESULTS_PATH = Path("/autograder/results/results.json")


@dataclass(frozen=True)
class Outcome:
    """What was written: the score, and why nothing was graded ("" when it was)."""

    score: float
    problem: str = ""


def _graded(submission_dir: Path, jobs: int) -> dict[str, Any]:
    """The document for the folder, graded as `grader check` grades one (the kit's layout too)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="grader-gradescope-") as scratch:
        if layout.is_kit(submission_dir):
            submission = layout.gather_kit(submission_dir, Path(scratch)).submission
        else:
            submission = submission_for(submission_dir)
        [result] = grading.grade([submission], jobs=jobs)
    return report.document(result, time.monotonic() - started)


def run(submission_dir: Path, results_path: Path, jobs: int) -> Outcome:
    """Grade `submission_dir` into `results_path`; never leaves Gradescope without a file.

    A submission that cannot be read, or a grader failure, is written as score 0
    with the reason (OSError from writing the file itself is the caller's).
    """
    started = time.monotonic()
    problem = ""
    try:
        document = _graded(submission_dir, jobs)
    except SubmissionError as exc:
        problem = str(exc)
    except Exception as exc:  # noqa: BLE001 - the student must still get a file saying why
        problem = _("the grader failed ({error}): tell your teacher").format(
            error=f"{type(exc).__name__}: {exc}")
    if problem:
        document = report.unreadable(problem, time.monotonic() - started)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(results_path, escape.json_bytes(document))
    return Outcome(float(document["score"]), problem)
