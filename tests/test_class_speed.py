"""benchmarks/class_speed.py cannot rot silently: its class and its baseline loop still work.

The benchmark itself prints figures and is not run here (it grades a class);
these checks build its class and run one command of its per-student loop.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from grader import catalog

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "class_speed", ROOT / "benchmarks" / "class_speed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["class_speed"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_class_make_up(bench: ModuleType, tmp_path: Path) -> None:
    members = bench.build_class(tmp_path / "class", 40)
    categories = Counter(m.source.category for m in members)
    assert categories == {"correct": 16, "flawed": 20, "hostile": 4}
    names = [m.name for m in members]
    assert len(set(names)) == 40
    assert sorted(p.name for p in (tmp_path / "class").iterdir()) == sorted(names)
    # the flawed ones cover every kind of flaw the corpus has (20 > the number of kinds)
    corpus_kinds = {tomllib.loads(p.read_text(encoding="utf-8")).get("kind")
                    for p in (ROOT / "tests" / "flawed").glob("*/*/expect.toml")}
    assert {m.source.kind for m in members if m.source.category == "flawed"} == corpus_kinds
    # the correct ones are the reference and variants of every assignment
    variant_slugs = {m.source.label.split("/")[0] for m in members if m.source.kind == "variant"}
    assert variant_slugs == {a.slug for a in catalog.assignments()}
    for m in members:
        folder = tmp_path / "class" / m.name
        assert {p.name for p in folder.iterdir()} == {a.file for a in catalog.assignments()}
        for path in (m.source.overrides.glob("*.py") if m.source.overrides else []):
            assert (folder / path.name).read_bytes() == path.read_bytes(), (m.name, path)


def test_hostile_ones_are_plain_attacks(bench: ModuleType) -> None:
    hostile = bench.hostile_sources()
    assert len(hostile) >= 8
    for source in hostile:
        assert "kind" not in source.expect and "zip" not in source.expect
        assert all("@@" not in p.read_text(encoding="utf-8")
                   for p in source.overrides.glob("*.py"))


def test_expected_scores_follow_the_corpus(bench: ModuleType) -> None:
    points = {"req": {"req::a": 10.0, "req::b": 15.0}, "timing": {"timing::a": 25.0}}
    flaw = bench.Source("flawed", "input", "req/x", ROOT / "tests" / "flawed" / "req" / "x",
                        {"lose": ["req::b"]})
    assert flaw.expected(points) == {"req": (10.0, 10.0), "timing": (25.0, 25.0)}
    attack = bench.Source("hostile", "attack", "a", None,
                          {"attacked": "timing", "max_score": 3, "min_score": 1})
    assert attack.expected(points) == {"req": (25.0, 25.0), "timing": (1.0, 3.0)}


def test_loop_command_is_one_pytest_run_of_a_suite(bench: ModuleType, tmp_path: Path) -> None:
    """The baseline loop's command line still collects the hidden suite (no student code runs)."""
    member = bench.plan_class(1)[0]
    folder = tmp_path / "student"
    bench.build_submission(folder, member.source)
    commands = list(bench.loop_commands(folder, tmp_path / "scratch"))
    assert len(commands) == len(catalog.assignments())
    first = catalog.assignments()[0]
    done = subprocess.run(commands[0] + ["--collect-only"], env=bench.loop_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(bench.suite_points()[first.slug])} tests collected" in done.stdout


def test_a_wrong_or_missing_score_is_a_mismatch(bench: ModuleType) -> None:
    points = {"req": {"req::a": 10.0, "req::b": 15.0}}
    members = [bench.Member(name, bench.Source("correct", "reference", "solutions", None))
               for name in ("right", "wrong", "lost")]

    def entry(score: float) -> dict:
        return {"assignments": {"req": {"score": score, "tests": []}}}

    results = {"right": entry(25.0), "wrong": entry(10.0)}
    problems = bench.check_expected(members, results, points)
    assert [p.split(":")[0] for p in problems] == ["wrong", "lost"], problems
