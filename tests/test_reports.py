"""Reports: results.json/gradebook.csv, student feedback, CI output and shard merging."""

from __future__ import annotations

import copy
import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from grader import catalog
from grader.reports import results_file
from grader.reports.ci import annotations, job_summary_markdown, write_junit
from grader.reports.feedback import format_points, render_check, render_summary_line
from grader.reports.merge import merge, merge_with_meta
from grader.reports.results_file import (
    SCHEMA_PATH,
    InvalidResults,
    ResultsFile,
    load_results,
    validate,
)

# Aliased so pytest does not take the dataclass for a test class.
from grader.results import AssignmentResult, SubmissionResult
from grader.results import TestResult as Verdict

COURSE_ORDER = ("long_func", "timing", "req", "wiki_stats")  # docs/cli.md's gradebook columns
FIXED_HEADER = "student,total,max_total,long_func,timing,req,wiki_stats"  # never renamed
STATUS_HEADER = "long_func_status,timing_status,req_status,wiki_stats_status"  # after it
HASH = "ab" * 32
OTHER_HASH = "cd" * 32
ANSI = "\x1b["


def graded(slug: str, failed: int = 0, tests: int = 2, **failure: str) -> AssignmentResult:
    """`slug` with `tests` equal tests, the first `failed` of them failed with `failure`.

    Each test's title is "Clause <i> of <slug>." unless `failure` names one.
    """
    each = catalog.get(slug).points / tests
    failure.setdefault("title", "")
    results = [
        Verdict(f"{slug}::case_{i}", "failed", 0, each, **failure)
        if i < failed
        else Verdict(f"{slug}::case_{i}", "passed", each, each, title=f"Clause {i} of {slug}.")
        for i in range(tests)
    ]
    score = sum(t.points for t in results)
    return AssignmentResult(slug, score, catalog.get(slug).points, "graded", tests=results)


def absent(slug: str, message: str = "") -> AssignmentResult:
    return AssignmentResult(slug, 0, catalog.get(slug).points, "missing", message=message)


def submission(student: str, *replaced: AssignmentResult) -> SubmissionResult:
    """Full marks everywhere except the assignments given."""
    assignments = {slug: graded(slug) for slug in COURSE_ORDER}
    assignments.update({a.slug: a for a in replaced})
    return SubmissionResult(student, assignments)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


# --- results.json and gradebook.csv ----------------------------------------------------------


def test_shipped_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_every_rewrite_validates_and_holds_everything_added(tmp_path: Path) -> None:
    out = ResultsFile(tmp_path / "out", suite_hash=HASH, isolation="bwrap")
    students = ["sidorov", "Ivanov", "petrov"]
    for count, student in enumerate(students, start=1):
        out.add(submission(student, graded("req", failed=1)))
        data = read_json(out.json_path)
        validate(data)
        assert len(data["submissions"]) == count
        assert len(read_csv(out.csv_path)) == count + 1
    assert [s["student"] for s in data["submissions"]] == ["Ivanov", "petrov", "sidorov"]
    assert [row[0] for row in read_csv(out.csv_path)[1:]] == ["Ivanov", "petrov", "sidorov"]
    assert [r.student for r in out.results] == ["Ivanov", "petrov", "sidorov"]
    assert data["suite_hash"] == HASH and data["isolation"] == "bwrap"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", data["generated_at"])
    assert sorted(p.name for p in out.out_dir.iterdir()) == ["gradebook.csv", "grades-lms.csv",
                                                             "results.json", "store"]
    assert len(list((out.out_dir / "store").iterdir())) == 3  # one file per student


def test_unreadable_previous_files_are_replaced_before_the_first_result(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text('{"stale": tru', encoding="utf-8")
    (tmp_path / "gradebook.csv").write_text("old,stuff\n", encoding="utf-8")
    ResultsFile(tmp_path, suite_hash=HASH)
    data = read_json(tmp_path / "results.json")
    validate(data)
    assert data["submissions"] == []
    header = ["student", "total", "max_total", *COURSE_ORDER,
              *(f"{slug}_status" for slug in COURSE_ORDER)]
    assert read_csv(tmp_path / "gradebook.csv") == [header]


def test_interrupted_rewrite_leaves_the_previous_valid_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = ResultsFile(tmp_path, suite_hash=HASH)
    out.add(submission("a"))
    out.add(submission("b"))

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(results_file.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        out.add(submission("c"))
    monkeypatch.undo()

    data = read_json(tmp_path / "results.json")
    validate(data)
    assert [s["student"] for s in data["submissions"]] == ["a", "b"]
    assert [row[0] for row in read_csv(tmp_path / "gradebook.csv")[1:]] == ["a", "b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gradebook.csv", "grades-lms.csv",
                                                          "results.json", "store"]


def test_add_refuses_a_malformed_result_and_keeps_the_files(tmp_path: Path) -> None:
    out = ResultsFile(tmp_path, suite_hash=HASH)
    out.add(submission("a"))
    too_much = graded("long_func")
    too_much.score = 25
    with pytest.raises(InvalidResults, match="above max_score"):
        out.add(submission("b", too_much))
    with pytest.raises(ValueError, match="already"):
        out.add(submission("a"))
    assert [s["student"] for s in read_json(out.json_path)["submissions"]] == ["a"]
    assert [r.student for r in out.results] == ["a"]


def test_gradebook_header_columns_and_numbers(tmp_path: Path) -> None:
    assignments = {slug: graded(slug) for slug in reversed(COURSE_ORDER)}  # not course order
    assignments["timing"] = graded("timing", failed=1)
    out = ResultsFile(tmp_path, suite_hash=HASH)
    out.add(SubmissionResult("ivanov_ivan", assignments))
    lines = out.csv_path.read_text(encoding="utf-8").splitlines()
    assert lines == [
        f"{FIXED_HEADER},{STATUS_HEADER}",
        "ivanov_ivan,87.5,100,20,12.5,25,30,graded,graded,graded,graded",
    ]


def test_gradebook_status_columns_say_why_a_zero_is_a_zero(tmp_path: Path) -> None:
    """A real zero, a missing file, code that could not run, an unreadable hand-in, the grader."""
    points = {slug: catalog.get(slug).points for slug in COURSE_ORDER}
    zero = graded("long_func", failed=2)
    crashed = AssignmentResult("req", 0, points["req"], "error",
                               message="syntax error in req.py, line 7")
    broken = AssignmentResult("wiki_stats", 0, points["wiki_stats"], "error",
                              message=f"{results_file.INTERNAL_ERROR}: Traceback ...")
    damaged = f"{results_file.UNREADABLE_MESSAGE}: the .zip archive is damaged"
    unreadable = {slug: AssignmentResult(slug, 0, points[slug], "error", message=damaged)
                  for slug in COURSE_ORDER}
    out = ResultsFile(tmp_path, suite_hash=HASH)
    out.add(submission("a", zero, absent("timing"), crashed, broken))
    out.add(SubmissionResult("b", unreadable, message="the .zip archive is damaged"))
    with out.csv_path.open(encoding="utf-8", newline="") as stream:
        rows = {row["student"]: row for row in csv.DictReader(stream)}
    assert [rows["a"][slug] for slug in COURSE_ORDER] == ["0", "0", "0", "0"]
    assert [rows["a"][f"{slug}_status"] for slug in COURSE_ORDER] == [
        "graded", "missing", "error", "grader-error"]
    assert {rows["b"][f"{slug}_status"] for slug in COURSE_ORDER} == {"unreadable"}
    assert set(results_file.STATUS_WORDS) >= {"graded", "missing", "error"}


@pytest.mark.parametrize(
    ("value", "text"),
    [(20.0, "20"), (12.5, "12.5"), (0, "0"), (8.333333, "8.33"), (0.1 + 0.2, "0.3")],
)
def test_points_are_printed_without_needless_decimals(value: float, text: str) -> None:
    assert format_points(value) == text


def test_cyrillic_student_names_round_trip(tmp_path: Path) -> None:
    name = "Иванов Иван"
    out = ResultsFile(tmp_path, suite_hash=HASH)
    out.add(submission(name, absent("req")))
    meta, loaded = load_results(tmp_path)
    assert [r.student for r in loaded] == [name]
    assert meta["suite_hash"] == HASH
    raw = out.csv_path.read_bytes()
    assert raw.startswith(b"student,")  # plain UTF-8: no BOM in front of the header
    with out.csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["student"] == name and rows[0]["req"] == "0" and rows[0]["total"] == "75"


def test_titles_are_written_read_back_and_optional(tmp_path: Path) -> None:
    titled = graded("timing", failed=1, title="The wrapper is a coroutine function.")
    out = ResultsFile(tmp_path, suite_hash=HASH)
    out.add(submission("a", titled))
    data = read_json(out.json_path)
    tests = data["submissions"][0]["assignments"]["timing"]["tests"]
    assert [t.get("title") for t in tests] == ["The wrapper is a coroutine function.",
                                               "Clause 1 of timing."]
    _, (loaded,) = load_results(out.json_path)
    assert loaded.assignments["timing"].tests[0].title == "The wrapper is a coroutine function."
    # a file written before titles existed: no "title" keys, still valid, titles read as ""
    for submission_data in data["submissions"]:
        for assignment in submission_data["assignments"].values():
            for test in assignment["tests"]:
                test.pop("title", None)
    validate(data)
    old = SubmissionResult.from_dict(data["submissions"][0])
    assert old.assignments["timing"].tests[0].title == ""
    assert "title" not in old.to_dict()["assignments"]["timing"]["tests"][0]
    assert old.assignments["timing"].tests[0].heading == "case_0"


def test_load_results_returns_what_was_added(tmp_path: Path) -> None:
    original = submission(
        "a", graded("timing", failed=1, message="took 3 s", hint="use await"), absent("req", "gone")
    )
    ResultsFile(tmp_path, suite_hash=HASH).add(original)
    _, (loaded,) = load_results(tmp_path / "results.json")
    assert loaded.to_dict() == original.to_dict()


def _valid_document(folder: Path) -> dict:
    out = ResultsFile(folder, suite_hash=HASH)
    out.extend([submission("a", graded("timing", failed=1)), submission("b")])
    return read_json(out.json_path)


def _set(path: str, value: object):
    def change(doc: dict) -> None:
        *parents, last = path.split("/")
        target = doc
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[last if isinstance(target, dict) else int(last)] = value

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set("submissions/0/assignments/long_func/score", 21), "above max_score"),
        (_set("submissions/0/assignments/long_func/tests/0/points", 11), "above max_points"),
        (_set("submissions/0/assignments/req/status", "passed"), "is not one of"),
        (_set("submissions/0/assignments/timing/tests/0/status", "ok"), "is not one of"),
        (_set("submissions/0/assignments/timing/tests/0/points", 5), "sum of its tests' points"),
        (_set("submissions/0/assignments/long_func/tests/0/max_points", 15), "max_points total"),
        (_set("submissions/0/score", 99), "not the sum"),
        (_set("submissions/0/max_score", 120), "not the sum"),
        (_set("submissions/0/assignments/timing/tests/0/id", "req::case_0"), "does not start"),
        (_set("submissions/1/student", "a"), "more than once"),
        (_set("submissions/0/score", "87.5"), "is not of type 'number'"),
        (_set("suite_hash", "not a hash"), "does not match"),
        (_set("submissions/0/assignments/req/grade", 1), "Additional properties"),
        (_set("submissions/0/assignments/timing/tests/1/title", 3), "is not of type 'string'"),
        (_set("submissions/0/assignments/timing/tests/1/titel", "x"), "Additional properties"),
    ],
)
def test_validate_rejects_broken_results(change, expected: str, tmp_path: Path) -> None:
    document = _valid_document(tmp_path)
    validate(copy.deepcopy(document))  # the unbroken document passes
    change(document)
    with pytest.raises(InvalidResults, match=re.escape(expected)):
        validate(document)


def test_load_results_names_the_file_when_invalid(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"grader_version": "x", "submissions": []}), encoding="utf-8")
    with pytest.raises(InvalidResults, match="suite_hash") as caught:
        load_results(path)
    assert str(path) in str(caught.value)


# --- feedback for students -------------------------------------------------------------------


def test_check_report_shows_failures_with_hint_and_missing_file() -> None:
    failing = graded("timing", failed=1, message="__name__ is 'wrapper'", hint="use wraps")
    text = render_check(submission("ivanov_ivan", failing, absent("req")), color=False)
    assert "ivanov_ivan" in text and "62.5/100" in text
    assert "    ✘ case_0  (0 of 12.5 points)\n      __name__ is 'wrapper'\n" in text  # no title
    assert "Hint: use wraps" in text
    assert "1 of 2 tests passed" in text
    assert "    ✔ Clause 1 of timing.\n" in text  # a passed test: its title, one line
    assert "Clause 0 of long_func" not in text  # full marks: only counted
    assert "req.py is missing — create it from the stub" in text
    assert re.search(r"✘ req\s+0/25", text) and re.search(r"✔ long_func\s+20/20", text)
    assert "Fix timing first, starting with “case_0”" in text and "grader check" in text
    assert ANSI not in text


def test_check_report_heads_a_failed_test_with_its_title() -> None:
    title = "The wrapper keeps the function's name (functools.wraps)."
    failing = graded("timing", failed=1, message="__name__ is 'wrapper'\nexpected 'fetch'",
                     hint="use wraps", title=title)
    failing.tests[0].status = "timeout"
    text = render_check(submission("s", failing), color=False)
    assert (f"    ⏱ {title} (timed out)  (0 of 12.5 points)\n"
            "      __name__ is 'wrapper'\n      expected 'fetch'\n      Hint: use wraps\n") in text
    assert "case_0" not in text  # the title replaces the test's name everywhere
    assert f"Fix timing first, starting with “{title}”" in text


def test_check_report_tells_tests_lost_the_same_way_once() -> None:
    """A stub: 14 tests, one cause. One entry with the count, one example, one hint."""
    stub = graded("req", failed=14, tests=14, message="still raises NotImplementedError",
                  hint="replace the stub's raise")
    stub.tests[0].title = "req sends one GET"
    lone = graded("timing", failed=2, tests=4, message="prints nothing", hint="print it")
    text = render_check(submission("s", stub, lone), color=False)
    assert "    ✘ 14 tests lost 25 of 25 points the same way, first “req sends one GET”:\n" in text
    assert text.count("still raises NotImplementedError") == 1
    assert text.count("Hint: replace the stub's raise") == 1
    assert text.count("prints nothing") == 2  # two alike are still told one by one
    assert len(text.splitlines()) < 40


def test_check_report_ends_with_the_score_table() -> None:
    text = render_check(submission("s", absent("req")), color=False)
    table = text[text.index("\nScore\n"):text.index("What to do next")]
    rows = [line.split() for line in table.strip().splitlines()[1:]]
    assert [row[1] for row in rows[:-1]] == list(COURSE_ORDER)
    assert rows[COURSE_ORDER.index("req")] == ["✘", "req", "0/25", "(missing)"]
    assert rows[-1] == ["total", "75/100"]


def test_check_report_keeps_course_order_and_runner_message() -> None:
    assignments = {slug: graded(slug) for slug in reversed(COURSE_ORDER)}
    assignments["wiki_stats"] = AssignmentResult(
        "wiki_stats", 0, 30, "error", message="could not import wiki_stats.py: SyntaxError"
    )
    text = render_check(SubmissionResult("s", assignments), color=False)
    positions = [text.index(f" {slug} ") for slug in COURSE_ORDER]
    assert positions == sorted(positions)
    assert "error: could not import wiki_stats.py: SyntaxError" in text


def test_check_report_hides_grader_tracebacks() -> None:
    message = (
        "the call failed\nTraceback (most recent call last):\n"
        '  File "/srv/grader/suites/req/test_hidden.py", line 12, in test_x\n'
        "AssertionError: expected 200"
    )
    text = render_check(submission("s", graded("req", failed=1, message=message)), color=False)
    assert "test_hidden.py" not in text and "Traceback" not in text
    assert "the call failed AssertionError: expected 200" in text


def test_check_report_colours_only_when_asked() -> None:
    result = submission("s", absent("req"))
    assert ANSI in render_check(result, color=True)
    assert ANSI not in render_check(result, color=False)


def test_full_marks_congratulates() -> None:
    text = render_check(submission("s"), color=False)
    assert "100/100" in text and "congratulations" in text
    assert "✘" not in text


def test_summary_line() -> None:
    result = submission("ivanov_ivan", graded("timing", failed=1), absent("req"))
    assert render_summary_line(result) == (
        "ivanov_ivan  62.5/100  long_func 20/20 timing 12.5/25 req 0/25 (missing) wiki_stats 30/30"
    )


# --- CI output -------------------------------------------------------------------------------


def test_annotations_escape_per_github_rules() -> None:
    failing = graded("timing", failed=1, message="100% wrong\r\nsecond line", hint="a, b: c")
    result = submission("a,b:c", failing, absent("req"))
    assert annotations([result]) == [  # the most points first: req's 25, then 12.5
        "::warning title=a%2Cb%3Ac%3A req missing::req.py is missing — create it from the stub",
        "::error file=submissions/a%2Cb%3Ac/timing.py,title=a%2Cb%3Ac%3A timing%3A%3Acase_0 "
        "failed::100%25 wrong%0Asecond line%0AHint: a, b: c",  # CR LF is a line break
    ]


def test_junit_parses_and_counts_failures_despite_odd_characters(tmp_path: Path) -> None:
    odd = 'bad \x00 \x1b[31mred\x1b[0m <&> "q" \udcff'
    results = [
        submission("Иванов", graded("timing", failed=2, message=odd), absent("req")),
        submission("b", graded("long_func", failed=1, message="x")),
    ]
    path = tmp_path / "junit" / "report.xml"
    write_junit(results, path)
    root = ET.parse(path).getroot()
    assert root.get("tests") == str((2 + 2 + 1 + 2) + (2 + 2 + 2 + 2))  # req: 1 status case
    assert root.get("failures") == str(2 + 1 + 1)
    assert len(root.findall("testsuite")) == 8
    suite = root.find("testsuite[@name='Иванов.timing']")
    assert suite is not None and suite.get("failures") == "2" and suite.get("tests") == "2"
    failure = suite.find("testcase/failure")
    assert failure is not None and "<&>" in failure.text and "red" in failure.text
    assert root.find("testsuite[@name='Иванов.req']/testcase/failure").get("type") == "missing"


def test_job_summary_table_and_details() -> None:
    failing = graded("req", failed=1, message="status | was 500", hint="call raise_for_status")
    summary = job_summary_markdown([submission("x|y", failing), submission("z")])
    lines = summary.splitlines()
    header = next(line for line in lines if line.startswith("| Student"))
    assert [c.strip(" `") for c in header.strip("|").split("|")] == [
        "Student", "Total", *COURSE_ORDER
    ]
    row = next(line for line in lines if line.startswith("| x"))
    assert len(re.findall(r"(?<!\\)\|", row)) == len(COURSE_ORDER) + 3  # escaped pipe stays text
    assert "12.5/25" in row and "**87.5/100**" in row
    assert "status \\| was 500" in summary and "Hint: call raise\\_for\\_status" in summary
    assert "<summary>z" not in summary  # full marks: nothing to list


def test_ci_output_shows_a_failed_test_under_its_title(tmp_path: Path) -> None:
    title = "Status 404 raises ClientResponseError."
    failing = graded("req", failed=1, message="nothing was raised", title=title)
    result = submission("s", failing)
    summary = job_summary_markdown([result])
    shown = title.replace(".", "\\.")  # every ASCII punctuation mark is escaped
    assert f"- **req\\:\\:case\\_0** failed — {shown}<br>nothing was raised" in summary
    assert annotations([result]) == [
        "::error file=submissions/s/req.py,title=s%3A req%3A%3Acase_0 failed"
        "::Status 404 raises ClientResponseError.%0Anothing was raised",
    ]
    path = tmp_path / "junit.xml"
    write_junit([result], path)
    failure = ET.parse(path).getroot().find("testsuite[@name='s.req']/testcase/failure")
    assert failure.get("message") == "nothing was raised"  # the observation, not the title
    assert failure.text.startswith(title)


# --- merging shards --------------------------------------------------------------------------


def write_shard(folder: Path, *results: SubmissionResult, **options: str) -> Path:
    options.setdefault("suite_hash", HASH)
    ResultsFile(folder, **options).extend(results)
    return folder


def test_merge_combines_disjoint_shards_in_student_order(tmp_path: Path) -> None:
    one = write_shard(tmp_path / "1", submission("c"), submission("a"), isolation="bwrap")
    two = write_shard(tmp_path / "2", submission("b", absent("req")), isolation="unshare")
    meta, merged = merge_with_meta([one, two])
    assert [r.student for r in merged] == ["a", "b", "c"]
    assert merged[1].assignments["req"].status == "missing"
    assert meta == {"grader_version": "0.1.0", "suite_hash": HASH, "isolation": "bwrap, unshare"}
    assert [r.student for r in merge([one, two])] == ["a", "b", "c"]


def test_merge_refuses_different_suite_hashes(tmp_path: Path) -> None:
    one = write_shard(tmp_path / "1", submission("a"))
    two = write_shard(tmp_path / "2", submission("b"), suite_hash=OTHER_HASH)
    with pytest.raises(ValueError, match="suite_hash"):
        merge([one, two])


def test_merge_refuses_different_grader_versions(tmp_path: Path) -> None:
    one = write_shard(tmp_path / "1", submission("a"))
    two = write_shard(tmp_path / "2", submission("b"), grader_version="0.2.0")
    with pytest.raises(ValueError, match="grader versions"):
        merge([one, two])


def test_merge_refuses_a_student_graded_differently(tmp_path: Path) -> None:
    one = write_shard(tmp_path / "1", submission("a"))
    two = write_shard(tmp_path / "2", submission("a", absent("req")))
    with pytest.raises(ValueError, match="'a' appears in"):
        merge([one, two])


def test_merge_accepts_a_student_graded_alike_in_two_shards(tmp_path: Path) -> None:
    slower = submission("a")
    slower.assignments["req"].duration = 7.5
    one = write_shard(tmp_path / "1", submission("a"))
    two = write_shard(tmp_path / "2", slower, submission("b"))
    assert [r.student for r in merge([one, two])] == ["a", "b"]


def test_merge_keeps_the_newest_result_of_a_student(tmp_path: Path) -> None:
    old, new = submission("a"), submission("a", absent("req"))
    old.graded_at = "2026-12-01T09:00:00.000001+00:00"
    new.graded_at = "2026-12-01T09:00:00.000002+00:00"
    one = write_shard(tmp_path / "1", old, submission("b"))
    two = write_shard(tmp_path / "2", new)
    for order in ([one, two], [two, one]):
        merged = {r.student: r for r in merge(order)}
        assert merged["a"].assignments["req"].status == "missing"  # the later one
        assert sorted(merged) == ["a", "b"]


def test_merge_compares_graded_at_as_moments_not_as_text(tmp_path: Path) -> None:
    earlier, later = submission("a"), submission("a", absent("req"))
    earlier.graded_at = "2026-12-01T10:30:00+02:00"  # 08:30 UTC
    later.graded_at = "2026-12-01T09:00:00+00:00"
    one = write_shard(tmp_path / "1", earlier)
    two = write_shard(tmp_path / "2", later)
    [merged] = merge([one, two])
    assert merged.assignments["req"].status == "missing"


def test_merge_refuses_different_results_it_cannot_order(tmp_path: Path) -> None:
    timed, untimed = submission("a"), submission("a", absent("req"))
    timed.graded_at = "2026-12-01T09:00:00+00:00"
    one = write_shard(tmp_path / "1", timed)
    two = write_shard(tmp_path / "2", untimed)  # a file from before graded_at existed
    with pytest.raises(ValueError, match="no way to tell which is newer"):
        merge([one, two])
    untimed.graded_at = timed.graded_at  # the same moment
    three = write_shard(tmp_path / "3", untimed)
    with pytest.raises(ValueError, match="no way to tell which is newer"):
        merge([one, three])


def test_merge_refuses_a_folder_without_results(tmp_path: Path) -> None:
    one = write_shard(tmp_path / "1", submission("a"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no results.json"):
        merge([one, tmp_path / "empty"])
    with pytest.raises(ValueError, match="nothing to merge"):
        merge([])


def test_isolation_is_recorded_per_submission_and_shown_to_the_student(tmp_path: Path) -> None:
    result = submission("s")
    result.isolation = "bwrap"
    assert "bwrap isolation" in render_check(result, color=False)
    out = ResultsFile(tmp_path / "out", suite_hash=HASH)
    out.add(result)
    [saved] = read_json(out.json_path)["submissions"]
    assert saved["isolation"] == "bwrap"
    assert SubmissionResult.from_dict(saved).isolation == "bwrap"
    result.isolation = "nonsense"
    with pytest.raises(InvalidResults):
        ResultsFile(tmp_path / "bad", suite_hash=HASH).add(result)


def test_the_syscall_filter_is_recorded_per_submission(tmp_path: Path) -> None:
    result = submission("s")
    result.isolation, result.syscall_filter = "bwrap", "seccomp"
    out = ResultsFile(tmp_path / "out", suite_hash=HASH)
    out.add(result)
    [saved] = read_json(out.json_path)["submissions"]
    assert saved["syscall_filter"] == "seccomp"
    assert SubmissionResult.from_dict(saved).syscall_filter == "seccomp"
    result.syscall_filter = "maybe"
    with pytest.raises(InvalidResults):
        ResultsFile(tmp_path / "bad", suite_hash=HASH).add(result)

# --- a report that fails never stops the batch ------------------------------------------------


def test_a_result_that_cannot_be_recorded_is_replaced_by_a_note(tmp_path: Path) -> None:
    out = ResultsFile(tmp_path, suite_hash=HASH)
    broken = submission("bad", graded("req"))
    broken.assignments["req"].score = 99  # above max_score: refused by validate
    problem = out.record(broken)
    assert "could not record the result of 'bad'" in problem and "above max_score" in problem
    assert out.record(submission("good")) == ""
    out.flush()
    data = read_json(out.json_path)
    validate(data)
    bad = next(s for s in data["submissions"] if s["student"] == "bad")
    assert bad["score"] == 0 and bad["message"].startswith(results_file.RECORD_FAILED)
    assert {a["status"] for a in bad["assignments"].values()} == {"error"}
    assert [row[0] for row in read_csv(out.csv_path)[1:]] == ["bad", "good"]


def test_the_same_student_twice_keeps_the_first_and_says_so(tmp_path: Path) -> None:
    out = ResultsFile(tmp_path, suite_hash=HASH)
    assert out.record(submission("a")) == ""
    assert "already" in out.record(submission("a", absent("req")))
    out.flush()
    [only] = read_json(out.json_path)["submissions"]
    assert only["score"] == 100 and "already" in only["message"]


def test_a_failed_write_keeps_the_result_for_the_next_write(tmp_path: Path) -> None:
    out = ResultsFile(tmp_path / "out", suite_hash=HASH)
    for path in (tmp_path / "out").iterdir():
        path.unlink()
    (tmp_path / "out").rmdir()
    assert "could not write" in out.record(submission("a"))
    (tmp_path / "out").mkdir()
    assert out.record(submission("b")) == ""
    out.flush()
    assert [s["student"] for s in read_json(out.json_path)["submissions"]] == ["a", "b"]


def test_one_broken_student_does_not_break_the_ci_report() -> None:
    broken = submission("zzz")
    broken.assignments["req"].tests = None  # type: ignore[assignment]  # a report bug
    summary = job_summary_markdown([submission("a", absent("req")), broken])
    assert "the report for this student failed" in summary and "| a |" in summary
    commands = annotations([submission("a", absent("req")), broken])
    assert len(commands) == 2
    assert any("zzz" in c and "the report for this student failed" in c for c in commands)


def test_hostile_names_in_reports_are_shown_not_obeyed(tmp_path: Path) -> None:
    name = "=HYPERLINK(\"http://e.vil\")\n::add-mask::x\x1b]0;t\x07\u202e"
    result = submission(name, graded("req", failed=1, message="::notice::hi\r##[error]x"))
    text = render_check(result, color=False) + render_summary_line(result)
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert "\\x1b]0;t\\x07" in text and "\\u202e" in text
    out = ResultsFile(tmp_path, suite_hash=HASH)
    out.add(result)
    assert read_csv(out.csv_path)[1][0].startswith("'=HYPERLINK")
    assert read_json(out.json_path)["submissions"][0]["student"] == name  # JSON keeps it as is


def test_record_stores_each_student_at_once_and_rebuilds_the_files_now_and_then(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results_file, "_REBUILD_SPACING", 1e9)  # never during the batch
    out = ResultsFile(tmp_path, suite_hash=HASH)
    for student in ("a", "b", "c"):
        assert out.record(submission(student)) == ""
    assert len(list((tmp_path / "store").glob("*.json"))) == 3  # every student is safe
    assert read_json(out.json_path)["submissions"] == []  # not rebuilt yet
    again = ResultsFile(tmp_path, suite_hash=HASH)  # the next run after a kill rebuilds
    assert [r.student for r in again.results] == ["a", "b", "c"]
    assert [s["student"] for s in read_json(out.json_path)["submissions"]] == ["a", "b", "c"]
    out.record(submission("d"))
    out.flush()
    assert len(read_csv(out.csv_path)) == 5
