"""[parent] Run one assignment's hidden suite against one prepared submission.

The suite runs in a test process of its own, forked from a warm zygote
(grader/test_launch.py) and given the run's description (grader/test_run.py);
it is trusted: it never imports student code. It starts the sandboxed worker that
does (see worker_link.py), judges what comes back, and streams events to a
report file; this module turns them into an AssignmentResult. Points come
from the parent's own collection of the suite, and a test that never
reported a result gets none: a killed run keeps what finished and no more.
"""

from __future__ import annotations

import inspect
import math
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader import i18n, sandbox, test_launch, trusted_limits
from grader.catalog import SUITES_DIR, Assignment
from grader.i18n import N_, _, first_line, language
from grader.progress import MAX_LINE_BYTES, Tailer, Tracker, event_of
from grader.results import (
    HINT_LIMIT,
    MESSAGE_LIMIT,
    TIMELINE_LIMIT,
    AssignmentResult,
    AssignmentStatus,
    TestResult,
    TestStatus,
    Timeline,
    cap,
    checked_location,
)
from grader.test_run import TestRun

MAX_EVENT_BYTES = MAX_LINE_BYTES  # an over-long line is skipped unread (grader/progress.py)

# Code finds the grader's own failures by this prefix (grading.internal_errors, the results
# file), so a message starts with it in English whatever the language: see internal_error().
INTERNAL_ERROR = N_("internal grader error, tell the teacher")


def internal_error(detail: str) -> str:
    """`INTERNAL_ERROR: detail`; in another language the prefix's translation follows it."""
    said = _(INTERNAL_ERROR)
    prefix = INTERNAL_ERROR if said == INTERNAL_ERROR else f"{INTERNAL_ERROR} ({said})"
    return f"{prefix}: {detail}"


@dataclass(frozen=True)
class TestSpec:
    """A hidden test as the parent knows it: its id, its points and its title."""

    __test__ = False  # not a pytest test class, despite the name

    id: str
    points: float
    title: str = ""  # the first line of the test function's docstring: what the student reads
    node: str = ""  # pytest's node id, relative to the suites' root: runs this test alone


def title_of(item: pytest.Item) -> str:
    """The first line of the test function's docstring, in the chosen language; "" if none.

    grader.i18n_extract gives the same lines to the catalog, so each has its translation.
    """
    function = getattr(item, "function", None)
    doc = inspect.getdoc(function) if function is not None else None
    return _(first_line(doc)) if doc and doc.strip() else ""


class _Collector:
    """pytest plugin that records test ids, points and titles during --collect-only."""

    def __init__(self) -> None:
        self.specs: list[TestSpec] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from grader.suites.plugin import points_of, test_id

        self.specs = [TestSpec(test_id(item), points_of(item), title_of(item), item.nodeid)
                      for item in session.items]


_collected: dict[tuple[str, str], list[TestSpec]] = {}  # by slug and language (the titles)
_collect_lock = threading.Lock()


def collect(assignment: Assignment) -> list[TestSpec]:
    """The suite's tests and points, collected once per process (no student code runs)."""
    with _collect_lock:
        key = (assignment.slug, language())
        if key not in _collected:
            collector = _Collector()
            args = [str(assignment.suite), "--collect-only", "-c",
                    str(SUITES_DIR / "pytest.ini"), "--rootdir", str(SUITES_DIR),
                    "-p", "grader.suites.plugin", "-p", "no:terminal"]
            code = pytest.main(args, plugins=[collector])
            if code != 0 or not collector.specs:
                raise RuntimeError(f"cannot collect the hidden suite of {assignment.slug}")
            _collected[key] = collector.specs
        return _collected[key]


def run_suite(assignment: Assignment, folder: Path, scratch: Path, *,
              tracker: Tracker | None = None, shards: int = 1) -> AssignmentResult:
    """Grade `folder` (a private copy) on one assignment; never raises for student faults.

    A `tracker` hears each test start and finish while the run goes on (display
    only: the result is read from the events file once the run has ended).
    `shards` > 1 splits the suite's tests over that many test processes run at
    once, each with its own copy and its own worker (`combine`): the suite's
    waits overlap, for a student waiting on `grader check`; the verdicts are
    those of one process, since every test starts from the module as imported.
    """
    specs = collect(assignment)
    if tracker is not None:
        tracker.started([spec.id for spec in specs])
    if not (folder / assignment.file).is_file():
        return not_graded(assignment, "missing",
                          _("{file} is missing: copy the stub, fill it in and hand it in").format(
                              file=assignment.file))
    groups = [specs[i::shards] for i in range(max(1, min(shards, len(specs))))]
    if len(groups) == 1:
        return _run_part(assignment, folder, scratch / assignment.slug, specs, (), tracker)
    with ThreadPoolExecutor(len(groups), thread_name_prefix=f"shard-{assignment.slug}") as pool:
        parts = list(pool.map(
            lambda n: _run_part(assignment, folder, scratch / assignment.slug / f"s{n}",
                                groups[n], tuple(s.node for s in groups[n]), tracker),
            range(len(groups))))
    return combine(assignment, specs, parts)


def _run_part(assignment: Assignment, folder: Path, workdir: Path, specs: list[TestSpec],
              nodes: tuple[str, ...], tracker: Tracker | None) -> AssignmentResult:
    """One test process over `nodes` (all of the suite when empty) on its own copy."""
    workdir.mkdir(parents=True, exist_ok=True)
    own_copy = workdir / "submission"  # the worker's only writable place, for this run alone
    shutil.copytree(folder, own_copy, symlinks=True)
    put_stand_ins(assignment, own_copy)
    report = workdir / "events.jsonl"
    run = TestRun(suite=assignment.suite, submission=own_copy, module=assignment.module,
                  report=report, test_timeout=assignment.test_timeout,
                  suite_timeout=assignment.suite_timeout, home=workdir,
                  work=workdir / "trusted", lifetime=assignment.suite_timeout,
                  sandbox_setup=sandbox.export_setup(), language=i18n.language(), tests=nodes)
    if tracker is None:
        outcome = test_launch.run(run)
    else:
        with Tailer(report, tracker.event):
            outcome = test_launch.run(run)
    return assemble(assignment, specs, read_events(report), outcome)


def combine(assignment: Assignment, specs: list[TestSpec],
            parts: list[AssignmentResult]) -> AssignmentResult:
    """The shards of one suite as one result, as if one process had run them all.

    A part that could not grade (an import error, a flooded web, the suite's
    limit) speaks for the whole assignment, as it would have in one process.
    """
    by_id = {test.id: test for part in parts for test in part.tests}
    tests = [by_id[spec.id] for spec in specs if spec.id in by_id]
    duration = max(part.duration for part in parts)
    broken = next((part for part in parts if part.status != "graded"), None)
    if broken is not None:
        tests = [_zeroed(t, broken.message) for t in tests]
        return AssignmentResult(assignment.slug, 0, assignment.points, broken.status,
                                broken.message, tests, duration)
    message = next((part.message for part in parts if part.message), "")
    score = round(sum(t.points for t in tests), 2)
    return AssignmentResult(assignment.slug, score, assignment.points, "graded", message,
                            tests, duration)


def put_stand_ins(assignment: Assignment, own_copy: Path) -> None:
    """Replace the contract files `assignment` imports with correct stand-ins.

    Error carried forward (grading policy, section 4): wiki_stats is graded as
    if the timing.py it imports were correct, so a flaw there is charged once.
    """
    for imported in assignment.imports:
        stand_in = SUITES_DIR / imported / "stand_in.py"
        target = own_copy / f"{imported}.py"
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            shutil.rmtree(target)
        shutil.copyfile(stand_in, target)


def read_events(report: Path) -> list[dict[str, Any]]:
    """Every well-formed event line; anything else in the file (or too long) is ignored."""
    if not report.is_file():
        return []
    events = []
    with report.open("rb") as stream:
        while line := stream.readline(MAX_EVENT_BYTES + 1):
            if len(line) > MAX_EVENT_BYTES:
                _skip_line(stream, line)
                continue
            event = event_of(line)
            if event is not None:
                events.append(event)
    return events


def _skip_line(stream: Any, read: bytes) -> None:
    """Read past the rest of an over-long line, a bounded piece at a time."""
    while read and not read.endswith(b"\n"):
        read = stream.readline(MAX_EVENT_BYTES)


def not_graded(assignment: Assignment, status: AssignmentStatus,
               message: str) -> AssignmentResult:
    """0 points, every test an error for the one reason in `message`."""
    tests = [TestResult(s.id, "error", 0, s.points, message, title=s.title)
             for s in collect(assignment)]
    return AssignmentResult(assignment.slug, 0, assignment.points, status, message, tests)


def assemble(
    assignment: Assignment,
    specs: list[TestSpec],
    events: list[dict[str, Any]],
    outcome: sandbox.Outcome,
) -> AssignmentResult:
    """Combine the trusted test list with what the child reported before it ended."""
    verdicts: dict[str, dict[str, Any]] = {}
    running = ""
    import_state = ""  # "", "started", "done", or the import error message
    flooded = ""  # the trusted web was flooded: nothing it saw is trusted (grader/suites/web.py)
    for event in events:
        kind = event["event"]
        if kind == "flooded":
            flooded = str(event.get("message", ""))[:2000] or _("the trusted web was flooded")
        elif kind == "start":
            running = str(event.get("test", ""))
        elif kind == "result":
            verdicts[str(event.get("test", ""))] = event  # the last word wins
            running = ""
        elif kind == "import_start" and not import_state:
            import_state = "started"
        elif kind == "import_done" and import_state == "started":
            import_state = cap(str(event.get("error") or ""), MESSAGE_LIMIT // 2) or "done"
    unfinished = _unfinished_message(assignment, outcome, running)
    stand_ins = frozenset(f"{imported}.py" for imported in assignment.imports)
    tests = [_test_result(spec, verdicts.get(spec.id), unfinished, running, outcome.timed_out,
                          stand_ins) for spec in specs]
    status, message = _status(assignment, import_state, unfinished)
    if flooded and status == "graded":
        status, message = "error", flooded
    if status != "graded":
        tests = [_zeroed(t, message) for t in tests]
    elif len(verdicts.keys() & {s.id for s in specs}) < len(specs):
        message = unfinished
    if unfinished.startswith(INTERNAL_ERROR) and len(verdicts.keys() & {s.id for s in specs}) \
            < len(specs):
        message = unfinished  # the grader's own failure (its memory): the teacher must hear it
    score = round(sum(t.points for t in tests), 2)
    message = explain_full_disk(message)
    for test in tests:
        test.message = explain_full_disk(test.message)
    return AssignmentResult(
        assignment.slug, score, assignment.points, status, message, tests, outcome.duration
    )


NO_SPACE = "No space left on device"  # strerror(ENOSPC), as Python words it


def explain_full_disk(message: str) -> str:
    """Say that a full disk is the student's quota, not the grader's machine.

    In the sandbox the run's folder, /tmp and /dev/shm are small tmpfs
    (sandbox.Limits: folder_bytes, file_bytes): only the run's own writes fill them.
    """
    limits = sandbox.Limits(wall_seconds=0)
    quota = _("disk quota: your code filled the space it may write to (its folder {folder} MiB, "
              "/tmp {tmp} MiB)").format(folder=limits.folder_bytes >> 20,
                                        tmp=limits.file_bytes >> 20)
    if not sandbox.folder_capped() or NO_SPACE not in message or quota in message:
        return message
    return f"{message} [{quota}]"


_TEST_STATUSES: tuple[TestStatus, ...] = ("passed", "failed", "error", "timeout", "skipped")


def _test_status(raw: object) -> TestStatus:
    """The verdict's status if it is one we know, else "error"."""
    for known in _TEST_STATUSES:
        if raw == known:
            return known
    return "error"


def _test_result(
    spec: TestSpec, verdict: dict[str, Any] | None, unfinished: str, running: str,
    timed_out: bool, stand_ins: frozenset[str] = frozenset(),
) -> TestResult:
    if verdict is None:
        status: TestStatus = "timeout" if timed_out else "error"
        note = unfinished if spec.id == running else _("not run: {reason}").format(
            reason=unfinished)
        return TestResult(spec.id, status, 0, spec.points, note, title=spec.title)
    status = _test_status(verdict.get("status"))
    points = spec.points if status == "passed" else 0
    file, line = checked_location(verdict.get("file"), verdict.get("line"))
    if file in stand_ins:  # the grader's own copy of an imported file, not the student's
        file, line = "", 0
    return TestResult(spec.id, status, points, spec.points,
                      cap(str(verdict.get("message", "")), MESSAGE_LIMIT),
                      cap(str(verdict.get("hint", "")), HINT_LIMIT), spec.title,
                      timeline=timeline_of(verdict.get("timeline")), file=file, line=line)


def timeline_of(raw: object) -> Timeline | None:
    """A verdict's timeline as results.json holds it, or None if it is not one.

    The events file is read defensively: only [sent, answered] pairs of finite,
    non-negative seconds (answered null or not before sent) are kept, at most
    TIMELINE_LIMIT, so nothing in it can break the schema or the report.
    """
    if not isinstance(raw, list):
        return None
    kept: Timeline = []
    for pair in raw[:TIMELINE_LIMIT]:
        if not (isinstance(pair, list) and len(pair) == 2 and _seconds(pair[0])):
            continue
        sent, answered = float(pair[0]), pair[1]
        if answered is not None and not (_seconds(answered) and answered >= sent):
            continue
        kept.append([sent, None if answered is None else float(answered)])
    return kept


def _seconds(value: object) -> bool:
    """A finite, non-negative number of seconds (bool is not one)."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


def _unfinished_message(assignment: Assignment, outcome: sandbox.Outcome, running: str) -> str:
    test = running.split("::")[-1]
    if outcome.timed_out:
        limit = _("the hidden tests hit their {seconds:.0f} s limit while {test} was running: "
                  "the run was stopped") if running else \
            _("the hidden tests hit their {seconds:.0f} s limit: the run was stopped")
        return limit.format(seconds=assignment.suite_timeout, test=test)
    if outcome.killed_reason == "memory":  # what the worker sends is capped: ours to fix
        memory = trusted_limits.out_of_memory_message(trusted_limits.TEST_PROCESS_BYTES)
        return internal_error(_("{problem} while {test} was running").format(
            problem=memory, test=test) if running else memory)
    reason = outcome.killed_reason or _("exit code {code}").format(code=outcome.returncode)
    ended = _("the test process ended unexpectedly ({reason}) while {test} was running") \
        if running else _("the test process ended unexpectedly ({reason})")
    return ended.format(reason=reason, test=test)


def _status(assignment: Assignment, import_state: str,
            unfinished: str) -> tuple[AssignmentStatus, str]:
    """`error` when the module could not be imported at all, else `graded`."""
    file = assignment.file
    if import_state == "started":
        return "error", _(
            "importing {file} never finished: code at module level runs forever or blocks "
            "(an infinite loop, input(), time.sleep...). Put such code under "
            '`if __name__ == "__main__":`'
        ).format(file=file)
    if import_state == "":
        return "error", _("the hidden tests could not start: {reason}").format(reason=unfinished)
    if import_state != "done":
        return "error", _("could not import {file}: {error}").format(file=file,
                                                                      error=import_state)
    return "graded", ""


def _zeroed(test: TestResult, message: str) -> TestResult:
    return TestResult(test.id, "error", 0, test.max_points, message, test.hint, test.title)
