"""Wrong folders people name: a class without `all`, the kit's root; and -j on big machines."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import catalog, handout, layout
from grader.cli import main
from tests.conftest import ROOT


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def student(folder: Path, *files: str) -> Path:
    folder.mkdir(parents=True)
    for name in files:
        (folder / name).write_text("x = 1\n", encoding="utf-8")
    return folder


# ---------------------------------------------------------------- -j


def test_jobs_default_is_valid_on_a_128_core_machine(tmp_path: Path) -> None:
    """-j's default follows the cores (4 each, at most 12): no command fails on a big machine."""
    code = ("import os, sys; os.cpu_count = lambda: 128; from grader.cli import main; "
            f"main(['grade', 'all', {str(tmp_path / 'none')!r}])")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert run.returncode == 2
    assert "is not a folder" in run.stderr and "-j" not in run.stderr, run.stderr
    helped = subprocess.run([sys.executable, "-c", code.replace(
        f"['grade', 'all', {str(tmp_path / 'none')!r}]", "['check', '--help']")],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert re.search(r"default:\s+12\b", helped.stdout), helped.stdout


@pytest.mark.parametrize("jobs", ["65", "1000"])
def test_jobs_takes_any_positive_number(jobs: str, tmp_path: Path) -> None:
    code, out = invoke("grade", "all", str(tmp_path / "none"), "-j", jobs)
    assert code == 2 and "is not a folder" in out and "Invalid value" not in out


@pytest.mark.parametrize("jobs", ["0", "-3"])
def test_jobs_refuses_what_is_not_positive(jobs: str, tmp_path: Path) -> None:
    code, out = invoke("grade", "all", str(tmp_path), "-j", jobs)
    assert code == 2 and "Invalid value for '-j'" in out


# ---------------------------------------------------------------- a class without `all`


def test_grade_on_a_class_folder_stops_with_a_hint(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    student(klass / "ivanov", "req.py")
    student(klass / "petrova" / "hw", "timing.py")  # wrapped in a folder of her own
    with zipfile.ZipFile(klass / "popov.zip", "w") as archive:
        archive.writestr("popov/req.py", "x = 1\n")
    code, out = invoke("grade", str(klass), "--out", str(tmp_path / "out"))
    assert code == 2
    assert "holds 3 submissions, not one" in out and f"grader grade all {klass}" in out
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_one_submission_is_not_taken_for_a_class(tmp_path: Path) -> None:
    assert layout.class_size(student(tmp_path / "ivanov", "req.py", "timing.py")) == 0
    wrapped = student(tmp_path / "petrova" / "hw", "req.py").parent
    assert layout.class_size(wrapped) == 0  # one folder inside: intake unwraps it
    drafts = tmp_path / "popov"
    student(drafts / "notes")
    student(drafts / "old", "req.py")
    assert layout.class_size(drafts) == 0  # one folder holding contract files
    handout.write(tmp_path / "kit")  # each assignment in its own folder: not students
    assert layout.class_size(tmp_path / "kit") == 0
    assert layout.class_size(ROOT / "examples" / "submissions") == 8


# ---------------------------------------------------------------- the kit's root


def test_the_kit_is_recognised_and_its_files_gathered(tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    handout.write(kit)
    assert layout.is_kit(kit)
    assert not layout.is_kit(student(tmp_path / "ivanov", "req.py"))
    (kit / "req.py").write_text("# filled in at the root\n", encoding="utf-8")
    copy = layout.gather_kit(kit, tmp_path / "scratch")
    assert sorted(p.name for p in copy.submission.source.iterdir()) == sorted(
        a.file for a in catalog.assignments())
    assert "req.py" in copy.taken and "req/req.py" not in copy.taken
    assert (copy.submission.source / "req.py").read_text() == "# filled in at the root\n"
    assert copy.submission.student == "kit"


def test_a_changed_pytest_ini_beside_root_files_is_a_submission(tmp_path: Path) -> None:
    folder = student(tmp_path / "ivanov", "req.py")
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p evil\n", encoding="utf-8")
    assert not layout.is_kit(folder)
    (folder / "pytest.ini").write_text(handout.PYTEST_INI, encoding="utf-8")
    assert layout.is_kit(folder)


@pytest.mark.slow
def test_check_in_the_kit_root_grades_the_kit_files(tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    handout.write(kit)
    for a in catalog.assignments():  # one solved assignment, the others handed in empty
        if a.slug != "timing":
            shutil.rmtree(kit / a.slug)
    shutil.copy2(catalog.get("timing").solution, kit / "timing" / "timing.py")
    cwd = os.getcwd()
    os.chdir(kit)
    try:
        code, out = invoke("check", "--out", str(tmp_path / "out"), "-j", "2")
    finally:
        os.chdir(cwd)
    assert code == 0, out
    assert "timing/timing.py" in out and "timing.py is missing" not in out
    assert "pytest.ini" not in out
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    [result] = data["submissions"]
    assert result["assignments"]["timing"]["score"] == catalog.get("timing").points
    assert result["assignments"]["req"]["status"] == "missing"
