"""The command line as teachers, students and CI scripts use it (docs/cli.md)."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import catalog, sandbox
from grader.cli import main
from grader.reports.results_file import validate
from tests.conftest import reference_submission


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_help_lists_every_command() -> None:
    code, out = invoke("--help")
    assert code == 0
    for command in ("grade", "check", "list", "selfcheck", "handout", "ci", "merge"):
        assert command in out


def test_list_shows_files_points_and_total() -> None:
    code, out = invoke("list")
    assert code == 0
    for a in catalog.assignments():
        assert a.file in out and f"{a.points} pts" in out
    assert "100 pts" in out


@pytest.mark.parametrize("args", [
    ("grade",), ("grade", "all", "a", "b"), ("grade", "/no/such/folder"),
    ("grade", "all", "/no/such/dir"), ("grade", "all", "--shard", "3/2"), ("frobnicate",),
])
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    assert invoke(*args)[0] == 2


def test_grade_named_folders_writes_valid_results(tmp_path: Path) -> None:
    folder = reference_submission(tmp_path / "class" / "ivanov")
    (folder / "wiki_stats.py").unlink()
    out = tmp_path / "out"
    code, _ = invoke("grade", str(folder), "--out", str(out), "-j", "2")
    assert code == 0
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    validate(data)
    [submission] = data["submissions"]
    assert submission["student"] == "ivanov"
    assert submission["assignments"]["wiki_stats"]["status"] == "missing"
    rows = list(csv.reader((out / "gradebook.csv").open(encoding="utf-8")))
    assert rows[0][:7] == ["student", "total", "max_total", "long_func", "timing", "req",
                           "wiki_stats"]
    assert rows[1] == ["ivanov", "70", "100", "20", "25", "25", "0",
                       "graded", "graded", "graded", "missing"]


def test_check_explains_and_min_score_sets_the_exit_code(tmp_path: Path) -> None:
    folder = tmp_path / "me"
    folder.mkdir()
    shutil.copy2(catalog.get("timing").stub, folder / "timing.py")
    code, out = invoke("check", str(folder), "--min-score", "1")
    assert code == 1
    assert "NotImplementedError" in out and "Hint:" in out
    assert "What to do next" in out
    assert "long_func.py is missing" in out


def test_handout_has_kit_but_no_hidden_tests_or_solutions(tmp_path: Path) -> None:
    code, _ = invoke("handout", str(tmp_path / "kit"))
    assert code == 0
    files = {p.relative_to(tmp_path / "kit").as_posix() for p in (tmp_path / "kit").rglob("*")
             if p.is_file()}
    for a in catalog.assignments():
        assert {f"{a.slug}/{a.file}", f"{a.slug}/statement.ru.md",
                f"{a.slug}/statement.en.md", f"{a.slug}/test_example_{a.slug}.py"} <= files
        stub = (tmp_path / "kit" / a.slug / a.file).read_text(encoding="utf-8")
        assert stub == a.stub.read_text(encoding="utf-8")
    assert ".github/workflows/grade.yml" in files
    assert not any("suites" in f or "solutions" in f or "meta.toml" in f for f in files)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                   check=True, capture_output=True)


def test_ci_grades_only_changed_submissions(tmp_path: Path, monkeypatch) -> None:
    repo = tmp_path / "course"
    (repo / "submissions").mkdir(parents=True)
    (repo / "submissions" / "old").mkdir()
    shutil.copy2(catalog.get("timing").solution, repo / "submissions" / "old" / "timing.py")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    new = repo / "submissions" / "новый"
    new.mkdir()
    shutil.copy2(catalog.get("timing").stub, new / "timing.py")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "pr")
    monkeypatch.chdir(repo)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out = invoke("ci", "--base", "HEAD~1", "--min-score", "10", "--junit",
                       str(tmp_path / "junit.xml"), "--out", str(tmp_path / "out"))
    assert code == 1  # the new submission scores 0 < 10
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert [s["student"] for s in data["submissions"]] == ["новый"]
    assert "новый" in summary.read_text(encoding="utf-8")
    assert (tmp_path / "junit.xml").is_file()


def test_shards_merge_into_the_whole_class(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        folder = tmp_path / "class" / name
        folder.mkdir(parents=True)
        shutil.copy2(catalog.get("timing").solution, folder / "timing.py")
    for k in (1, 2):
        code, _ = invoke("grade", "all", str(tmp_path / "class"), "--shard", f"{k}/2",
                         "--out", str(tmp_path / f"s{k}"), "-j", "2")
        assert code == 0
    code, _ = invoke("merge", str(tmp_path / "s1"), str(tmp_path / "s2"),
                     "--out", str(tmp_path / "all"))
    assert code == 0
    data = json.loads((tmp_path / "all" / "results.json").read_text(encoding="utf-8"))
    validate(data)
    assert [s["student"] for s in data["submissions"]] == ["a", "b", "c"]
    assert all(s["score"] == 25 for s in data["submissions"])


def test_python_dash_m_grader_works() -> None:
    proc = subprocess.run(["python", "-m", "grader", "list"], capture_output=True, text=True,
                          executable=None, check=False,
                          env={"PATH": str(Path(__import__("sys").executable).parent)})
    assert proc.returncode == 0 and "wiki_stats" in proc.stdout


def test_a_grader_fault_costs_one_pair_and_exits_1(tmp_path: Path, monkeypatch) -> None:
    from grader import runner

    real = runner.run_suite

    def broken(assignment, folder, scratch):
        if assignment.slug == "req":
            raise RuntimeError("disk on fire")
        return real(assignment, folder, scratch)

    monkeypatch.setattr(runner, "run_suite", broken)
    folder = reference_submission(tmp_path / "ivanov")
    code, out = invoke("grade", str(folder), "--out", str(tmp_path / "out"), "-j", "2")
    assert code == 1
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assignments = data["submissions"][0]["assignments"]
    assert assignments["req"]["status"] == "error"
    assert "internal grader error" in assignments["req"]["message"]
    assert assignments["timing"]["score"] == 25


def test_require_isolation_can_demand_the_syscall_filter(tmp_path: Path, monkeypatch) -> None:
    folder = reference_submission(tmp_path / "class" / "ivanov")
    setup = sandbox.detect.setup()
    monkeypatch.setitem(sandbox.detect.setup_cache, "setup", dataclasses.replace(setup, seccomp=""))
    code, out = invoke("grade", str(folder), "--out", str(tmp_path / "out"),
                       "--require-isolation", f"{setup.kind}+seccomp")
    assert code == 2 and "libseccomp2" in out and "no syscall filter" in out
    assert not (tmp_path / "out").exists()

def _fake_suites(monkeypatch) -> None:
    """Every suite answers at once with full marks; a submission holding a file BAD gets an
    impossible req score (above its maximum), as a grader bug would give."""
    from grader import runner
    from grader.results import AssignmentResult

    def instant(assignment, folder, scratch):
        over = (folder / "BAD").exists() and assignment.slug == "req"
        score = assignment.points + (5 if over else 0)
        return AssignmentResult(assignment.slug, score, assignment.points, "graded")

    monkeypatch.setattr(runner, "run_suite", instant)


def test_a_result_that_cannot_be_recorded_does_not_stop_the_batch(tmp_path: Path,
                                                                   monkeypatch) -> None:
    _fake_suites(monkeypatch)
    for name in ("a", "b", "c"):
        folder = tmp_path / "class" / name
        folder.mkdir(parents=True)
        (folder / "req.py").write_text("", encoding="utf-8")
    (tmp_path / "class" / "b" / "BAD").write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", "all", str(tmp_path / "class"), "--out",
                                       str(tmp_path / "out"), "-j", "1"])
    assert result.exit_code == 1, result.output
    assert "could not record the result of 'b'" in result.output
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    validate(data)
    by_name = {s["student"]: s for s in data["submissions"]}
    assert sorted(by_name) == ["a", "b", "c"]  # c was graded after b's failure
    assert by_name["a"]["score"] == by_name["c"]["score"] == 100
    assert by_name["b"]["score"] == 0 and "the report failed" in by_name["b"]["message"]


def test_a_ci_report_that_cannot_be_written_does_not_stop_the_others(tmp_path: Path,
                                                                      monkeypatch) -> None:
    _fake_suites(monkeypatch)
    repo = tmp_path / "course"
    (repo / "submissions").mkdir(parents=True)
    (repo / "README").write_text("x", encoding="utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    (repo / "submissions" / "::add-mask::eve").mkdir()
    (repo / "submissions" / "::add-mask::eve" / "req.py").write_text("", encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "pr")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    junit = tmp_path / "a-file" / "junit.xml"  # its folder cannot be made
    result = CliRunner().invoke(main, ["ci", "--base", "HEAD~1", "--out", str(tmp_path / "out"),
                                       "--junit", str(junit)])
    assert result.exit_code == 1
    assert "could not write" in result.output and "junit.xml" in result.output
    assert "add\\-mask" in summary.read_text(encoding="utf-8")  # the summary was written
    lines = result.output.splitlines()
    token = lines[0].removeprefix("::stop-commands::")
    assert len(token) == 32 and f"::{token}::" in lines
    assert not any(line.lstrip().startswith("::add-mask") for line in lines)


@pytest.mark.slow
def test_gradebook_says_an_unreadable_zip_is_not_a_real_zero(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    (klass / "ivanov").mkdir(parents=True)
    (klass / "ivanov" / "notes.txt").write_text("no code yet\n", encoding="utf-8")
    (klass / "popov.zip").write_bytes(b"PK\x03\x04 this is no archive")
    code, out = invoke("grade", "all", str(klass), "--out", str(tmp_path / "out"))
    assert code == 0, out
    with (tmp_path / "out" / "gradebook.csv").open(encoding="utf-8") as stream:
        rows = {row["student"]: row for row in csv.DictReader(stream)}
    slugs = [a.slug for a in catalog.assignments()]
    assert {rows["popov"][f"{slug}_status"] for slug in slugs} == {"unreadable"}
    assert {rows["ivanov"][f"{slug}_status"] for slug in slugs} == {"missing"}
    assert {rows[name][slug] for name in rows for slug in slugs} == {"0"}
