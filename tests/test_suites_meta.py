"""The hidden suites' bookkeeping: points add up, ids are unique and readable."""

from __future__ import annotations

import ast

import pytest

from grader import catalog, runner

ASSIGNMENTS = catalog.assignments()


def test_course_has_the_four_assignments_in_order() -> None:
    assert [(a.slug, a.file, a.points) for a in ASSIGNMENTS] == [
        ("long_func", "long_func.py", 20),
        ("timing", "timing.py", 25),
        ("req", "req.py", 25),
        ("wiki_stats", "wiki_stats.py", 30),
    ]


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.slug)
def test_points_add_up_to_the_assignment_total(assignment: catalog.Assignment) -> None:
    specs = runner.collect(assignment)
    assert sum(s.points for s in specs) == assignment.points
    assert all(s.points > 0 for s in specs)


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.slug)
def test_ids_are_unique_and_named_after_the_assignment(assignment: catalog.Assignment) -> None:
    ids = [s.id for s in runner.collect(assignment)]
    assert len(ids) == len(set(ids))
    assert all(i.startswith(f"{assignment.slug}::") and "[" not in i for i in ids)


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.slug)
def test_suites_never_import_student_modules(assignment: catalog.Assignment) -> None:
    """Student code is reached through the `student` fixture only (the narrow layer)."""
    modules = {a.module for a in ASSIGNMENTS}
    for path in assignment.suite.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not names & modules, f"{path.name} imports {names & modules}"
            assert "importlib" not in names, f"{path.name} imports importlib"


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.slug)
def test_every_hidden_test_has_a_one_line_docstring(assignment: catalog.Assignment) -> None:
    """The docstring is the title the student sees: one line, the clause the test checks."""
    problems = []
    for path in sorted(assignment.suite.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not node.name.startswith("test_"):
                continue
            doc = (ast.get_docstring(node) or "").strip()
            if not doc:
                problems.append(f"{path.name}::{node.name} has no docstring")
            elif len(doc.splitlines()) != 1:
                problems.append(f"{path.name}::{node.name}: docstring is not one line")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.slug)
def test_titles_are_distinct(assignment: catalog.Assignment) -> None:
    """Two tests with one title would read to the student as one clause lost twice."""
    titles = [s.title for s in runner.collect(assignment) if s.title]
    assert len(titles) == len(set(titles)), sorted(t for t in titles if titles.count(t) > 1)
