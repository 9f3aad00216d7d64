"""[parent] An output folder's files: OUT/results.json, OUT/gradebook.csv (docs/cli.md), its store.

Each graded submission is written at once to OUT/store/ (reports/store.py),
then both files are rebuilt in full from everything stored, each through a
temporary file in the same folder, fsync and os.replace: a run stopped at any
moment (Ctrl-C, SIGKILL, a killed CI job) leaves valid files, never a
half-written one, and loses nothing it had stored. The next run into the same
folder keeps every stored student and re-grades only what changed.
"""

from __future__ import annotations

import csv
import io
import json
import os  # noqa: F401 - tests stand in for os.replace through this module
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from grader import __version__, catalog
from grader.grading import INTERNAL_ERROR, UNREADABLE_MESSAGE, begins_with
from grader.reports import escape, html_report, lms_csv
from grader.reports.atomic import remove_leftovers, write_atomic
from grader.reports.feedback import format_points
from grader.reports.store import Store, file_name
from grader.results import AssignmentResult, SubmissionResult

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "results.schema.json"
RESULTS_NAME = "results.json"
GRADEBOOK_NAME = "gradebook.csv"

_EPS = 1e-6  # float noise when comparing sums of points
_ROUNDING = 0.01 + _EPS  # totals are rounded to 2 decimals
_MAX_REPORTED = 20
# During a batch, results.json and gradebook.csv are rebuilt at most once per this many
# times the last rebuild took: the rebuild costs O(class), so rebuilding after every
# student costs O(class²) (1000 students: 425 s measured); the store, written for each
# student, is what makes a result safe, and the next run rebuilds what a kill left behind.
_REBUILD_SPACING = 10


class InvalidResults(ValueError):
    """Results that break the schema or the score rules; the message lists the problems."""


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _schema_problems(data: Any) -> list[str]:
    errors = sorted(_validator().iter_errors(data), key=lambda e: e.json_path)
    return [f"{e.json_path}: {e.message}" for e in errors]


def _over(where: str, what: str, value: float, limit: float, limit_name: str) -> list[str]:
    if value > limit + _EPS:
        return [f"{where}: {what} {value} is above {limit_name} {limit}"]
    return []


def _not_sum(where: str, what: str, value: float, parts: list[float], of: str) -> list[str]:
    """A total that is not the sum of its parts (allowing for rounding to 2 decimals)."""
    total = sum(parts)
    if abs(total - value) > _ROUNDING:
        return [f"{where}: {what} {value} is not the sum of its {of} ({total:g})"]
    return []


def _assignment_problems(where: str, slug: str, data: dict[str, Any]) -> list[str]:
    problems = _over(where, "score", data["score"], data["max_score"], "max_score")
    tests = data["tests"]
    for test in tests:
        test_where = f"{where}, test {test['id']!r}"
        if not test["id"].startswith(f"{slug}::"):
            problems.append(f"{test_where}: id does not start with '{slug}::'")
        problems += _over(test_where, "points", test["points"], test["max_points"], "max_points")
    if tests:  # missing/error assignments may have no tests and score 0
        points = [t["points"] for t in tests]
        problems += _not_sum(where, "score", data["score"], points, "tests' points")
        most = sum(t["max_points"] for t in tests)
        problems += _over(where, "tests' max_points total", most, data["max_score"], "max_score")
    return problems


def _submission_problems(data: dict[str, Any]) -> list[str]:
    where = f"submission {data['student']!r}"
    assignments = data["assignments"].values()
    problems = _over(where, "score", data["score"], data["max_score"], "max_score")
    scores = [a["score"] for a in assignments]
    problems += _not_sum(where, "score", data["score"], scores, "assignments' scores")
    most = [a["max_score"] for a in assignments]
    problems += _not_sum(where, "max_score", data["max_score"], most, "assignments' max_score")
    for slug, assignment in data["assignments"].items():
        problems += _assignment_problems(f"{where}, {slug}", slug, assignment)
    return problems


def _score_problems(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for submission in data["submissions"]:
        if submission["student"] in seen:
            problems.append(f"student {submission['student']!r} appears more than once")
        seen.add(submission["student"])
        problems += _submission_problems(submission)
    return problems


def validate(data: Any) -> None:
    """Check results.json data: the shipped schema, then score <= max_score and the sums."""
    problems = _schema_problems(data)
    if not problems:  # the score rules rely on the shapes the schema guarantees
        problems = _score_problems(data)
    if problems:
        shown = problems[:_MAX_REPORTED]
        more = len(problems) - len(shown)
        tail = [f"... and {more} more"] if more else []
        raise InvalidResults("invalid results.json data:\n  " + "\n  ".join(shown + tail))


def load_results(path: Path) -> tuple[dict[str, Any], list[SubmissionResult]]:
    """Read and validate results.json (or the OUT folder holding it).

    Returns the top-level fields other than `submissions`, and the submissions.
    """
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidResults(f"{path} is not valid JSON: {exc}") from None
    try:
        validate(data)
    except InvalidResults as exc:
        raise InvalidResults(f"{path}: {exc}") from None
    meta = {key: value for key, value in data.items() if key != "submissions"}
    return meta, [SubmissionResult.from_dict(s) for s in data["submissions"]]


def student_sort_key(result: SubmissionResult) -> tuple[str, str]:
    """Case-insensitive order, ties broken exactly, so the files read like a class list."""
    return result.student.casefold(), result.student


STATUS_SUFFIX = "_status"
# What a status cell says, beyond results.json's graded/missing/error: why a zero is a zero.
UNREADABLE, GRADER_ERROR = "unreadable", "grader-error"
STATUS_WORDS = ("graded", "missing", "error", UNREADABLE, GRADER_ERROR)


def gradebook_header() -> list[str]:
    """The contract's columns (student, totals, one per assignment in course order), then statuses.

    The status columns come after the fixed ones, never before (docs/cli.md).
    """
    slugs = [a.slug for a in catalog.assignments()]
    return ["student", "total", "max_total", *slugs, *(s + STATUS_SUFFIX for s in slugs)]


def status_cell(assignment: AssignmentResult | None) -> str:
    """graded, missing, error (the student's code could not run), unreadable (the hand-in
    could not be unpacked) or grader-error (the grader failed: grade it again); empty when
    the result has no such assignment."""
    if assignment is None:
        return ""
    if begins_with(assignment.message, INTERNAL_ERROR):
        return GRADER_ERROR
    if begins_with(assignment.message, UNREADABLE_MESSAGE):
        return UNREADABLE
    return assignment.status


def gradebook_csv(results: Iterable[SubmissionResult]) -> str:
    """gradebook.csv's text: the header, a row per submission, course order.

    The student column is the only text a student controls: it is neutralised
    (escape.csv_cell); the numbers and status words are ours and written as they are.
    """
    slugs = [a.slug for a in catalog.assignments()]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")  # LF: shell scripts see no stray \r
    writer.writerow(gradebook_header())
    for result in results:
        cells = [result.assignments.get(slug) for slug in slugs]
        writer.writerow([
            escape.csv_cell(result.student),
            format_points(result.score),
            format_points(result.max_score),
            *("" if a is None else format_points(a.score) for a in cells),
            *(status_cell(a) for a in cells),
        ])
    return buffer.getvalue()


class ResultsFile:
    """An output folder's results: the store (one file per student) and the gradebook from it.

    Opening a folder reads what earlier runs stored there (and a results.json
    written before the store existed), so a run adds to the class instead of
    replacing it. Results stored under other hidden suites or another grader
    version are `stale`: kept on disk, left out of the gradebook (its one
    suite_hash must be true of every row) until re-graded or `forget`-ten.
    Every recorded result goes to the store first, then both files are rebuilt
    (`record`, the batch's path, rebuilds them now and then; call `flush` at the end).

    Not thread-safe: the caller serialises calls to `add`.
    """

    def __init__(
        self,
        out_dir: Path,
        *,
        isolation: str = "",
        suite_hash: str | None = None,
        grader_version: str | None = None,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._meta = {
            "grader_version": grader_version or __version__,
            "suite_hash": suite_hash or catalog.suite_hash(),
            "isolation": isolation,
        }
        self._store = Store(self.out_dir)
        self._results: dict[str, SubmissionResult] = {}  # what the gradebook lists
        self._stale: dict[str, SubmissionResult] = {}  # stored under other suites or grader
        self._recorded: set[str] = set()  # students recorded through this object
        self._unsaved: dict[str, SubmissionResult] = {}  # store writes still to make
        self.problems: list[str] = []  # stored files that could not be used, said once
        self._behind = False  # results.json and gradebook.csv lag the store
        self._rebuilt_at = self._rebuild_cost = 0.0
        remove_leftovers(self.out_dir, {RESULTS_NAME, GRADEBOOK_NAME, lms_csv.LMS_NAME,
                                        html_report.REPORT_NAME})
        self._store.remove_leftovers()
        self._load()
        if not self._stale:  # a kill may have come between a store write and the gradebook's
            self._write()

    @property
    def json_path(self) -> Path:
        return self.out_dir / RESULTS_NAME

    @property
    def csv_path(self) -> Path:
        return self.out_dir / GRADEBOOK_NAME

    @property
    def report_path(self) -> Path:
        return self.out_dir / html_report.REPORT_NAME

    @property
    def results(self) -> list[SubmissionResult]:
        """Everything the gradebook lists, sorted by student."""
        return sorted(self._results.values(), key=student_sort_key)

    @property
    def stale(self) -> list[str]:
        """Students stored under other hidden suites or another grader version."""
        return sorted(self._stale, key=lambda name: (name.casefold(), name))

    # --- reading what earlier runs stored

    def _load(self) -> None:
        stored = self._store.read_all()
        for path, data in stored:
            self._load_entry(path, data)
        if not stored and self.json_path.is_file():
            self._import_results_json()

    def _load_entry(self, path: Path, data: Any) -> None:
        """One stored student; a file that is not one is skipped and said, never fatal."""
        try:
            validate(data)
            [submission] = data["submissions"]
            result = SubmissionResult.from_dict(submission)
        except (InvalidResults, ValueError, TypeError, KeyError) as exc:
            self.problems.append(f"ignored {path}: not a stored result ({str(exc)[:200]})")
            return
        if path.name != file_name(result.student):
            self.problems.append(f"ignored {path}: its name does not match its student")
            return
        self._file(result, data)

    def _import_results_json(self) -> None:
        """A results.json from before the store (or from `grader merge`): its students are kept."""
        try:
            meta, results = load_results(self.json_path)
        except (InvalidResults, OSError, ValueError) as exc:
            self.problems.append(f"replacing {self.json_path}: it cannot be read "
                                 f"({str(exc).splitlines()[0][:200]})")
            return
        for result in results:
            self._file(result, meta)
            self._store.write(result.student, self._entry_bytes(result, meta))

    def _file(self, result: SubmissionResult, meta: dict[str, Any]) -> None:
        current = all(meta.get(key) == self._meta[key] for key in ("suite_hash",
                                                                    "grader_version"))
        (self._results if current else self._stale)[result.student] = result

    # --- reuse

    def reusable(self, student: str, content: str) -> SubmissionResult | None:
        """The stored result of `student` if it graded exactly `content` with these suites.

        Never one the grader itself failed on (an internal error is re-graded).
        """
        known = self._results.get(student)
        if known is None or not content or known.content_hash != content:
            return None
        if set(known.assignments) != {a.slug for a in catalog.assignments()}:
            return None
        if any(begins_with(a.message, INTERNAL_ERROR) for a in known.assignments.values()):
            return None
        return known

    def forget(self, students: Iterable[str]) -> None:
        """Remove students from the store and the gradebook (`--force` over stale results)."""
        for student in students:
            self._store.remove(student)
            self._results.pop(student, None)
            self._stale.pop(student, None)
            self._unsaved.pop(student, None)
        self._write()

    # --- recording

    def add(self, result: SubmissionResult) -> None:
        """Record one submission and rewrite both files."""
        self.extend([result])

    def record(self, result: SubmissionResult) -> str:
        """Like `add`, but never raises: returns what went wrong ("" when nothing did).

        A result that cannot be recorded as it is (it breaks the schema or the
        score rules, or its student is already recorded) is replaced by one that
        says so, scoring 0; a failed write leaves the result in memory for the
        next write. The batch goes on either way; the caller reports the problem.
        """
        try:
            self._keep(self._checked([result]))
            self._save()
            self._rebuild_now_and_then()
            return ""
        except OSError as exc:  # the files; self._results already holds the result
            return f"could not write {self.out_dir}: {exc}"
        except Exception as exc:  # noqa: BLE001 - a bad record costs its student only
            problem = f"could not record the result of {result.student!r}: {exc}"
        self._record_note(result, problem)
        try:
            self._write()
        except OSError as exc:
            problem += f"; could not write {self.out_dir}: {exc}"
        return problem

    def _record_note(self, result: SubmissionResult, problem: str) -> None:
        """Keep a student whose result could not be recorded in the files, with the reason."""
        note = f"{RECORD_FAILED}: {problem}"
        known = self._results.get(result.student)
        if known is not None and result.student in self._recorded:
            known.message = "; ".join(filter(None, [known.message, note]))  # the first stays
        else:
            known = unrecorded(result, note)
        self._unsaved[known.student] = known
        self._keep([known])

    def extend(self, results: Iterable[SubmissionResult]) -> None:
        """Record several submissions (e.g. merged shards) with a single rewrite.

        A result replaces what earlier runs stored for its student. A malformed
        result or a student already recorded through this object raises before
        anything is recorded, so the files stay valid.
        """
        self._keep(self._checked(results))
        self._write()

    def _checked(self, results: Iterable[SubmissionResult]) -> list[SubmissionResult]:
        """The batch, once valid and new to this object; raises before anything is kept."""
        batch = list(results)
        validate(self.document(batch))  # also refuses a student twice within the batch
        for result in batch:
            if result.student in self._recorded:
                raise ValueError(f"student {result.student!r} is already in {self.json_path}")
        return batch

    def replace_all(self, results: Iterable[SubmissionResult]) -> None:
        """Make the folder hold exactly `results` (`grader merge --out`)."""
        batch = list(results)
        validate(self.document(batch))
        self.forget([*self._results, *self._stale])
        self._keep(batch)
        self._write()

    def _keep(self, batch: list[SubmissionResult]) -> None:
        for result in batch:
            if self._results.get(result.student) is not result:  # a reused result is stored
                self._unsaved[result.student] = result
            self._results[result.student] = result
            self._stale.pop(result.student, None)
            self._recorded.add(result.student)

    # --- writing

    def document(self, results: list[SubmissionResult]) -> dict[str, Any]:
        """results.json's content for `results` under this run's top-level fields."""
        return {
            "grader_version": self._meta["grader_version"],
            "suite_hash": self._meta["suite_hash"],
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "isolation": self._meta["isolation"],
            "submissions": [r.to_dict() for r in results],
        }

    def _entry_bytes(self, result: SubmissionResult, meta: dict[str, Any] | None = None) -> bytes:
        """A store file: a results.json of one student, under the suites that graded it."""
        document = self.document([result])
        for key in ("grader_version", "suite_hash", "isolation"):
            if meta is not None and key in meta:
                document[key] = meta[key]
        return escape.json_bytes(document)

    def write_report(self) -> str:
        """OUT/report.html for what the gradebook lists; returns what went wrong, "" if nothing.

        Written once at the end of a run (not with every rebuild: it costs more and
        no later run reads it). Never raises: the gradebook is what counts.
        """
        try:
            html_report.write(self.report_path, self.results, self.document([]))
        except Exception as exc:  # noqa: BLE001 - a broken report must not cost the results
            return f"could not write {self.report_path}: {type(exc).__name__}: {exc}"
        return ""

    def flush(self) -> None:
        """Bring results.json and gradebook.csv up to date (the end of a run, Ctrl-C included)."""
        if self._unsaved or self._behind:
            self._write()

    def _write(self) -> None:
        """The store first (what the next run trusts), then the two files rebuilt from it."""
        self._save()
        self._rebuild()

    def _save(self) -> None:
        for student, result in list(self._unsaved.items()):
            self._store.write(student, self._entry_bytes(result))
            del self._unsaved[student]

    def _rebuild_now_and_then(self) -> None:
        if time.monotonic() - self._rebuilt_at >= _REBUILD_SPACING * self._rebuild_cost:
            self._rebuild()
        else:
            self._behind = True

    def _rebuild(self) -> None:
        started = time.monotonic()
        results = self.results
        write_atomic(self.json_path, escape.json_bytes(self.document(results)))
        write_atomic(self.csv_path, gradebook_csv(results).encode("utf-8"))
        write_atomic(self.out_dir / lms_csv.LMS_NAME, lms_csv.lms_csv(results).encode("utf-8"))
        self._rebuilt_at = time.monotonic()
        self._rebuild_cost = self._rebuilt_at - started
        self._behind = False


RECORD_FAILED = f"{INTERNAL_ERROR}: the report failed"


def unrecorded(result: SubmissionResult, note: str) -> SubmissionResult:
    """A stand-in for a result that could not be recorded: every assignment 0, saying why.

    Built from the catalog alone, not from the result that failed, so it is valid.
    """
    assignments = {a.slug: AssignmentResult(a.slug, 0, a.points, "error", note)
                   for a in catalog.assignments()}
    return SubmissionResult(result.student or "?", assignments, note)
