"""`grader ci`'s annotations and job summary: on the student's file and line, the most
valuable first, within GitHub's limits, and repeated messages said once."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from grader import catalog, runner, sandbox
from grader.reports.ci import MAX_ERRORS, MAX_WARNINGS, annotations, job_summary_markdown
from grader.reports.results_file import InvalidResults, ResultsFile, load_results, validate
from grader.results import AssignmentResult, checked_location, location_of
from grader.results import TestResult as Verdict

from .test_reports import absent, graded, submission

STUB_MESSAGE = "still raises NotImplementedError (req.py, line 9)"


def stub(slug: str, tests: int = 14, **place: object) -> AssignmentResult:
    """Every test of `slug` lost to the same stub error."""
    each = catalog.get(slug).points / tests
    verdicts = [Verdict(f"{slug}::case_{i}", "failed", 0, each, STUB_MESSAGE, "write it",
                        title=f"Clause {i}.", **place)  # type: ignore[arg-type]
                for i in range(tests)]
    return AssignmentResult(slug, 0, catalog.get(slug).points, "graded", tests=verdicts)


def test_location_comes_from_the_workers_where_and_only_a_plain_file() -> None:
    assert location_of("req.py, line 27") == ("req.py", 27)
    assert location_of("сидоров.py, line 3") == ("сидоров.py", 3)
    for bad in ("../etc/x.py, line 2", "a/b.py, line 2", "req.py, line 0", "req.txt, line 2",
                "req.py, line 2\n::error::x", "req.py line 2", ""):
        assert location_of(bad) == ("", 0), bad
    assert checked_location("req.py", True) == ("", 0)
    assert checked_location("req.py", "7") == ("", 0)
    assert Verdict("a::b", "failed", 0, 1, file="../x.py", line=3).file == ""


def test_annotation_points_at_the_students_file_and_line() -> None:
    failing = graded("req", failed=1, message="boom (req.py, line 27)", file="req.py")
    failing.tests[0].line = 27
    commands = annotations([submission("ivanov", failing)])
    assert len(commands) == 1
    assert commands[0].startswith("::error file=submissions/ivanov/req.py,line=27,title=ivanov")


def test_a_failure_without_a_line_is_put_on_the_assignments_file() -> None:
    commands = annotations([submission("petrova", graded("timing", failed=1, message="slow"))],
                           submissions="course/submissions")
    assert commands[0].startswith("::error file=course/submissions/petrova/timing.py,title=")
    assert ",line=" not in commands[0]


def test_location_survives_results_json_and_matches_the_schema(tmp_path: Path) -> None:
    failing = graded("req", failed=1, message="boom")
    failing.tests[0].file, failing.tests[0].line = "req.py", 5
    out = ResultsFile(tmp_path, suite_hash="ab" * 32)
    out.add(submission("s", failing))
    data = json.loads(out.json_path.read_text(encoding="utf-8"))
    validate(data)
    tests = data["submissions"][0]["assignments"]["req"]["tests"]
    assert (tests[0]["file"], tests[0]["line"]) == ("req.py", 5)
    assert "file" not in tests[1] and "line" not in tests[1]  # absent, not empty
    tests[0]["file"] = "../a.py"
    with pytest.raises(InvalidResults):
        validate(data)
    _, (back,) = load_results(out.json_path)
    assert (back.assignments["req"].tests[0].file, back.assignments["req"].tests[0].line) == (
        "req.py", 5)


def test_the_runner_keeps_the_location_but_not_a_stand_ins() -> None:
    spec = runner.TestSpec("wiki_stats::x", 5.0)
    outcome = sandbox.Outcome(0, False, "", "", 1.0, "")
    verdict = {"event": "result", "test": spec.id, "status": "failed", "message": "m",
               "file": "wiki_stats.py", "line": 12}
    events = [{"event": "import_start"}, {"event": "import_done", "error": ""}, verdict]
    wiki = catalog.get("wiki_stats")
    test = runner.assemble(wiki, [spec], events, outcome).tests[0]
    assert (test.file, test.line) == ("wiki_stats.py", 12)
    assert "timing" in wiki.imports  # timing.py is the grader's stand-in in this run
    events[2] = {**verdict, "file": "timing.py"}
    test = runner.assemble(wiki, [spec], events, outcome).tests[0]
    assert (test.file, test.line) == ("", 0)
    events[2] = {**verdict, "file": "../../etc/passwd.py", "line": "12"}
    assert runner.assemble(wiki, [spec], events, outcome).tests[0].file == ""


def test_tests_failing_alike_share_one_annotation_and_one_summary_item() -> None:
    result = submission("popov", stub("req", file="req.py", line=9))
    commands = annotations([result])
    assert len(commands) == 1
    assert commands[0].startswith("::error file=submissions/popov/req.py,line=9,")
    assert "14 tests failed" in commands[0]
    summary = job_summary_markdown([result])
    assert summary.count("NotImplementedError") == 1
    assert "14 tests failed" in summary and "and 9 more" in summary
    assert "1 problem(s)" in summary


def test_an_assignment_that_could_not_run_is_one_annotation_not_one_per_test() -> None:
    broken = stub("timing")
    broken.status, broken.message = "error", "could not import timing.py: SyntaxError"
    result = submission("volkov", broken)
    commands = annotations([result])
    assert len(commands) == 1 and "timing error" in commands[0]
    summary = job_summary_markdown([result])
    assert summary.count("SyntaxError") == 1 and "NotImplementedError" not in summary


def test_annotations_keep_to_githubs_limits_and_say_what_was_left_out() -> None:
    results = []
    for n in range(15):  # 15 students: 15 x 3 distinct failures, 15 missing files
        tests = graded("long_func", failed=3, tests=3, message="m")
        for i, test in enumerate(tests.tests):
            test.message = f"reason {i}"
        results.append(submission(f"s{n:02}", tests, absent("req")))
    commands = annotations(results)
    errors = [c for c in commands if c.startswith("::error ")]
    warnings = [c for c in commands if c.startswith("::warning ")]
    notices = [c for c in commands if c.startswith("::notice ")]
    assert (len(errors), len(warnings), len(notices)) == (MAX_ERRORS, MAX_WARNINGS, 1)
    assert len(commands) <= 50
    left = 15 * 3 + 15 - MAX_ERRORS - MAX_WARNINGS
    assert re.search(rf"::{left} more problem\(s\) are not annotated", notices[0])


def test_the_most_valuable_problems_come_first() -> None:
    small = graded("timing", failed=1, tests=5, message="a")  # 5 points
    big = graded("wiki_stats", failed=1, tests=2, message="b")  # 15 points
    results = [submission("a", small), submission("b", big),
               submission("c", graded("long_func", failed=1, tests=4, message="c"))]  # 5
    commands = annotations(results)
    assert [c.split("title=")[1].split("%3A")[0] for c in commands] == ["b", "a", "c"]
    many = [submission(f"x{i}", graded("timing", failed=1, tests=5, message="a"))
            for i in range(MAX_ERRORS)]
    shown = annotations([*many, submission("top", big)])
    assert "title=top%3A" in shown[0] and shown[-1].startswith("::notice ")


def test_a_stubs_failures_carry_its_file_and_line_from_a_real_run(tmp_path: Path) -> None:
    """Through the worker, the test process and the runner: the stub's `raise` line."""
    timing = catalog.get("timing")
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copy2(timing.stub, folder / timing.file)
    raise_line = next(n for n, text in enumerate(timing.stub.read_text("utf-8").splitlines(), 1)
                      if text.strip() == "raise NotImplementedError")
    result = runner.run_suite(timing, folder, tmp_path / "scratch")
    failed = [t for t in result.tests if t.status == "failed"]
    assert failed and all((t.file, t.line) == (timing.file, raise_line) for t in failed)
