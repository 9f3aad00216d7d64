"""Attacks on the grader's reports (tests/adversarial/*, kind = "reports"): see its README.

Each attack is a class of real folders whose names and files are hostile (names
with newlines, ESC, CR, bidi, workflow commands, formulas, Markdown), graded by
the real command line in a subprocess (`grade`, `check`, `ci` under GitHub
Actions with a step summary), then checked where each text lands:

- every student is recorded under their exact name; honest ones keep full marks;
  the attacked assignment scores what it earns, saying why;
- no raw control or bidi character reaches the terminal output;
- under Actions, no line of the log is a workflow command but our own (GitHub's
  runner modelled line by line, stop-commands included), and inside the
  stop-commands block no line even looks like one;
- gradebook.csv cells are never formulas; the job summary, rendered by GitHub's
  own renderer, keeps its structure;
- results.json stays under its stated size, the grader's memory under its stated
  bounds (ru_maxrss of the grader and of every process it started), and no
  process of the run survives it.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from grader import catalog, sandbox
from grader.reports import escape, results_file
from grader.reports.results_file import validate
from tests.conftest import reference_submission
from tests.test_adversarial import processes, run_uids
from tests.test_escape import FORMULA, runner_commands

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "adversarial"
KIND = "reports"
JOBS = "2"
SURVIVOR_GRACE = 3.0
# Raw control characters (all but LF), C1, bidi controls: none may reach the output.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                 "\u2066-\u2069]")
SUMMARY_TAGS = {"h2", "h3", "table", "thead", "tbody", "tr", "th", "td", "br", "details",
                "summary", "ul", "li", "strong", "code", "em", "p"}

# Runs the CLI in this process and records, for the test, its exit status, the peak
# memory of the grader and of the processes it started, and the test processes it
# started (whose run uids and cgroups tell their survivors).
WRAPPER = """
import json, resource, sys
from tests.test_adversarial import ChildWatcher
from grader.cli import main
watcher = ChildWatcher()
code = 0
try:
    main(sys.argv[2:], prog_name="grader", standalone_mode=False)
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 1
finally:
    watcher.stop()
# VmHWM, not RUSAGE_SELF: the kernel carries the peak of the memory this process was
# forked with (the whole pytest process) across exec into RUSAGE_SELF's ru_maxrss.
own_kib = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmHWM:"))
with open(sys.argv[1], "w") as stream:
    json.dump({"code": code, "grader_kib": own_kib,
               "process_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
               "pids": sorted(watcher.pids)}, stream)
"""


def expectations(attack: Path) -> dict[str, Any]:
    return tomllib.loads((attack / "expect.toml").read_text(encoding="utf-8"))


ATTACKS = sorted(p for p in CORPUS.iterdir()
                 if (p / "expect.toml").is_file() and expectations(p).get("kind") == KIND)


@dataclass
class Run:
    """One command of the grader on the attack's class."""

    command: str
    code: int
    stdout: str
    stderr: str
    grader_mib: float
    process_mib: float
    survivors: list[str] = field(default_factory=list)


def build_class(attack: Path, root: Path) -> Path:
    """A git repository whose second commit adds every student's folder under submissions/."""
    expect = expectations(attack)
    repo = root / "course"
    submissions = repo / "submissions"
    submissions.mkdir(parents=True)
    (repo / "README").write_text("course\n", encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    for name in expect["honest"]:
        reference_submission(submissions / name)
    for name in expect["attackers"]:  # only the attack's files: the rest is "missing", quickly
        folder = submissions / name
        folder.mkdir()
        for source in attack.glob("*.py"):
            shutil.copy2(source, folder / source.name)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the pull request")
    return repo


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                   check=True, capture_output=True)


def environment(actions: bool, summary: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "RUNNER_")) and k not in ("CI", "PYTHONPATH")}
    env["PYTHONPATH"] = str(ROOT)
    if actions:
        env.update(GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    return env


def survivors(pids: list[int]) -> list[str]:
    """Live processes of the run: in a run cgroup of its test processes, or under their uids."""
    def ours(proc: Any) -> bool:
        owner = re.search(r"/grader-(\d+)-\d+", proc.cgroup)
        if owner:
            return int(owner.group(1)) in pids
        return any(low <= proc.uid < low + 100 for low in map(run_uids, pids))

    deadline = time.monotonic() + SURVIVOR_GRACE
    while True:
        left = [str(p) for p in processes() if p.state != "Z" and ours(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def run(command: str, args: list[str], cwd: Path, env: dict[str, str], tmp: Path) -> Run:
    stats = tmp / f"{command}-stats.json"
    proc = subprocess.run([sys.executable, "-c", WRAPPER, str(stats), command, *args],
                          cwd=cwd, env=env, capture_output=True, timeout=600, check=False)
    data = json.loads(stats.read_text(encoding="utf-8"))
    # strict: the output must be UTF-8 (a lone surrogate or raw byte would fail here)
    return Run(command, data["code"], proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8"),
               data["grader_kib"] / 1024, data["process_kib"] / 1024,
               survivors(data["pids"]))


@dataclass
class Graded:
    attack: Path
    expect: dict[str, Any]
    repo: Path
    out: Path
    summary: Path
    runs: dict[str, Run]


@pytest.fixture(scope="module", params=ATTACKS, ids=lambda p: p.name)
def graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    if sandbox.level() != "bwrap":
        pytest.skip("the attacks run student code: only under bubblewrap "
                    f"(this machine: {sandbox.isolation()})")
    attack: Path = request.param
    expect = expectations(attack)
    tmp = tmp_path_factory.mktemp(attack.name)
    repo = build_class(attack, tmp)
    out, summary = tmp / "out", tmp / "summary.md"
    runs = {}
    for command in expect["commands"]:
        if command == "grade":
            args = ["all", "submissions", "--out", str(out), "-j", JOBS]
            runs[command] = run(command, args, repo, environment(False, summary), tmp)
        elif command == "ci":
            args = ["--base", "HEAD~1", "--submissions", "submissions", "--out", str(out),
                    "-j", JOBS, "--junit", str(tmp / "junit.xml")]
            runs[command] = run(command, args, repo, environment(True, summary), tmp)
        else:  # check: one hostile student's folder, as its owner (or a CI job) runs it
            folder = repo / "submissions" / expect["attackers"][0]
            actions = "ci" in expect["commands"]
            runs[command] = run(command, ["-j", JOBS], folder, environment(actions, summary),
                                tmp)
    return Graded(attack, expect, repo, out, summary, runs)


def students(expect: dict[str, Any]) -> list[str]:
    return [*expect["honest"], *expect["attackers"]]


# ---------------------------------------------------------------- what was recorded


def test_corpus_of_this_kind() -> None:
    assert {a.name for a in ATTACKS} >= {"huge_import_error", "ci_log_injection",
                                         "csv_injection", "terminal_escapes",
                                         "summary_injection"}
    for attack in ATTACKS:
        expect = expectations(attack)
        assert expect.get("why") and expect["attacked"] in {a.slug for a in catalog.assignments()}
        assert set(expect["commands"]) <= {"grade", "check", "ci"}
        for name in students(expect):  # each must be one real folder name, not hidden
            assert "/" not in name and "\0" not in name and not name.startswith("."), name
            assert 0 < len(name.encode()) <= 255, name


def test_every_student_is_recorded_under_their_exact_name(graded: Graded) -> None:
    data = json.loads((graded.out / "results.json").read_bytes().decode("utf-8"))
    validate(data)
    by_name = {s["student"]: s for s in data["submissions"]}
    assert sorted(by_name) == sorted(students(graded.expect))
    for name in graded.expect["honest"]:
        assert by_name[name]["score"] == by_name[name]["max_score"], by_name[name]
    slug = graded.expect["attacked"]
    for name in graded.expect["attackers"]:
        assignment = by_name[name]["assignments"][slug]
        assert assignment["score"] <= graded.expect["max_score"], (name, assignment["message"])
        assert graded.expect["message"].lower() in assignment["message"].lower(), name


def test_the_commands_end_as_they_should(graded: Graded) -> None:
    for command, done in graded.runs.items():
        # grade: 0 (scores are not errors); check/ci: 0 with no minimum asked for
        assert done.code == 0, (command, done.stderr[-2000:])
        assert "Traceback" not in done.stderr, done.stderr[-2000:]


def test_no_process_of_the_run_survives(graded: Graded) -> None:
    for command, done in graded.runs.items():
        assert done.survivors == [], command


# ---------------------------------------------------------------- size and memory


def test_results_stay_under_the_stated_size(graded: Graded) -> None:
    limit = graded.expect.get("max_results_bytes", 1_000_000)
    size = (graded.out / "results.json").stat().st_size
    print(f"\n{graded.attack.name}: results.json {size} bytes (limit {limit})")
    assert size < limit


def test_memory_stays_under_the_stated_bounds(graded: Graded) -> None:
    for command, done in graded.runs.items():
        print(f"\n{graded.attack.name} {command}: grader {done.grader_mib:.0f} MiB, "
              f"largest process it started {done.process_mib:.0f} MiB")
        assert done.grader_mib < graded.expect.get("max_grader_mib", 300), command
        assert done.process_mib < graded.expect.get("max_process_mib", 1024), command


# ---------------------------------------------------------------- each destination


def test_terminal_output_holds_no_raw_control_or_bidi_character(graded: Graded) -> None:
    for command, done in graded.runs.items():
        for stream in (done.stdout, done.stderr):
            found = sorted({f"U+{ord(c):04X}" for c in RAW.findall(stream)})
            assert found == [], (command, found)
    shown = "".join(done.stdout for done in graded.runs.values())
    for name in graded.expect["attackers"]:  # each name is there, shown, on our lines
        assert escape.terminal(name) in shown, name


def commands_acted_on(log: str) -> tuple[list[str], list[str]]:
    """GitHub's runner over `log`: the commands it obeys, and lines that look like commands
    while it is stopped (actions/runner ActionCommandManager, stop-commands and its token)."""
    obeyed, hidden, token = [], [], None
    for line in re.split("\r\n|\r|\n", log):
        if not runner_commands(line):
            continue
        name = re.match(r"\s*(?:::|.*?##\[)([^\s:\]]+)", line).group(1)
        if token is not None:
            if name.lower() == token.lower():
                token = None
            else:
                hidden.append(line)
        elif name.lower() == "stop-commands":
            token = line.strip().split("::")[2]
        else:
            obeyed.append(line)
    return obeyed, hidden


def test_no_log_line_is_a_workflow_command_but_ours(graded: Graded) -> None:
    names = [escape.workflow_property(escape.visible(n, multiline=True))
             for n in students(graded.expect)]
    for command, done in graded.runs.items():
        if command == "grade":
            continue  # run outside Actions: the terminal test covers it
        obeyed, hidden = commands_acted_on(done.stdout)
        assert hidden == [], (command, hidden)  # escaping holds even without stop-commands
        for line in obeyed:  # our annotations: error/warning about a student of the class
            if line.startswith("::notice title=More problems::"):
                continue  # ours: how many did not fit GitHub's limits
            match = re.match(r"::(error|warning) (?:file=([^,:]*),(?:line=\d+,)?)?"
                             r"title=([^:]*)::", line)
            assert match, (command, line)
            assert any(match.group(3).startswith(f"{n}%3A ") for n in names), line
            assert match.group(2) is None or any(
                match.group(2).startswith(f"submissions/{n}/") for n in names), line
        assert runner_commands(done.stderr) == [], command


def test_gradebook_cells_are_never_formulas(graded: Graded) -> None:
    with (graded.out / "gradebook.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert len(rows) == 1 + len(students(graded.expect))
    for row in rows[1:]:
        assert not row[0].lstrip().startswith(FORMULA), row[0]
        columns = 3 + len(catalog.assignments())  # student, totals, scores; then statuses
        scores, statuses = row[1:columns], row[columns:]
        assert all(re.fullmatch(r"\d+(\.\d+)?", cell) for cell in scores), row
        assert set(statuses) <= set(results_file.STATUS_WORDS), row
    cells = {row[0].removeprefix("'") for row in rows[1:]}
    assert cells == {escape.visible(name) for name in students(graded.expect)}


def test_job_summary_keeps_its_structure(graded: Graded) -> None:
    if "ci" not in graded.runs:
        pytest.skip("this attack does not run `grader ci`")
    page = cmarkgfm.github_flavored_markdown_to_html(
        graded.summary.read_text(encoding="utf-8"), options=Options.CMARK_OPT_UNSAFE)
    tags = set(re.findall(r"</?([a-zA-Z0-9]+)", re.sub(r"<!--.*?-->", "", page)))
    assert tags <= SUMMARY_TAGS, tags - SUMMARY_TAGS
    assert page.count("<h2>") == 1 and page.count("<h3>") == 1, page
    assert page.count("<table>") == 1, page
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    assert len(rows) == 1 + len(students(graded.expect))
    firsts = []
    for row in rows[1:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        assert len(cells) == 2 + len(catalog.assignments()), row
        text = html.unescape(re.sub(r"<br\s*/?>", "\n", re.sub(r"<!--.*?-->", "", cells[0])))
        firsts.append(text.strip(" "))
    expected = [escape.visible(n.strip(), multiline=True).strip(" ")
                for n in students(graded.expect)]
    assert sorted(firsts) == sorted(expected)
    attackers = len(graded.expect["attackers"])
    assert page.count("<details>") == page.count("<summary>") == attackers
