"""Nothing graded twice, nothing lost: the output folder's store (issue 9).

Grading is replaced by a fake runner where real grading is not the point: it
records which submission it was asked to grade (the first line of its req.py)
and scores req 0 when that file says "flaw", so a re-grade is seen both in the
calls and in the results.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import catalog, i18n, runner, sandbox
from grader.cli import main
from grader.grading import INTERNAL_ERROR
from grader.reports import store
from grader.reports.results_file import ResultsFile, load_results, validate
from grader.results import AssignmentResult
from tests.conftest import ROOT

OTHER_SUITES = "1" * 64


class FakeSuites:
    """Stands in for runner.run_suite: instant, and says which submissions it graded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []  # (student, slug)
        self.internal_error_for: set[str] = set()

    def __call__(self, assignment, folder: Path, scratch: Path, **_options) -> AssignmentResult:
        text = (folder / "req.py").read_text(encoding="utf-8")
        student = text.splitlines()[0].lstrip("# ")
        self.calls.append((student, assignment.slug))
        if student in self.internal_error_for:
            return runner.not_graded(assignment, "error", f"{INTERNAL_ERROR}: boom")
        score = 0 if assignment.slug == "req" and "flaw" in text else assignment.points
        return AssignmentResult(assignment.slug, score, assignment.points, "graded")

    def graded(self) -> set[str]:
        """Students graded since the last call, then forget them."""
        students = {student for student, _ in self.calls}
        self.calls.clear()
        return students


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeSuites:
    suites = FakeSuites()
    monkeypatch.setattr(runner, "run_suite", suites)
    return suites


def make_class(folder: Path, *students: str) -> Path:
    for student in students:
        write_submission(folder / student, student)
    return folder


def write_submission(folder: Path, student: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "req.py").write_text(f"# {student}\n{extra}", encoding="utf-8")
    return folder


def grade(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["grade", *map(str, args), "-j", "1"])
    return result.exit_code, result.output


def submissions(out: Path) -> dict[str, dict]:
    """results.json's submissions by student, after checking the file and the gradebook agree."""
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    validate(data)
    with (out / "gradebook.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    by_name = {s["student"]: s for s in data["submissions"]}
    assert [row[0] for row in rows] == list(by_name)
    return by_name


def test_an_unchanged_submission_is_kept_and_a_changed_one_graded_again(
        tmp_path: Path, fake: FakeSuites) -> None:
    klass = make_class(tmp_path / "class", "a", "b", "c")
    out = tmp_path / "out"
    assert grade("all", klass, "--out", out)[0] == 0
    assert fake.graded() == {"a", "b", "c"}
    first = submissions(out)
    assert {s["content_hash"] for s in first.values()}.__len__() == 3

    write_submission(klass / "b", "b", "flaw")
    code, output = grade("all", klass, "--out", out)
    assert code == 0, output
    assert fake.graded() == {"b"}
    assert "Graded 1 submission(s), kept 2 unchanged" in output
    second = submissions(out)
    assert second["b"]["score"] == 75 and first["b"]["score"] == 100
    assert second["b"]["graded_at"] > first["b"]["graded_at"]
    assert second["a"] == first["a"] and second["c"] == first["c"]  # kept as they were


def test_a_file_intake_ignores_does_not_make_a_change(tmp_path: Path, fake: FakeSuites) -> None:
    klass = make_class(tmp_path / "class", "a")
    out = tmp_path / "out"
    grade("all", klass, "--out", out)
    fake.graded()
    (klass / "a" / "__MACOSX").mkdir()  # junk intake drops without a word
    (klass / "a" / "__MACOSX" / "req.py").write_text("# junk", encoding="utf-8")
    grade("all", klass, "--out", out)
    assert fake.graded() == set()
    (klass / "a" / "helper.py").write_text("X = 1\n", encoding="utf-8")  # graded: it counts
    grade("all", klass, "--out", out)
    assert fake.graded() == {"a"}


def test_a_suite_change_grades_everyone_again(tmp_path: Path, fake: FakeSuites,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    klass = make_class(tmp_path / "class", "a", "b")
    out = tmp_path / "out"
    grade("all", klass, "--out", out)
    fake.graded()
    monkeypatch.setattr(catalog, "suite_hash", lambda: OTHER_SUITES)
    assert grade("all", klass, "--out", out)[0] == 0
    assert fake.graded() == {"a", "b"}
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["suite_hash"] == OTHER_SUITES and len(data["submissions"]) == 2


def test_force_grades_everything_again(tmp_path: Path, fake: FakeSuites) -> None:
    klass = make_class(tmp_path / "class", "a", "b")
    out = tmp_path / "out"
    grade("all", klass, "--out", out)
    fake.graded()
    code, output = grade("all", klass, "--out", out, "--force")
    assert code == 0 and "kept 0 unchanged" in output
    assert fake.graded() == {"a", "b"}


def test_a_result_graded_under_other_isolation_is_graded_again(
        tmp_path: Path, fake: FakeSuites, monkeypatch: pytest.MonkeyPatch) -> None:
    klass = make_class(tmp_path / "class", "a")
    out = tmp_path / "out"
    grade("all", klass, "--out", out)
    fake.graded()
    weaker = "rlimits" if sandbox.level() != "rlimits" else "setpriv"
    monkeypatch.setattr(sandbox, "level", lambda: weaker)
    grade("all", klass, "--out", out)
    assert fake.graded() == {"a"}
    assert submissions(out)["a"]["isolation"] == weaker


def test_a_result_graded_in_another_language_is_graded_again(
        tmp_path: Path, fake: FakeSuites, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its messages would be in the other language: reuse only what reads in this run's."""
    klass = make_class(tmp_path / "class", "a")
    out = tmp_path / "out"
    grade("all", klass, "--out", out)
    fake.graded()
    assert submissions(out)["a"]["language"] == "en"
    monkeypatch.setenv(i18n.ENV, "ru")
    grade("all", klass, "--out", out)
    assert fake.graded() == {"a"}
    assert submissions(out)["a"]["language"] == "ru"
    grade("all", klass, "--out", out)  # the same language again: kept
    assert fake.graded() == set()


def test_grading_one_student_into_a_class_output_keeps_the_others(
        tmp_path: Path, fake: FakeSuites) -> None:
    klass = make_class(tmp_path / "class", "a", "b", "c")
    out = tmp_path / "out"
    grade("all", klass, "--out", out)
    fake.graded()
    write_submission(klass / "b", "b", "flaw")
    assert grade(klass / "b", "--out", out)[0] == 0
    assert fake.graded() == {"b"}
    result = submissions(out)
    assert sorted(result) == ["a", "b", "c"]
    assert (result["a"]["score"], result["b"]["score"], result["c"]["score"]) == (100, 75, 100)
    assert grade(klass / "a", "--out", out)[0] == 0  # unchanged: nothing run at all
    assert fake.graded() == set()
    assert sorted(submissions(out)) == ["a", "b", "c"]


def test_students_of_other_suites_are_never_dropped_silently(
        tmp_path: Path, fake: FakeSuites, monkeypatch: pytest.MonkeyPatch) -> None:
    klass = make_class(tmp_path / "class", "a", "b")
    out = tmp_path / "out"
    grade("all", klass, "--out", out)
    fake.graded()
    before = (out / "results.json").read_bytes()
    monkeypatch.setattr(catalog, "suite_hash", lambda: OTHER_SUITES)
    code, output = grade(klass / "a", "--out", out)
    assert code == 2 and "other hidden suites" in output and "b" in output
    assert fake.graded() == set() and (out / "results.json").read_bytes() == before
    code, output = grade(klass / "a", "--out", out, "--force")
    assert code == 0 and "dropped 1 student(s)" in output
    assert sorted(submissions(out)) == ["a"]


def test_a_result_the_grader_failed_on_is_graded_again(tmp_path: Path, fake: FakeSuites) -> None:
    klass = make_class(tmp_path / "class", "a", "b")
    out = tmp_path / "out"
    fake.internal_error_for.add("a")
    assert grade("all", klass, "--out", out)[0] == 1
    fake.graded()
    fake.internal_error_for.clear()
    assert grade("all", klass, "--out", out)[0] == 0
    assert fake.graded() == {"a"}
    assert submissions(out)["a"]["score"] == 100


def test_check_into_an_output_folder(tmp_path: Path, fake: FakeSuites) -> None:
    folder = write_submission(tmp_path / "a", "a")
    out = tmp_path / "out"
    invoke = CliRunner().invoke
    assert invoke(main, ["check", str(folder), "--out", str(out)]).exit_code == 0
    assert fake.graded() == {"a"}
    again = invoke(main, ["check", str(folder), "--out", str(out)])
    assert again.exit_code == 0 and "Unchanged since" in again.output
    assert fake.graded() == set()
    assert invoke(main, ["check", str(folder), "--out", str(out), "--force"]).exit_code == 0
    assert fake.graded() == {"a"}
    assert invoke(main, ["check", str(folder)]).exit_code == 0  # no --out: graded, no folder
    assert fake.graded() == {"a"}
    assert sorted(submissions(out)) == ["a"]


def test_an_output_from_before_the_store_keeps_its_students(tmp_path: Path,
                                                             fake: FakeSuites) -> None:
    klass = make_class(tmp_path / "class", "a", "b")
    out = tmp_path / "out"
    grade(klass / "a", "--out", out)
    for path in (out / store.STORE_NAME).iterdir():
        path.unlink()
    (out / store.STORE_NAME).rmdir()  # only results.json and gradebook.csv, as before
    fake.graded()
    assert grade(klass / "b", "--out", out)[0] == 0
    assert fake.graded() == {"b"}
    assert sorted(submissions(out)) == ["a", "b"]


def test_a_second_run_into_the_same_folder_is_refused(tmp_path: Path, fake: FakeSuites) -> None:
    klass = make_class(tmp_path / "class", "a")
    out = tmp_path / "out"
    with store.lock(out):
        code, output = grade("all", klass, "--out", out)
    assert code == 2 and "another grader run" in output
    assert fake.graded() == set()
    assert grade("all", klass, "--out", out)[0] == 0  # the lock went with its holder


def test_ctrl_c_keeps_what_was_graded_and_the_next_run_goes_on(
        tmp_path: Path, fake: FakeSuites, monkeypatch: pytest.MonkeyPatch) -> None:
    students = list("abcdef")
    klass = make_class(tmp_path / "class", *students)
    out = tmp_path / "out"
    interrupted = threading.Event()

    def on_ctrl_c(*_args: object) -> None:
        interrupted.set()
        raise KeyboardInterrupt

    def ctrl_c_at_d(assignment, folder, scratch):
        if (folder / "req.py").read_text(encoding="utf-8").startswith("# d"):
            if not interrupted.is_set():
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, as the terminal sends it
            interrupted.wait(30)  # d is being graded when the grader is interrupted
        return fake(assignment, folder, scratch)

    monkeypatch.setattr(runner, "run_suite", ctrl_c_at_d)
    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        code, output = grade("all", klass, "--out", out)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert interrupted.is_set() and code == 1 and "Aborted" in output
    stored = set(submissions(out))
    assert {"a", "b", "c"} <= stored  # all graded before Ctrl-C, even those not yet written
    fake.graded()
    monkeypatch.setattr(runner, "run_suite", fake)
    assert grade("all", klass, "--out", out)[0] == 0
    assert fake.graded() == set(students) - stored
    assert sorted(submissions(out)) == students


def test_ctrl_c_while_a_result_is_being_written_still_writes_it(
        tmp_path: Path, fake: FakeSuites, monkeypatch: pytest.MonkeyPatch) -> None:
    klass = make_class(tmp_path / "class", *"abcd")
    out = tmp_path / "out"
    real_record = ResultsFile.record

    def ctrl_c_inside(self, result):
        if result.student == "b":
            os.kill(os.getpid(), signal.SIGINT)  # lands in the middle of recording b
        return real_record(self, result)

    monkeypatch.setattr(ResultsFile, "record", ctrl_c_inside)
    code, output = grade("all", klass, "--out", out)
    assert code == 1 and "Aborted" in output
    assert {"a", "b"} <= set(submissions(out))
    assert "the report failed" not in (out / "results.json").read_text(encoding="utf-8")


def test_the_leftovers_of_a_killed_write_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / store.STORE_NAME).mkdir(parents=True)
    leftovers = [out / ".results.json.x1y2.tmp", out / ".gradebook.csv.x1y2.tmp",
                 out / store.STORE_NAME / ".0123.json.abcd.tmp"]
    for path in leftovers:
        path.write_text('{"half": ', encoding="utf-8")
    (out / "notes.txt").write_text("the teacher's", encoding="utf-8")
    ResultsFile(out, suite_hash=OTHER_SUITES)
    assert not any(path.exists() for path in leftovers)
    assert (out / "notes.txt").exists()


def test_a_stored_file_that_is_not_a_result_is_ignored_and_said(tmp_path: Path,
                                                                 fake: FakeSuites) -> None:
    klass = make_class(tmp_path / "class", "a", "b")
    out = tmp_path / "out"
    grade("all", klass, "--out", out)
    (out / store.STORE_NAME / "junk.json").write_text('{"not": "a result"}', encoding="utf-8")
    fake.graded()
    code, output = grade("all", klass, "--out", out)
    assert code == 1 and "junk.json" in output  # said, and the run still went to its end
    assert fake.graded() == set() and sorted(submissions(out)) == ["a", "b"]


# --- merging a late or re-graded submission ---------------------------------------------------


def test_merge_takes_a_late_submission_graded_on_its_own(tmp_path: Path, fake: FakeSuites,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    klass = make_class(tmp_path / "class", "a", "b")
    grade("all", klass, "--out", tmp_path / "class-out")
    write_submission(klass / "b", "b", "flaw")  # b re-submitted after the deadline
    write_submission(tmp_path / "late" / "c", "c")  # c handed in late
    grade(klass / "b", tmp_path / "late" / "c", "--out", tmp_path / "late-out")
    for order in (["class-out", "late-out"], ["late-out", "class-out"]):
        merged = tmp_path / f"merged-{order[0]}"
        result = CliRunner().invoke(main, ["merge", *(str(tmp_path / o) for o in order),
                                           "--out", str(merged)])
        assert result.exit_code == 0, result.output
        scores = {name: s["score"] for name, s in submissions(merged).items()}
        assert scores == {"a": 100, "b": 75, "c": 100}  # b's newest result, whatever the order

    monkeypatch.setattr(catalog, "suite_hash", lambda: OTHER_SUITES)
    grade(tmp_path / "late" / "c", "--out", tmp_path / "other-suites")
    refused = CliRunner().invoke(main, ["merge", str(tmp_path / "class-out"),
                                        str(tmp_path / "other-suites"), "--out",
                                        str(tmp_path / "never")])
    assert refused.exit_code == 2 and "suite_hash" in refused.output
    assert not (tmp_path / "never" / "results.json").exists()


# --- SIGKILL at any moment -----------------------------------------------------------------

_SLOW_FAKE = """
import sys, time
from pathlib import Path
from grader import runner
from grader.results import AssignmentResult

log = Path(sys.argv[1])

def slow(assignment, folder, scratch):
    student = (folder / "req.py").read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
    with log.open("a", encoding="utf-8") as stream:
        stream.write(student + "\\n")
    time.sleep(0.05)
    return AssignmentResult(assignment.slug, assignment.points, assignment.points, "graded")

runner.run_suite = slow
from grader.cli import main
main(sys.argv[2:])
"""


def _stored(out: Path) -> set[str]:
    """Students whose store file is a complete, valid result."""
    found = set()
    for path in (out / store.STORE_NAME).glob("*.json"):
        _, [result] = load_results(path)  # raises on a half-written or invalid file
        found.add(result.student)
    return found


def test_sigkill_mid_batch_loses_nothing_and_the_next_run_grades_only_the_rest(
        tmp_path: Path) -> None:
    students = [f"s{i:02d}" for i in range(12)]
    klass = make_class(tmp_path / "class", *students)
    out, script = tmp_path / "out", tmp_path / "slow_fake.py"
    script.write_text(_SLOW_FAKE, encoding="utf-8")
    command = [sys.executable, str(script), "", "grade", "all", str(klass), "--out", str(out),
               "-j", "1"]
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    command[2] = str(first_log)
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(list((out / store.STORE_NAME).glob("*.json"))) < 4:
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    stored = _stored(out)
    assert 4 <= len(stored) < len(students)
    validate(json.loads((out / "results.json").read_text(encoding="utf-8")))  # never half-written

    command[2] = str(second_log)
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    graded_again = set(second_log.read_text(encoding="utf-8").split())
    assert graded_again == set(students) - stored  # the rest, and only the rest
    assert sorted(submissions(out)) == students
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_sigkill_of_a_real_run_of_the_demo_class_then_the_gradebook_is_complete(
        tmp_path: Path) -> None:
    """The real grader, sandbox and all, killed with its whole process group mid-class."""
    klass = ROOT / "examples" / "submissions"
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "grade", "all", str(klass), "--out", str(out),
               "-j", "2"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while len(list((out / store.STORE_NAME).glob("*.json"))) < 3:
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    stored = _stored(out)
    finished = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    assert f"kept {len(stored)} unchanged" in finished.stdout
    scores = {name.split("_")[0]: s["score"] for name, s in submissions(out).items()}
    assert scores == {"ivanov": 100, "kuznetsov": 77, "morozova": 100, "petrova": 75,
                      "popov": 45, "smirnova": 75, "volkov": 50, "сидоров": 89}
