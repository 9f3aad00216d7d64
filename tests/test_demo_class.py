"""The demo class shipped in examples/submissions: exact scores, also under CPU load."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.reports import charts
from grader.reports.results_file import validate
from tests.conftest import ROOT, Installed, cpu_burners

GRADED, MISSING, ERROR = "graded", "missing", "error"

# student -> slug -> (score, status, the tests that must not pass when graded)
EXPECTED: dict[str, dict[str, tuple[float, str, set[str]]]] = {
    "ivanov_ivan": {"long_func": (20, GRADED, set()), "timing": (25, GRADED, set()),
                    "req": (25, GRADED, set()), "wiki_stats": (30, GRADED, set())},
    "kuznetsov_oleg": {
        "long_func": (20, GRADED, set()),
        # the lecture's sync decorator: prints ~0 before the work, so the lesson (timing the
        # awaited call) and every clause gated on it are lost; only the print format is right
        "timing": (2, GRADED, {"prints_time_of_awaited_call", "times_each_call_again",
                               "times_overlapping_calls_separately", "gathered_calls_overlap",
                               "passes_every_argument", "returns_result", "lets_exceptions_out",
                               "is_coroutine_function", "keeps_metadata"}),
        "req": (25, GRADED, set()),
        # error carried forward: graded with a correct timing.py in place of his
        "wiki_stats": (30, GRADED, set()),
    },
    "morozova_elena": {"long_func": (20, GRADED, set()), "timing": (25, GRADED, set()),
                       "req": (25, GRADED, set()), "wiki_stats": (30, GRADED, set())},
    "petrova_anna": {
        "long_func": (20, GRADED, set()),
        "timing": (25, GRADED, set()),
        "req": (18, GRADED, {"text_returned", "unknown_type_raises_value_error",
                             "unknown_type_sends_no_request", "response_type_is_case_sensitive"}),
        # sequential get_stats (misses the lesson) that lets a 404 day's error escape
        "wiki_stats": (12, GRADED, {"stats_days_in_flight_together", "stats_no_blocking",
                                    "stats_404_day_is_empty", "stats_500_day_is_empty"}),
    },
    "popov_denis": {"long_func": (20, GRADED, set()), "timing": (25, GRADED, set()),
                    "req": (0, MISSING, set()), "wiki_stats": (0, MISSING, set())},
    "smirnova_olga": {"long_func": (20, GRADED, set()), "timing": (25, GRADED, set()),
                      "req": (0, ERROR, set()), "wiki_stats": (30, GRADED, set())},
    "volkov_artem": {"long_func": (0, ERROR, set()), "timing": (25, GRADED, set()),
                     "req": (25, GRADED, set()), "wiki_stats": (0, MISSING, set())},
    "сидоров_пётр": {"long_func": (9, GRADED, {"all_requests_in_flight", "no_blocking"}),
                     "timing": (25, GRADED, set()), "req": (25, GRADED, set()),
                     "wiki_stats": (30, GRADED, set())},
}

MESSAGES = {
    ("popov_denis", "req"): "req.py is missing",
    ("smirnova_olga", "req"): "syntax error in req.py, line 7",
    ("volkov_artem", "long_func"): "importing long_func.py never finished",
}


def _grade_demo_class(out: Path) -> dict:
    result = CliRunner().invoke(main, ["grade", "all", "--out", str(out)],  # the default -j
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    validate(data)
    return data


def _verdicts(data: dict) -> dict[str, dict[str, tuple[float, str, set[str]]]]:
    verdicts = {}
    for submission in data["submissions"]:
        verdicts[submission["student"]] = {
            slug: (a["score"], a["status"],
                   {t["id"].split("::")[1] for t in a["tests"] if t["status"] != "passed"}
                   if a["status"] == GRADED else set())
            for slug, a in submission["assignments"].items()
        }
    return verdicts


@pytest.mark.slow
def test_demo_class_gets_its_exact_scores(installed: Installed, tmp_path: Path) -> None:
    """Graded by the grader installed from its wheel, run outside the clone (test_install.py)."""
    graded = installed.run("grade", "all", str(ROOT / "examples" / "submissions"),
                           "--out", "out", "-j", "4", cwd=tmp_path)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    validate(data)
    assert _verdicts(data) == EXPECTED
    by_student = {s["student"]: s for s in data["submissions"]}
    for (student, slug), words in MESSAGES.items():
        assert words in by_student[student]["assignments"][slug]["message"]
    rows = (tmp_path / "out" / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == ("student,total,max_total,long_func,timing,req,wiki_stats,"
                       "long_func_status,timing_status,req_status,wiki_stats_status")
    assert "сидоров_пётр,89,100,9,25,25,30,graded,graded,graded,graded" in rows
    assert "volkov_artem,50,100,0,25,25,0,error,graded,graded,missing" in rows
    _check_timelines(by_student)
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert report.count('<tr class="submission">') == len(EXPECTED)


# student, slug -> the most requests in flight at once in the overlap test's timeline
PEAKS = {("ivanov_ivan", "long_func"): 15, ("сидоров_пётр", "long_func"): 1,
         ("ivanov_ivan", "wiki_stats"): 3,  # his Semaphore(3)
         ("сидоров_пётр", "wiki_stats"): 12, ("petrova_anna", "wiki_stats"): 1}


def _check_timelines(by_student: dict) -> None:
    """The trusted web's timelines reach results.json: a sequential solution shows as 1."""
    for (student, slug), peak in PEAKS.items():
        [kept] = [t["timeline"] for t in by_student[student]["assignments"][slug]["tests"]
                  if "timeline" in t]
        assert charts.peak_in_flight(kept) == peak, (student, slug, kept)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("GRADER_SKIP_LOAD_TEST") == "1", reason="asked to skip")
def test_verdicts_do_not_change_under_cpu_load(tmp_path: Path) -> None:
    """Two busy processes per core while grading: the same verdicts, to the test."""
    with cpu_burners(per_core=2):
        data = _grade_demo_class(tmp_path / "loaded")
    assert _verdicts(data) == EXPECTED
