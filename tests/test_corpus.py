"""The flawed and the correct-but-unusual submissions of tests/flawed and tests/variants.

Each flaw folder holds one student file and expect.toml naming EXACTLY the
hidden tests it must fail (`lose`) and, for the classes the grading policy
bounds, the share of the assignment it may score at most (`at_most = 0.1` for
do-nothing code, `0.5` for code that misses the lesson) or must keep at least
(`at_least`); `kind` names its class (no-op, essence, forged, input, ...).
It is graded beside the reference solutions of the other assignments, which
must keep full marks. Each variant must get full marks.

A case is graded on the assignments of the files it holds and on those that
import them (meta.toml `imports`): each assignment runs in a process of its own
that loads only its file and its imports, so the rest are the references
graded by test_selfcheck, unchanged.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from grader import catalog, grading
from grader.results import SubmissionResult
from grader.submission import Submission
from tests.conftest import reference_submission

HERE = Path(__file__).resolve().parent
# Grading mostly waits on answers the trusted web holds on purpose (the worker sleeps
# meanwhile), so three submissions per core finish the corpus about three times sooner;
# verdicts do not depend on load (tests/test_determinism.py).
JOBS = 3 * (os.cpu_count() or 2)
FLAWS = sorted(p for p in (HERE / "flawed").glob("*/*") if (p / "expect.toml").is_file())
VARIANTS = sorted(p for p in (HERE / "variants").glob("*/*") if p.is_dir())


def _label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


class Corpus:
    """Grades the corpus lazily, one group of cases at a time, all of a group in parallel."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.results: dict[str, SubmissionResult] = {}

    def result(self, case: Path) -> SubmissionResult:
        key = _key(case)
        if key not in self.results:
            self._grade_group(_affected(case))
        return self.results[key]

    def _grade_group(self, slugs: frozenset[str]) -> None:
        cases = [c for c in FLAWS + VARIANTS if _affected(c) == slugs]
        submissions = [
            Submission(_key(c), reference_submission(self.root / _key(c).replace(":", "/"), c))
            for c in cases
        ]
        for r in grading.grade(submissions, jobs=JOBS, only=slugs):
            self.results[r.student] = r


def _key(case: Path) -> str:
    return f"{'flawed' if case in FLAWS else 'variant'}:{_label(case)}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus(tmp_path_factory.mktemp("corpus"))


def _affected(case: Path) -> frozenset[str]:
    """The assignments whose result can depend on the files in `case`."""
    files = {p.stem for p in case.glob("*.py")}
    return frozenset(a.slug for a in catalog.assignments()
                     if a.module in files or files & set(a.imports))


def test_corpus_is_large_enough() -> None:
    assert len(FLAWS) >= 25, f"only {len(FLAWS)} flaw patterns"
    for a in catalog.assignments():
        assert any(p.parent.name == a.slug for p in FLAWS), f"no flaw for {a.slug}"
        assert any(p.parent.name == a.slug for p in VARIANTS), f"no variant for {a.slug}"


def _failed_ids(result: SubmissionResult, slug: str) -> set[str]:
    return {t.id for t in result.assignments[slug].tests if t.status != "passed"}


@pytest.mark.slow
@pytest.mark.parametrize("case", FLAWS, ids=_label)
def test_flaw_loses_exactly_its_tests(case: Path, graded: Corpus) -> None:
    expect = tomllib.loads((case / "expect.toml").read_text(encoding="utf-8"))
    slug = case.parent.name
    result = graded.result(case)
    assert set(expect["lose"]), "a flaw must name the tests it loses"
    assert _failed_ids(result, slug) == set(expect["lose"]), result.assignments[slug].tests
    assignment = result.assignments[slug]
    lost = sum(t.max_points for t in assignment.tests if t.id in expect["lose"])
    assert assignment.score == pytest.approx(assignment.max_score - lost)
    share = assignment.score / assignment.max_score
    assert share <= expect.get("at_most", 1.0) + 1e-9, (share, expect["why"])
    assert share >= expect.get("at_least", 0.0) - 1e-9, (share, expect["why"])
    for other, a in result.assignments.items():
        if other != slug:
            assert a.score == a.max_score, (other, a.message, a.tests)


@pytest.mark.slow
@pytest.mark.parametrize("case", VARIANTS, ids=_label)
def test_variant_gets_full_marks(case: Path, graded: Corpus) -> None:
    result = graded.result(case)
    for slug, a in result.assignments.items():
        failed = [(t.id, t.message) for t in a.tests if t.status != "passed"]
        assert a.score == a.max_score, (slug, a.status, a.message, failed)
