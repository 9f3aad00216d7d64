"""A non-editable install (a wheel, `pip install .`, `pip install git+URL`) grades anywhere.

The wheel holds the assignments and the hidden suites, never the reference
solutions or the demo class: a student's copy of the grader runs `grader check`
and gives nothing away. The demo class graded by this install: test_demo_class.py.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from grader import catalog
from tests.conftest import ROOT, Installed, reference_submission

pytestmark = pytest.mark.slow  # builds a wheel and a venv


def test_the_wheel_holds_the_course_but_no_solution(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    for a in catalog.assignments():
        for file in (a.file, "meta.toml", "statement.ru.md", "statement.en.md",
                     f"test_example_{a.slug}.py"):
            assert f"grader/assignments/{a.slug}/{file}" in names
        assert f"grader/suites/{a.slug}/test_{a.slug}.py" in names
    assert [n for n in names if n.split("/")[0] in ("solutions", "examples", "tests")] == []
    for script in ("setup.sh", "run_autograder"):  # `grader handout` writes them from the wheel
        assert f"grader/handout_files/gradescope/{script}" in names
    with zipfile.ZipFile(installed.wheel) as wheel:
        inside = {hashlib.sha256(wheel.read(n)).hexdigest() for n in names}
    solutions = {hashlib.sha256(a.solution.read_bytes()).hexdigest(): a.slug
                 for a in catalog.assignments()}
    assert [slug for digest, slug in solutions.items() if digest in inside] == []


def test_installed_grader_lists_and_checks_outside_the_clone(
        installed: Installed, tmp_path: Path) -> None:
    where = installed.run("--version", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    listed = installed.run("list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()[:-1]] == [
        a.slug for a in catalog.assignments()]
    python = installed.venv / "bin" / "python"  # the package is the installed copy
    origin = subprocess.run([str(python), "-c", "import grader; print(grader.__file__)"],
                            cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert Path(origin.strip()).is_relative_to(installed.venv), origin
    folder = reference_submission(tmp_path / "reference")
    checked = installed.run("check", str(folder), cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{catalog.max_total()}/{catalog.max_total()}" in checked.stdout.splitlines()[0]


def test_installed_grader_says_the_course_folder_is_missing(
        installed: Installed, tmp_path: Path) -> None:
    selfcheck = installed.run("selfcheck", cwd=tmp_path)
    assert selfcheck.returncode == 2
    assert "reference solutions" in selfcheck.stderr and catalog.COURSE_ENV in selfcheck.stderr
    demo = installed.run("grade", "all", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert demo.returncode == 2
    assert "demo class" in demo.stderr and "grader grade all DIR" in demo.stderr
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_selfcheck_names_a_missing_reference_solution(tmp_path: Path) -> None:
    """A course folder without one solution: that file is named, nothing is graded."""
    course = tmp_path / "course"
    for a in catalog.assignments():
        if a.slug != "req":
            (course / "solutions" / a.slug).mkdir(parents=True)
            shutil.copy2(a.solution, course / "solutions" / a.slug / a.file)
    env = {**os.environ, catalog.COURSE_ENV: str(course)}
    run = subprocess.run([sys.executable, "-m", "grader", "selfcheck"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert f"no reference solution at {course / 'solutions' / 'req' / 'req.py'}" in run.stderr


def test_installed_handout_pins_the_kit_as_the_wheel_does(
        installed: Installed, tmp_path: Path) -> None:
    """The kit's install line is read from the installed grader's metadata, not from a clone."""
    made = installed.run("handout", str(tmp_path / "kit"), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert os.access(tmp_path / "kit" / "gradescope" / "run_autograder", os.X_OK)
    readme = (tmp_path / "kit" / "README.md").read_text(encoding="utf-8")
    shown = {Requirement(r).name: Requirement(r).specifier
             for r in re.findall(r'"([^"]+)"', readme.split("pip install ", 1)[1].split("`")[0])}
    declared = {Requirement(r).name: Requirement(r).specifier
                for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
                    "dependencies"]}
    assert shown and all(declared[name] == specifier for name, specifier in shown.items())
