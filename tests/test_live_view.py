"""Progress while grading runs, the live terminal views, and the closing table of `grade`."""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

from grader import catalog, grading, runner
from grader.progress import MAX_LINE_BYTES, Progress, Tailer, Tracker
from grader.reports import closing, live
from grader.results import AssignmentResult, SubmissionResult, TestResult
from grader.submission import Submission

HOSTILE = "evil\x1b]0;pwned\x07\x1b[31m[bold]red[/bold]\u202eman"
RAW_PAYLOADS = ("\x1b]0;pwned", "\x1b[31m", "\u202e", "\x07")


def _line(event: dict) -> bytes:
    return (json.dumps(event) + "\n").encode()


def test_the_tailer_sees_tests_start_and_finish_in_order_and_stops(tmp_path: Path) -> None:
    report = tmp_path / "events.jsonl"
    seen: list[tuple[str, str]] = []
    pieces = [_line({"event": "import_start"}),
              _line({"event": "start", "test": "t.py::a"})[:7],  # a line in two writes
              _line({"event": "start", "test": "t.py::a"})[7:],
              b" " * (MAX_LINE_BYTES + 10),  # over-long: skipped whole, with its end
              _line({"event": "start", "test": "t.py::sneaky"}),
              b"not json\n",
              b"[1, 2]\n",
              _line({"event": "result", "test": "t.py::a", "status": "passed"}),
              _line({"event": "start", "test": "t.py::b"}),
              _line({"event": "result", "test": "t.py::b", "status": "failed"})]

    def write() -> None:
        with report.open("wb") as stream:
            for piece in pieces:
                stream.write(piece)
                stream.flush()
                time.sleep(0.03)

    writer = threading.Thread(target=write)
    with Tailer(report, lambda e: seen.append((e["event"], e.get("test", ""))),
                interval=0.01) as tailer:
        time.sleep(0.05)  # the file does not exist yet: the tailer waits for it
        writer.start()
        writer.join()
    assert not tailer.running
    assert seen == [("import_start", ""), ("start", "t.py::a"), ("result", "t.py::a"),
                    ("start", "t.py::b"), ("result", "t.py::b")]


def test_the_tracker_counts_each_known_test_once() -> None:
    told: list[Progress] = []
    tracker = Tracker("ann", "req", told.append)
    tracker.started(["t::a", "t::b"])
    for event in ({"event": "start", "test": "t::a"},
                  {"event": "result", "test": "t::a", "status": "passed"},
                  {"event": "result", "test": "t::a", "status": "failed"},  # again: counted once
                  {"event": "result", "test": "t::zzz", "status": "passed"},  # not in the suite
                  {"event": "result", "test": "t::b", "status": 7}):
        tracker.event(event)
    tracker.finished("graded")
    assert [(p.kind, p.test, p.status, p.done, p.total) for p in told] == [
        ("started", "", "", 0, 2), ("test_started", "t::a", "", 0, 2),
        ("test_finished", "t::a", "passed", 1, 2), ("test_finished", "t::a", "failed", 1, 2),
        ("test_finished", "t::b", "error", 2, 2), ("done", "", "graded", 2, 2)]
    assert {p.student for p in told} == {"ann"} and {p.slug for p in told} == {"req"}


def test_a_broken_display_does_not_break_the_tracker() -> None:
    def broken(_progress: Progress) -> None:
        raise RuntimeError("display gone")

    tracker = Tracker("ann", "req", broken)
    tracker.started(["t::a"])
    tracker.event({"event": "result", "test": "t::a", "status": "passed"})
    tracker.finished("graded")  # no exception


@pytest.mark.slow
def test_grading_reports_every_test_of_an_assignment_once(tmp_path: Path) -> None:
    assignment = catalog.get("timing")
    folder = tmp_path / "ann"
    folder.mkdir()
    (folder / assignment.file).write_text(assignment.solution.read_text(encoding="utf-8"),
                                          encoding="utf-8")
    told: list[Progress] = []
    lock = threading.Lock()

    def on_progress(progress: Progress) -> None:
        with lock:
            told.append(progress)

    [result] = grading.grade([Submission("ann", folder)], only=["timing"],
                             on_progress=on_progress)
    ids = [spec.id for spec in runner.collect(assignment)]
    finished = [p.test for p in told if p.kind == "test_finished"]
    assert sorted(finished) == sorted(ids)  # each test once, no other
    assert told[0].kind == "started" and told[0].total == len(ids)
    assert told[-1].kind == "done" and told[-1].status == result.assignments["timing"].status
    assert told[-1].done == len(ids) == len(result.assignments["timing"].tests)
    dones = [p.done for p in told]
    assert dones == sorted(dones)


def _assignment(slug: str, score: float, status: str = "graded", message: str = "",
                tests: list[TestResult] | None = None) -> AssignmentResult:
    points = catalog.get(slug).points
    return AssignmentResult(slug, score, points, status, message, tests or [])  # type: ignore[arg-type]


def _result(student: str, scores: dict[str, float], **special: AssignmentResult,
            ) -> SubmissionResult:
    assignments = {a.slug: special.get(a.slug) or _assignment(a.slug, scores.get(a.slug, 0))
                   for a in catalog.assignments()}
    return SubmissionResult(student, assignments)


def _class() -> list[SubmissionResult]:
    timeout = TestResult("t::slow", "timeout", 0, 5, "out of time")
    return [
        _result("ann", {"long_func": 20, "timing": 25, "req": 25, "wiki_stats": 30}),
        _result("bob", {"long_func": 12.5, "timing": 10},
                req=_assignment("req", 0, "missing", "req.py is missing"),
                wiki_stats=_assignment("wiki_stats", 0, "error", "could not import it")),
        _result("cyd", {"long_func": 5},
                timing=_assignment("timing", 20, tests=[timeout])),
        _result(HOSTILE, {},
                **{a.slug: _assignment(a.slug, 0, "error",
                                       f"{grading.UNREADABLE_MESSAGE}: bad zip")
                   for a in catalog.assignments()}),
    ]


def test_the_closing_table_lists_each_student_with_the_right_totals() -> None:
    text = closing.render_closing(_class(), kept={"ann"}, width=100)
    rows = {line.split()[0]: line.split() for line in text.splitlines()[2:6]}
    assert rows["ann"] == ["ann", "20", "25", "25", "30", "100/100", "unchanged,", "kept"]
    assert rows["bob"] == ["bob", "12.5", "10", "missing", "error", "22.5/100"]
    assert rows["cyd"] == ["cyd", "5", "20", "0", "0", "25/100"]
    assert text.splitlines()[0].split() == ["student", *(a.slug for a in catalog.assignments()),
                                            "total"]
    problems = text.split("Problems seen:")[1]
    assert "hand-ins that could not be read: 1" in problems
    assert "could not run (import error, crash): 1 (bob)" in problems
    assert "a test out of time: 1 (cyd)" in problems
    assert "assignment files missing: 1 (bob)" in problems


def test_the_closing_table_fits_the_width_and_keeps_every_row() -> None:
    many = [_result(f"student_with_a_rather_long_name_{i:03d}", {"timing": i % 26})
            for i in range(150)]
    text = closing.render_table(many, width=60)
    lines = text.splitlines()
    assert len(lines) == 2 + 150
    assert max(len(line) for line in lines) <= 60
    assert lines[-1].endswith(f"{149 % 26}/100")


def test_hostile_names_are_escaped_in_the_closing_table() -> None:
    text = closing.render_closing(_class())
    assert not any(payload in text for payload in RAW_PAYLOADS)
    assert "\\x1b" in text and "\\u202e" in text
    assert "\x1b" not in text


def _console(buffer: io.StringIO) -> Console:
    return Console(file=buffer, force_terminal=True, width=100, highlight=False, markup=False)


def test_the_check_view_shows_tests_running_and_done_on_a_terminal() -> None:
    view = live.CheckView([a.slug for a in catalog.assignments()])
    view.update(Progress("me", "timing", "test_started", "test_timing.py::prints_the_time",
                         done=3, total=10))
    view.update(Progress("me", "req", "done", status="missing"))
    view.update(Progress("me", "long_func", "done", status="graded", done=9, total=9))
    buffer = io.StringIO()
    console = _console(buffer)
    console.print(view)
    text = buffer.getvalue()
    assert "3/10 tests done, running prints_the_time" in text
    assert "the file is missing" in text
    assert "done (9/9 tests)" in text
    assert "waiting" in text  # wiki_stats has not started


def test_the_live_view_escapes_hostile_names_and_clears_itself() -> None:
    view = live.GradeView(students=3, assignments=4)
    buffer = io.StringIO()
    with live.showing(view, _console(buffer)) as on_progress:
        assert on_progress is not None
        on_progress(Progress(HOSTILE, "req", "test_started", "t.py::" + HOSTILE, done=1, total=5))
        time.sleep(0.6)  # at least one refresh of the live display
        print("grader: a reporting problem", file=sys.stderr)  # said above the view
    text = buffer.getvalue()
    assert "grader: a reporting problem" in text
    assert "evil" in text and "[bold]red[/bold]" in text  # shown, as text, not as markup
    assert not any(payload in text for payload in RAW_PAYLOADS)
    assert text.count("\\x1b") >= 2 and "req 1/5" in text


def test_no_terminal_no_live_view() -> None:
    assert live.terminal_console(False) is None
    with live.showing(live.GradeView(1, 4), None) as on_progress:
        assert on_progress is None


def test_the_estimate_is_time_per_assignment_times_those_left() -> None:
    now = [100.0]
    view = live.GradeView(students=3, assignments=4, clock=lambda: now[0])
    assert view.left() is None
    view.finished(kept=True)  # one student kept: 2 x 4 assignments to grade
    view.update(Progress("ann", "req", "started", total=5))
    now[0] = 110.0
    view.update(Progress("ann", "req", "done", status="graded", done=5, total=5))
    view.update(Progress("ann", "timing", "done", status="graded", done=5, total=5))
    assert view.left() == pytest.approx(10 / 2 * 6)
    assert view.running == {}
    buffer = io.StringIO()
    _console(buffer).print(view)
    assert "1/3 students done" in buffer.getvalue() and "about 30 s left" in buffer.getvalue()
    assert live.duration(185) == "3 min 05 s"


def test_grade_in_a_log_prints_plain_lines_then_the_closing_table(tmp_path: Path) -> None:
    """Not a terminal: `[n/N]` lines, the table and the problems, and no control sequence."""
    from click.testing import CliRunner

    from grader.cli import main

    klass = tmp_path / "class"
    klass.mkdir()
    name = "mallory\x1b[2J\x1b]0;x\x07"
    (klass / f"{name}.zip").write_bytes(b"PK\x03\x04 this is no archive")
    result = CliRunner().invoke(main, ["grade", "all", str(klass), "--out", str(tmp_path / "o")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("[1/1] mallory\\x1b[2J")
    row = next(line for line in lines if line.startswith("mallory"))
    assert row.split()[-5:] == ["unreadable"] * 4 + ["0/100"]
    assert "  - hand-ins that could not be read: 1 (mallory\\x1b[2J\\x1b]0;x\\x07)" in lines
    assert "\x1b" not in result.output and "\x07" not in result.output
