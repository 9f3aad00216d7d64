"""README's "Adding an assignment", followed to the letter in a copy of the course.

A toy fifth assignment (meta.toml, statements, stub, public example, solution,
a hidden suite of two tests) is added to a copy of this tree; the copy is
installed and grades submissions with it. Nothing else is edited: intake,
`grader list`, the gradebook's columns and the kit all derive from the catalog.
"""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import pytest

from grader import catalog
from tests.conftest import Installed, copy_of_the_tree, install_tree

pytestmark = pytest.mark.slow  # builds and installs a wheel, grades two submissions

# Named like a standard-library module on purpose: intake drops such files (they would
# shadow the module) unless the catalog makes them a contract file.
SLUG, FILE, POINTS = "turtle", "turtle.py", 10

FILES = {
    f"grader/assignments/{SLUG}/meta.toml": f"""\
        slug = "{SLUG}"
        file = "{FILE}"
        points = {POINTS}
        order = 5
        imports = []
        summary_en = "Write async double(x): twice x."
        summary_ru = "Напишите async double(x): удвоенное x."

        [timeouts]
        test = 15
        assignment = 60
        """,
    f"grader/assignments/{SLUG}/statement.ru.md": "# Удвоение\n\n`async def double(x)`.\n",
    f"grader/assignments/{SLUG}/statement.en.md": "# Doubling\n\n`async def double(x)`.\n",
    f"grader/assignments/{SLUG}/{FILE}": """\
        async def double(x):
            raise NotImplementedError("double")
        """,
    f"grader/assignments/{SLUG}/test_example_{SLUG}.py": """\
        import asyncio

        from turtle import double


        def test_double():
            assert asyncio.run(double(2)) == 4
        """,
    f"solutions/{SLUG}/{FILE}": """\
        async def double(x):
            return 2 * x
        """,
    f"grader/suites/{SLUG}/test_{SLUG}.py": """\
        import pytest

        from grader.suites.feedback import expect


        @pytest.mark.points(6)
        def test_doubles(student):
            \"\"\"double(x) returns twice x\"\"\"
            student.function("double", is_async=True)
            value = student.call("double", 21).value_or_raise()
            expect(value == 42, observed=f"double(21) returned {value!r}", expected="42",
                   hint="return 2 * x")


        @pytest.mark.points(4)
        def test_doubles_negative(student):
            \"\"\"double(x) doubles negative numbers too\"\"\"
            value = student.call("double", -4).value_or_raise()
            expect(value == -8, observed=f"double(-4) returned {value!r}", expected="-8",
                   hint="return 2 * x")
        """,
}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Installed]:
    """A copy of the course with the toy assignment added, installed from its wheel."""
    root = tmp_path_factory.mktemp("fifth")
    source = copy_of_the_tree(root / "course")
    for name, text in FILES.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return source, install_tree(source, root)


def test_the_fifth_assignment_is_listed(course: tuple[Path, Installed], tmp_path: Path) -> None:
    _source, installed = course
    listed = installed.run("list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    slugs = [line.split()[0] for line in listed.stdout.splitlines()]
    assert slugs == [*(a.slug for a in catalog.assignments()), SLUG, "total"]
    assert f"{catalog.max_total() + POINTS} pts" in listed.stdout.splitlines()[-1]
    kit = installed.run("handout", str(tmp_path / "kit"), cwd=tmp_path)
    assert kit.returncode == 0, kit.stderr
    assert (tmp_path / "kit" / SLUG / FILE).is_file()


def test_a_submission_is_graded_on_the_fifth_assignment(
        course: tuple[Path, Installed], tmp_path: Path) -> None:
    source, installed = course
    solved, stub = tmp_path / "class" / "solved", tmp_path / "class" / "stub"
    for folder, origin in ((solved, source / "solutions"), (stub, source / "grader/assignments")):
        folder.mkdir(parents=True)
        (folder / FILE).write_bytes((origin / SLUG / FILE).read_bytes())
    graded = installed.run("grade", "all", str(tmp_path / "class"), "--out", "out", "-j", "2",
                           cwd=tmp_path)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    by_student = {s["student"]: s["assignments"] for s in data["submissions"]}
    assert by_student["solved"][SLUG]["status"] == "graded"
    assert by_student["solved"][SLUG]["score"] == POINTS
    assert by_student["stub"][SLUG]["score"] == 0
    assert {t["id"] for t in by_student["stub"][SLUG]["tests"]} == {
        f"{SLUG}::doubles", f"{SLUG}::doubles_negative"}
    assert by_student["solved"]["req"]["status"] == "missing"
    with (tmp_path / "out" / "gradebook.csv").open(encoding="utf-8") as stream:
        rows = {row["student"]: row for row in csv.DictReader(stream)}
    assert rows["solved"][SLUG] == str(POINTS)
    assert rows["solved"]["max_total"] == str(catalog.max_total() + POINTS)
