"""[parent] Grade whole submissions, many at once.

Every (submission, assignment) pair is one job in a thread pool; each job
forks its own test process from the warm zygote (grader/test_launch.py), so
`-j N` runs N test processes. They mostly wait (on holds the suites choose),
so N may well exceed the cores (grader/cli.py: DEFAULT_JOBS). A
submission's result is handed to `on_result` as soon as its last assignment
is done, so reports can be written while the rest of the class is graded.
A submission whose private copy hashes to content the caller already holds a
result for (`reuse`) is not graded again: that result is handed on instead.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader import catalog, i18n, runner, sandbox, test_launch
from grader.catalog import Assignment
from grader.i18n import N_, _
from grader.progress import OnProgress, Tracker
from grader.results import AssignmentResult, SubmissionResult
from grader.submission import Prepared, Submission, SubmissionError, content_hash, prepare

OnResult = Callable[[SubmissionResult], None]
# (student, content hash) -> a result already held for exactly that content, or None
Reuse = Callable[[str, str], SubmissionResult | None]
INTERNAL_ERROR = runner.INTERNAL_ERROR
# gradebook.csv's `unreadable` finds it (in any language: `begins_with`)
UNREADABLE_MESSAGE = N_("the submission could not be read")


@dataclass
class _Work:
    """One submission in progress: its private copy and the results so far."""

    submission: Submission
    scratch: Path
    assignments: tuple[Assignment, ...]
    prepared: Prepared | None = None
    problem: str = ""
    content: str = ""  # submission.content_hash of the copy; "" when it could not be made
    results: dict[str, AssignmentResult] = field(default_factory=dict)
    on_progress: OnProgress | None = None
    shards: int = 1  # test processes per assignment (runner.run_suite): free slots overlap waits

    def finish(self) -> SubmissionResult:
        ordered = {a.slug: self.results[a.slug] for a in self.assignments}
        notes = self.prepared.notes if self.prepared else []
        message = "; ".join([self.problem, *notes] if self.problem else notes)
        return SubmissionResult(self.submission.student, ordered, message, sandbox.level(),
                                sandbox.syscall_filter(), content_hash=self.content,
                                graded_at=graded_now(), language=i18n.language())


def graded_now() -> str:
    """The moment a result is finished, UTC to the microsecond: `grader merge` keeps the newest."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _start(submission: Submission, assignments: tuple[Assignment, ...]) -> _Work:
    """Make the private copy; a submission that cannot be unpacked is graded as errors."""
    work = _Work(submission, Path(tempfile.mkdtemp(prefix="grader-")), assignments)
    copy = work.scratch / "submission"
    copy.mkdir()
    try:
        work.prepared = prepare(submission, copy)
        work.content = content_hash(work.prepared)
    except SubmissionError as exc:
        work.problem = str(exc)
    return work


def _grade_one(work: _Work, assignment: Assignment) -> AssignmentResult:
    """One assignment of one submission, its progress told to `work.on_progress` if set."""
    if work.on_progress is None:
        return _grade_pair(work, assignment, None)
    tracker = Tracker(work.submission.student, assignment.slug, work.on_progress)
    result = _grade_pair(work, assignment, tracker)
    tracker.finished(result.status)
    return result


def _grade_pair(work: _Work, assignment: Assignment, tracker: Tracker | None) -> AssignmentResult:
    """One assignment of one submission; a grader fault costs this pair only."""
    if work.prepared is None:
        marker = _(UNREADABLE_MESSAGE)
        return runner.not_graded(assignment, "error", f"{marker}: {work.problem}")
    try:
        folder, scratch = work.prepared.folder, work.scratch / "runs"
        extra: dict[str, Any] = {}  # only what is asked: stand-in run_suites take 3 arguments
        if tracker is not None:
            extra["tracker"] = tracker
        if work.shards > 1:
            extra["shards"] = work.shards
        return runner.run_suite(assignment, folder, scratch, **extra)
    except MemoryError:  # the parent at its own limit (grader/trusted_limits.py)
        marker, detail = _(INTERNAL_ERROR), _("the grader process ran out of memory (its "
                                              "RLIMIT_DATA) while grading this")
        return runner.not_graded(assignment, "error", f"{marker}: {detail}")
    except Exception:  # noqa: BLE001 - one broken pair must not end the batch
        marker = _(INTERNAL_ERROR)
        detail = traceback.format_exc(limit=3).strip().splitlines()[-1]
        return runner.not_graded(assignment, "error", f"{marker}: {detail}")
    finally:  # the run's own copy and its trusted files: not needed once it is graded
        shutil.rmtree(work.scratch / "runs" / assignment.slug, ignore_errors=True)


@contextlib.contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """Hold a Ctrl-C that arrives inside the block until its end, then deliver it.

    Only the main thread receives signals and may set handlers; elsewhere, or
    when the handler was not set from Python, the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:
        yield
        return
    arrived: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _frame: arrived.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if arrived:
            signal.raise_signal(signal.SIGINT)


MAX_SHARDS = 3  # test processes per assignment at most: each costs a worker's start-up


def shards_for(jobs: int, pairs: int) -> int:
    """Test processes per assignment: the slots `jobs` leaves free once every pair has one.

    A class fills every slot with pairs already (1); one submission in `check`
    leaves most free, and its suites' waits then overlap instead of adding up.
    """
    return max(1, min(MAX_SHARDS, jobs // max(1, pairs)))


def grade(
    submissions: Iterable[Submission],
    *,
    jobs: int = 1,
    on_result: OnResult | None = None,
    only: Iterable[str] | None = None,
    reuse: Reuse | None = None,
    on_progress: OnProgress | None = None,
) -> list[SubmissionResult]:
    """Grade every submission; results come back (and to `on_result`) as each finishes.

    `only` limits grading to some assignment slugs (the project's own tests use
    it: a file is graded in a process of its own, so the others cannot change).
    `reuse` is asked, once the private copy is made, for a result already held
    for that content; one it gives is handed on as it is, nothing is run.
    `on_progress` hears each pair start, its tests start and finish, and its end
    (grader/progress.py), from the grading threads: display only.
    """
    chosen = tuple(a for a in catalog.assignments() if only is None or a.slug in set(only))
    finished: list[SubmissionResult] = []
    works = []
    for submission in submissions:
        work = _start(submission, chosen)
        work.on_progress = on_progress
        kept = reuse(work.submission.student, work.content) if reuse and work.content else None
        if kept is None:
            works.append(work)
            continue
        shutil.rmtree(work.scratch, ignore_errors=True)
        with _ctrl_c_deferred():
            finished.append(kept)
            if on_result is not None:
                on_result(kept)
    shards = shards_for(jobs, len(works) * len(chosen))
    for work in works:
        work.shards = shards
    if works:
        test_launch.warm()  # here: only the main thread can keep Ctrl-C from the zygote
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="grade")
    futures: dict[Future[AssignmentResult], _Work] = {
        pool.submit(_grade_one, work, assignment): work
        for work in works
        for assignment in work.assignments
    }
    taken: set[Future[AssignmentResult]] = set()

    def take(future: Future[AssignmentResult]) -> None:
        """One finished pair; the submission's result goes on once all its pairs are in."""
        with _ctrl_c_deferred():  # a result half handed on would be lost to both paths
            taken.add(future)
            work = futures[future]
            result = future.result()
            work.results[result.slug] = result
            if len(work.results) == len(work.assignments):
                done = work.finish()
                shutil.rmtree(work.scratch, ignore_errors=True)  # graded: its copies go now
                finished.append(done)
                if on_result is not None:
                    on_result(done)

    try:
        for future in as_completed(futures):
            take(future)
    except KeyboardInterrupt:
        # Ctrl-C: start nothing new, let the running test processes end (they run in
        # sessions of their own, the terminal's signal never reached them), and hand
        # on every submission they completed: nothing graded is lost.
        pool.shutdown(wait=True, cancel_futures=True)
        for future in futures:
            if future not in taken and future.done() and not future.cancelled():
                take(future)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for work in works:
            shutil.rmtree(work.scratch, ignore_errors=True)
    return finished


def internal_errors(results: Iterable[SubmissionResult]) -> list[str]:
    """`student/slug` of every pair the grader itself failed on (exit status 1)."""
    return [f"{r.student}/{slug}" for r in results for slug, a in r.assignments.items()
            if begins_with(a.message, INTERNAL_ERROR)]


def begins_with(message: str, marker: str) -> bool:
    """Whether `message` opens with `marker` (a message constant) in any language.

    A stored message keeps the language it was graded in, and results.json is
    read again later in another (`grader grade` in English, `check` in Russian):
    code that sorts messages matches every language's form, never the current one.
    """
    return any(message.startswith(form) for form in _forms(marker))


def _forms(marker: str) -> set[str]:
    return {marker} | {i18n.translations(language).gettext(marker) for language in i18n.LANGUAGES}

