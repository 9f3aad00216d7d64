"""A suite split over several test processes (shards) gives the verdicts of one process.

`grader check` grades one submission, so grading.shards_for gives each suite up
to three test processes, each with its own copy and worker, and their waits
overlap. The verdicts must be exactly those of the whole suite in one process.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from grader import catalog, grading, runner
from grader.results import AssignmentResult, TestResult
from tests.conftest import reference_submission

ROOT = Path(__file__).resolve().parent.parent
# random tokens the suites draw per run (URLs, answers) and measured durations differ per run
_VARYING = re.compile(r"[0-9a-f]{6,}|\d+\.\d{3,}")


def _part(status: str, *tests: TestResult, message: str = "") -> AssignmentResult:
    return AssignmentResult("req", sum(t.points for t in tests), 25, status, message, list(tests),
                            duration=1.0)


def test_combine_keeps_the_suites_order_and_adds_the_points() -> None:
    specs = runner.collect(catalog.get("req"))[:3]
    first = TestResult(specs[0].id, "passed", specs[0].points, specs[0].points)
    second = TestResult(specs[1].id, "failed", 0, specs[1].points, "wrong")
    third = TestResult(specs[2].id, "passed", specs[2].points, specs[2].points)
    combined = runner.combine(catalog.get("req"), specs,
                              [_part("graded", first, third), _part("graded", second)])
    assert [t.id for t in combined.tests] == [s.id for s in specs]
    assert combined.score == specs[0].points + specs[2].points
    assert combined.status == "graded" and combined.max_score == 25


def test_a_part_that_could_not_grade_speaks_for_the_whole_assignment() -> None:
    specs = runner.collect(catalog.get("req"))[:2]
    passed = TestResult(specs[0].id, "passed", specs[0].points, specs[0].points)
    failed = TestResult(specs[1].id, "error", 0, specs[1].points, "could not import")
    combined = runner.combine(catalog.get("req"), specs, [
        _part("graded", passed), _part("error", failed, message="could not import req.py")])
    assert combined.status == "error" and combined.score == 0
    assert all(t.points == 0 and "could not import req.py" in t.message for t in combined.tests)


@pytest.mark.parametrize(("jobs", "pairs", "shards"), [
    (12, 4, 3), (8, 4, 2), (8, 400, 1), (1, 1, 1), (64, 1, grading.MAX_SHARDS)])
def test_only_slots_left_free_by_the_pairs_become_shards(jobs: int, pairs: int,
                                                          shards: int) -> None:
    assert grading.shards_for(jobs, pairs) == shards


def _verdicts(result: AssignmentResult) -> list[tuple[str, str, float, str]]:
    return [(t.id, t.status, t.points, _VARYING.sub("~", t.message)) for t in result.tests]


@pytest.mark.slow
@pytest.mark.parametrize("case", ["long_func/batches_of_five", "timing/async_wrapper_empty_body"])
def test_a_sharded_suite_gives_the_verdicts_of_one_process(case: str) -> None:
    slug = case.split("/")[0]
    # a short folder, as grading's own scratch is: the worker's sockets live under it, and
    # a Unix socket's path is at most 108 bytes (pytest's tmp_path is too long for that)
    with tempfile.TemporaryDirectory(prefix="shards-") as scratch:
        root = Path(scratch)
        folder = reference_submission(root / "student", ROOT / "tests" / "flawed" / case)
        whole = runner.run_suite(catalog.get(slug), folder, root / "one")
        split = runner.run_suite(catalog.get(slug), folder, root / "three", shards=3)
    assert whole.score < whole.max_score  # a flawed case: some verdicts to compare
    assert _verdicts(split) == _verdicts(whole)
    assert (split.score, split.status) == (whole.score, whole.status)
