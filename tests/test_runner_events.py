"""How the parent turns a child's event stream into verdicts (no student code runs here)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from grader import catalog, runner, sandbox

ASSIGNMENT = catalog.get("long_func")


def _outcome(timed_out: bool = False, returncode: int | None = 0) -> sandbox.Outcome:
    return sandbox.Outcome(returncode=returncode, timed_out=timed_out, stdout="", stderr="",
                           duration=1.0, killed_reason="timeout" if timed_out else "")


def _specs() -> list[runner.TestSpec]:
    return runner.collect(ASSIGNMENT)


def _imported() -> list[dict]:
    return [{"event": "import_start"}, {"event": "import_done", "error": ""}]


def _passed(spec: runner.TestSpec) -> list[dict]:
    return [{"event": "start", "test": spec.id},
            {"event": "result", "test": spec.id, "status": "passed"}]


def test_all_passed_gives_full_marks() -> None:
    events = _imported() + [e for s in _specs() for e in _passed(s)]
    result = runner.assemble(ASSIGNMENT, _specs(), events, _outcome())
    assert (result.status, result.score) == ("graded", ASSIGNMENT.points)


def test_a_killed_run_keeps_finished_tests_and_blames_the_running_one() -> None:
    first, second, *rest = _specs()
    events = _imported() + _passed(first) + [{"event": "start", "test": second.id}]
    result = runner.assemble(ASSIGNMENT, _specs(), events, _outcome(timed_out=True,
                                                                      returncode=None))
    by_id = {t.id: t for t in result.tests}
    assert result.status == "graded"
    assert result.score == first.points
    assert by_id[second.id].status == "timeout"
    assert "limit" in by_id[second.id].message
    assert all(by_id[s.id].message.startswith("not run") for s in rest)
    assert "was running" in result.message


def test_points_come_from_the_parent_not_the_child() -> None:
    spec = _specs()[0]
    forged = {"event": "result", "test": spec.id, "status": "passed", "points": 999}
    events = _imported() + [forged, {"event": "result", "test": "long_func::invented",
                                     "status": "passed"}]
    result = runner.assemble(ASSIGNMENT, _specs(), events, _outcome())
    assert result.score == spec.points
    assert {t.id for t in result.tests} == {s.id for s in _specs()}


def test_import_that_never_finished_is_an_error_naming_the_cause() -> None:
    events = [{"event": "import_start"}]
    result = runner.assemble(ASSIGNMENT, _specs(), events, _outcome(timed_out=True))
    assert (result.status, result.score) == ("error", 0)
    assert "importing long_func.py never finished" in result.message


def test_import_error_zeroes_the_assignment() -> None:
    events = [{"event": "import_start"},
              {"event": "import_done", "error": "syntax error in long_func.py, line 3"}]
    result = runner.assemble(ASSIGNMENT, _specs(), events, _outcome(returncode=1))
    assert result.status == "error"
    assert result.message == "could not import long_func.py: syntax error in long_func.py, line 3"
    assert all(t.status == "error" and t.points == 0 for t in result.tests)


def test_garbage_lines_in_the_stream_are_ignored(tmp_path: Path) -> None:
    report = tmp_path / "events.jsonl"
    report.write_text("not json\n[1, 2]\n" + json.dumps({"event": "import_start"}) + "\n\x00\n",
                      encoding="utf-8")
    assert runner.read_events(report) == [{"event": "import_start"}]
    assert runner.read_events(tmp_path / "absent.jsonl") == []


def _docstring_first_lines(assignment: catalog.Assignment) -> dict[str, str]:
    """Test name (as in ids) -> the first line of its docstring, read from the source."""
    firsts = {}
    for path in assignment.suite.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                    node.name.startswith("test_"):
                doc = (ast.get_docstring(node) or "").strip()
                firsts[node.name.removeprefix("test_")] = doc.splitlines()[0] if doc else ""
    return firsts


@pytest.mark.parametrize("assignment", catalog.assignments(), ids=lambda a: a.slug)
def test_collected_titles_are_the_docstrings_first_lines(assignment: catalog.Assignment) -> None:
    specs = runner.collect(assignment)
    firsts = _docstring_first_lines(assignment)
    assert {s.id.split("::", 1)[1]: s.title for s in specs} == {
        s.id.split("::", 1)[1]: firsts[s.id.split("::", 1)[1]] for s in specs
    }


def test_some_real_test_has_a_title() -> None:
    """Titles must not silently stop flowing (all "" would pass the test above)."""
    titled = [s for a in catalog.assignments() for s in runner.collect(a) if s.title]
    assert titled, "no hidden test has a docstring title"


def test_titles_reach_every_test_result() -> None:
    specs = [runner.TestSpec(s.id, s.points, f"Title of {s.id}.") for s in _specs()]
    first, second, *rest = specs
    events = _imported() + _passed(first) + [
        {"event": "result", "test": second.id, "status": "failed", "message": "m",
         "title": "a title the child made up"}]
    result = runner.assemble(ASSIGNMENT, specs, events, _outcome(returncode=1))
    assert [t.title for t in result.tests] == [s.title for s in specs]  # never the child's word
    assert result.tests[1].status == "failed" and result.tests[2].status == "error"
    broken = runner.assemble(ASSIGNMENT, specs, [{"event": "import_start"}],
                             _outcome(timed_out=True))
    assert [t.title for t in broken.tests] == [s.title for s in specs]
    data = result.to_dict()
    assert [t["title"] for t in data["tests"]] == [s.title for s in specs]


def test_over_long_event_lines_are_skipped_unread(tmp_path: Path) -> None:
    report = tmp_path / "events.jsonl"
    huge = json.dumps({"event": "result", "test": "x", "message": "A" * (runner.MAX_EVENT_BYTES)})
    lines = [json.dumps({"event": "import_start"}), huge, "not json",
             json.dumps({"event": "import_done", "error": "E" * 50_000})]
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    events = runner.read_events(report)
    assert [e["event"] for e in events] == ["import_start", "import_done"]
    result = runner.assemble(ASSIGNMENT, _specs(), events, _outcome())
    assert result.status == "error" and "more characters cut]" in result.message
    assert len(result.message) < 1200 and all(len(t.message) < 1200 for t in result.tests)


def test_a_kept_timeline_reaches_the_test_record_and_results_json() -> None:
    """The overlap test's timeline travels in its result event; a malformed one is not kept."""
    specs = _specs()
    timeline = [[0.001, 0.2], [0.2001, 0.4], [1e308 * 10, 1.0]]  # the last: inf, dropped
    events = _imported() + [e for s in specs for e in _passed(s)]
    events += [{"event": "result", "test": specs[0].id, "status": "passed",
                "timeline": timeline},
               {"event": "result", "test": specs[1].id, "status": "passed",
                "timeline": "not a list"}]
    result = runner.assemble(ASSIGNMENT, specs, events, _outcome())
    assert result.tests[0].timeline == [[0.001, 0.2], [0.2001, 0.4]]
    assert result.tests[1].timeline is None
    tests = result.to_dict()["tests"]
    assert tests[0]["timeline"] == [[0.001, 0.2], [0.2001, 0.4]] and "timeline" not in tests[1]
