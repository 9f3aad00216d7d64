"""Formats other tools read: Gradescope's results.json, points in JUnit, the LMS gradebook, and
the kit's install line with the grader's own bounds."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import grader.gradescope as gradescope_run
from grader import catalog, handout, kit_install
from grader.cli import main
from grader.reports import escape, lms_csv
from grader.reports import gradescope as gradescope_report
from grader.reports.ci import write_junit
from grader.reports.results_file import ResultsFile
from grader.results import AssignmentResult
from grader.results import TestResult as Verdict
from tests.test_reports import HASH, absent, graded, read_csv, submission

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = 'x\x1b[2J\x00 </failure><![CDATA[ ]]> & "q" =1+1\u202e'

# Gradescope's results.json, from its "Autograder Specifications"
# (https://gradescope-autograders.readthedocs.io/en/latest/specs/, "Output format"):
# every field it documents, nothing else, each of the type and values it lists.
_FORMATS = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
_VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
GRADESCOPE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": _FORMATS,
        "test_output_format": _FORMATS,
        "test_name_format": {"enum": ["text", "html", "md"]},
        "visibility": _VISIBILITY,
        "stdout_visibility": _VISIBILITY,
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "score": {"type": "number"},
                "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string"},
                "name_format": {"enum": ["text", "html", "md"]},
                "number": {"type": "string"},
                "output": {"type": "string"},
                "output_format": _FORMATS,
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": _VISIBILITY,
                "extra_data": {"type": "object"},
            },
        }},
    },
    # "score: optional, but required if not on each test case"
    "anyOf": [{"required": ["score"]},
              {"required": ["tests"], "properties": {"tests": {"items": {"required": ["score"]}}}}],
}
# What this grader promises beyond the format: every test names itself, says how it went
# and what it was worth, and is shown to the student.
OUR_TEST_FIELDS = {"name", "score", "max_score", "status", "output", "visibility"}


def check_gradescope(document: dict) -> None:
    """Valid per the spec, and adding up: the tests' points are the score, out of the course's."""
    Draft202012Validator.check_schema(GRADESCOPE_SCHEMA)
    errors = [e.message for e in Draft202012Validator(GRADESCOPE_SCHEMA).iter_errors(document)]
    assert errors == []
    assert {"score", "execution_time", "output", "tests"} <= document.keys()
    assert all(test.keys() >= OUR_TEST_FIELDS for test in document["tests"])
    assert sum(t["score"] for t in document["tests"]) == pytest.approx(document["score"])
    assert sum(t["max_score"] for t in document["tests"]) == catalog.max_total()


def read_results(path: Path) -> dict:
    return json.loads(path.read_bytes().decode("utf-8"))


# --- Gradescope ------------------------------------------------------------------------------


def test_gradescope_document_follows_the_spec_and_explains_each_loss() -> None:
    result = submission("s", graded("req", failed=1, message=HOSTILE, hint="call raise_for_status"),
                        absent("wiki_stats"))
    document = json.loads(escape.json_bytes(gradescope_report.document(result, 3.4)))
    check_gradescope(document)
    assert document["score"] == result.score == 57.5
    assert document["output_format"] == document["test_output_format"] == "text"  # no markup
    failed = [t for t in document["tests"] if t["status"] == "failed"]
    assert [t["name"].split(":")[0] for t in failed] == ["req", "wiki_stats"]
    req = failed[0]
    assert req["score"] == 0 and req["max_score"] == 12.5
    assert "\\x1b[2J" in req["output"] and "\x1b" not in req["output"]  # shown, not obeyed
    assert "\u202e" not in req["output"] and "Hint: call raise_for_status" in req["output"]
    missing = failed[1]  # one test worth the whole assignment, saying why, not one per test
    assert missing["max_score"] == 30 and "wiki_stats.py is missing" in missing["output"]
    assert all(t["output"] == "" for t in document["tests"] if t["status"] == "passed")
    assert "57.5/100" in document["output"]


def test_a_submission_that_cannot_be_read_still_gets_a_valid_zero(tmp_path: Path) -> None:
    results = tmp_path / "results" / "results.json"  # its folder is made
    cli = CliRunner().invoke(main, ["gradescope", "--submission", str(tmp_path / "nothing"),
                                    "--results", str(results)])
    assert cli.exit_code == 0, cli.output
    document = read_results(results)
    check_gradescope(document)
    assert document["score"] == 0 and "no such folder" in document["output"]
    assert all(t["status"] == "failed" and "no such folder" in t["output"]
               for t in document["tests"])


def test_a_grader_failure_is_a_zero_that_says_so(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(gradescope_run.grading, "grade", broken)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "req.py").write_text("x = 1\n")
    outcome = gradescope_run.run(tmp_path / "sub", tmp_path / "results.json", jobs=1)
    document = read_results(tmp_path / "results.json")
    check_gradescope(document)
    assert outcome.score == document["score"] == 0
    assert "RuntimeError: boom" in document["output"] and "RuntimeError" in outcome.problem


@pytest.mark.slow
def test_gradescope_grades_the_submission_folder(tmp_path: Path) -> None:
    """One real grading: the reference `timing` alone scores its 25 points, the rest missing."""
    (tmp_path / "submission").mkdir()
    shutil.copy(ROOT / "solutions" / "timing" / "timing.py", tmp_path / "submission")
    results = tmp_path / "results.json"
    cli = CliRunner().invoke(main, ["gradescope", "--submission", str(tmp_path / "submission"),
                                    "--results", str(results), "-j", "2"])
    assert cli.exit_code == 0, cli.output
    document = read_results(results)
    check_gradescope(document)
    assert document["score"] == catalog.get("timing").points
    timing = [t for t in document["tests"] if t["name"].startswith("timing: ")]
    assert len(timing) > 1 and all(t["status"] == "passed" for t in timing)


def test_the_handout_ships_gradescope_scripts_that_run_the_grader(tmp_path: Path) -> None:
    handout.write(tmp_path / "kit")
    folder = tmp_path / "kit" / "gradescope"
    setup, run = folder / "setup.sh", folder / "run_autograder"
    assert os.access(run, os.X_OK) and os.access(setup, os.X_OK)
    for script in (setup, run):
        subprocess.run(["bash", "-n", str(script)], check=True)
        if shutil.which("shellcheck"):
            subprocess.run(["shellcheck", str(script)], check=True)
    command = run.read_text().replace("\\\n", " ")
    assert re.search(r"^exec grader gradescope\b", command, re.M)
    assert f"--submission {gradescope_run.SUBMISSION_DIR}" in command
    assert f"--results {gradescope_run.RESULTS_PATH}" in command
    text = setup.read_text()
    assert "bubblewrap" in text and "python3" in text and "./grader-*.whl" in text


def test_setup_sh_stops_before_installing_without_the_wheel(tmp_path: Path) -> None:
    handout.write(tmp_path / "kit")
    setup = tmp_path / "kit" / "gradescope" / "setup.sh"
    done = subprocess.run(["bash", str(setup)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "grader-*.whl" in done.stderr
    assert "apt" not in done.stdout  # nothing was installed


# --- JUnit -----------------------------------------------------------------------------------


def _points(case: ET.Element) -> tuple[float, float]:
    properties = case[0]
    assert properties.tag == "properties"  # first, as the JUnit schema orders a testcase
    values = {p.get("name"): p.get("value") for p in properties.findall("property")}
    assert set(values) == {"points", "max_points"}
    return float(values["points"]), float(values["max_points"])


def test_junit_test_cases_carry_their_points(tmp_path: Path) -> None:
    broken = AssignmentResult("long_func", 0, 20, "error", "SyntaxError",
                              [Verdict(f"long_func::t{i}", "error", 0, 5, "SyntaxError")
                               for i in range(3)])  # 15 of 20 points on listed tests
    results = [submission(HOSTILE, graded("req", failed=1, message=HOSTILE, hint=HOSTILE),
                          absent("timing"), broken)]
    write_junit(results, tmp_path / "junit.xml")
    root = ET.parse(tmp_path / "junit.xml").getroot()  # a hostile message breaks no XML
    suites = root.findall("testsuite")
    assert len(suites) == 4
    for suite in suites:
        slug = suite.get("name", "").rsplit(".", 1)[1]
        cases = suite.findall("testcase")
        points = [_points(case) for case in cases]
        assignment = results[0].assignments[slug]
        assert sum(p for p, _ in points) == assignment.score
        assert sum(m for _, m in points) == assignment.max_score == catalog.get(slug).points
        for case, (got, most) in zip(cases, points, strict=True):
            assert (got < most) == (case.find("failure") is not None
                                    or case.find("error") is not None)
    [failure] = root.findall("testsuite/testcase/failure[@type='failed']")
    assert "</failure><![CDATA[" in (failure.text or "") and "\\x1b[2J" in (failure.text or "")


# --- the LMS gradebook -----------------------------------------------------------------------


def test_grades_lms_csv_has_one_column_per_grade_item() -> None:
    rows = list(csv.reader(io.StringIO(lms_csv.lms_csv(
        [submission("=HYPERLINK(\"http://x\")", absent("req")), submission("b")]))))
    assert rows[0] == ["student", *(f"{a.slug} ({a.points})" for a in catalog.assignments()),
                       f"total ({catalog.max_total()})"]
    assert rows[1] == ["'=HYPERLINK(\"http://x\")", "20", "25", "0", "30", "75"]
    assert rows[2] == ["b", "20", "25", "25", "30", "100"]


def test_an_output_folder_keeps_grades_lms_csv_with_the_gradebook(tmp_path: Path) -> None:
    ResultsFile(tmp_path, suite_hash=HASH).extend([submission("a", absent("timing")),
                                                    submission("b")])
    gradebook = read_csv(tmp_path / "gradebook.csv")
    lms = read_csv(tmp_path / lms_csv.LMS_NAME)
    assert [row[0] for row in lms[1:]] == [row[0] for row in gradebook[1:]] == ["a", "b"]
    assert [row[-1] for row in lms[1:]] == [row[1] for row in gradebook[1:]] == ["75", "100"]


# --- the kit's install line ------------------------------------------------------------------


def _pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {canonicalize_name(r.name): r for r in map(Requirement, project["dependencies"])}


def test_the_kit_installs_what_the_grader_itself_allows(tmp_path: Path) -> None:
    handout.write(tmp_path)
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    line = re.search(r"`pip install ([^`]+)`", readme)
    assert line is not None
    shown = [Requirement(part) for part in re.findall(r'"([^"]+)"', line.group(1))]
    assert [r.name for r in shown] == list(kit_install.KIT_PACKAGES)
    own, declared = kit_install.grader_requirements(), _pyproject_requirements()
    for requirement in shown:
        name = canonicalize_name(requirement.name)
        assert requirement.specifier == own[name].specifier == declared[name].specifier
    aiohttp = shown[0]
    assert aiohttp.specifier and not all(
        aiohttp.specifier.contains(v) for v in ("3.11.0", "9.0"))  # bounded both ways


def test_the_lms_header_is_ours() -> None:
    """Only catalog names and numbers: no student text reaches the header."""
    assert all(re.fullmatch(r"[a-z_]+ \(\d+(\.\d+)?\)|student", cell) for cell in
               lms_csv.header())


def test_unreadable_lists_every_assignment() -> None:
    document = gradescope_report.unreadable("bad zip")
    check_gradescope(document)
    assert [t["name"].split(":")[0] for t in document["tests"]] == [
        a.slug for a in catalog.assignments()]
