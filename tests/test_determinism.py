"""No verdict depends on time, load or chance (grading policy, section 7).

The timing-sensitive submissions of tests/determinism/<case>/ (random sleeps
before requests, staggered starts, completion-order code, a semaphore, an
unusual but correct decorator, jittered days) are graded several times: on
an idle machine, then with every core kept busy by CPU burners this test
starts and always kills. Every run must give every hidden test the same
verdict. Scores are not asserted (the policy decides them, and the suites
own that); only that each case scores above zero, so a crash that zeroes
everything cannot make the runs trivially alike.

Each case holds one student file and is graded, beside the reference
solutions of the other assignments, on that file's assignment only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader import catalog, grading
from grader.cli import DEFAULT_JOBS
from grader.results import SubmissionResult
from grader.submission import Submission
from tests.conftest import cpu_burners, reference_submission

HERE = Path(__file__).resolve().parent
CASES = sorted(p for p in (HERE / "determinism").iterdir() if p.is_dir())
IDLE_RUNS = 3
LOADED_RUNS = 2
JOBS = DEFAULT_JOBS  # test processes at once within one run, as `grader` runs them by default

Verdicts = dict[str, dict[str, str]]  # case -> test id -> status


def _slug(case: Path) -> str:
    [file] = [p.name for p in case.glob("*.py")]
    [assignment] = [a for a in catalog.assignments() if a.file == file]
    return assignment.slug


def _grade_case(case: Path, folder: Path) -> SubmissionResult:
    submission = Submission(case.name, reference_submission(folder, case))
    [result] = grading.grade([submission], jobs=1, only={_slug(case)})
    return result


def _grade_all(root: Path) -> dict[str, SubmissionResult]:
    """One run: every case graded, JOBS of them at a time."""
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        futures = {case.name: pool.submit(_grade_case, case, root / case.name) for case in CASES}
        return {name: future.result() for name, future in futures.items()}


def _verdicts(results: dict[str, SubmissionResult]) -> Verdicts:
    return {name: {t.id: t.status for a in result.assignments.values() for t in a.tests}
            for name, result in results.items()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[str, Verdicts,
                                                                         dict[str, float]]]]:
    """(label, verdicts, score per case) of every run, idle runs first."""
    root = tmp_path_factory.mktemp("determinism")
    done = []
    for run in range(IDLE_RUNS + LOADED_RUNS):
        loaded = run >= IDLE_RUNS
        label = f"loaded run {run - IDLE_RUNS + 1}" if loaded else f"idle run {run + 1}"
        started = time.monotonic()
        if loaded:
            with cpu_burners():
                results = _grade_all(root / f"run{run}")
        else:
            results = _grade_all(root / f"run{run}")
        print(f"{label}: {time.monotonic() - started:.1f} s")
        done.append((label, _verdicts(results), {n: r.score for n, r in results.items()}))
    yield done


def test_cases_are_timing_sensitive_submissions_of_every_assignment() -> None:
    assert len(CASES) >= 6
    assert {_slug(case) for case in CASES} == {a.slug for a in catalog.assignments()}


@pytest.mark.slow
def test_every_run_gives_every_test_the_same_verdict(runs) -> None:
    (first_label, first, first_scores), *others = runs
    differences = []
    for label, verdicts, scores in others:
        differences += [f"{case}: {first_scores[case]} in {first_label}, {score} in {label}"
                        for case, score in scores.items() if score != first_scores[case]]
        for case, tests in verdicts.items():
            for test, status in tests.items():
                if first[case].get(test) != status:
                    differences.append(f"{case} {test}: {first[case].get(test)} in "
                                       f"{first_label}, {status} in {label}")
    assert not differences, "verdicts changed between runs:\n" + "\n".join(differences)


@pytest.mark.slow
def test_every_case_scores_above_zero_in_every_run(runs) -> None:
    zero = [f"{case} in {label}" for label, _, scores in runs
            for case, score in scores.items() if score <= 0]
    assert not zero, f"scored 0 (a crash, not a verdict): {zero}"
