"""OUT/report.html, the class report: built from records (no grading), opened in real Chromium."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import catalog
from grader.cli import main
from grader.reports import charts, html_report
from grader.reports.results_file import InvalidResults, ResultsFile, validate
from grader.results import AssignmentResult, SubmissionResult
from grader.results import TestResult as Verdict
from grader.runner import timeline_of
from grader.suites.web import TIMELINE_LIMIT, FakeWeb, Request

HASH = "ab" * 32
SCRIPT_NAME = "<script>alert(1)</script>"
IMG_NAME = '"><img src=x onerror=alert(2)>'
SEQUENTIAL = [[0.01 + 0.1 * i, 0.1 * (i + 1)] for i in range(15)]  # each after the last answer
TOGETHER = [[0.01 + 0.001 * i, 0.2 + 0.01 * i] for i in range(12)]  # all out before any answer
STABLE_SCREENSHOT = Path(tempfile.gettempdir()) / "grader-report-screenshot" / "report.png"


# --- a small class, as records -----------------------------------------------------------------


def _assignment(slug: str, failed: dict[str, str] | None = None,
                timeline: list[list[float | None]] | None = None) -> AssignmentResult:
    """Three tests of `slug`; those named in `failed` fail with that message."""
    failed = failed or {}
    points = catalog.get(slug).points
    names = ["lesson", "result", "style"]
    tests = []
    for i, name in enumerate(names):
        each = points / len(names)
        ok = name not in failed
        tests.append(Verdict(f"{slug}::{name}", "passed" if ok else "failed", each if ok else 0,
                             each, failed.get(name, ""), "" if ok else "try again",
                             f"{slug} clause {name}",
                             timeline if i == 0 and timeline is not None else None))
    score = round(sum(t.points for t in tests), 2)
    return AssignmentResult(slug, score, points, "graded", tests=tests)


def _submission(student: str, **assignments: AssignmentResult) -> SubmissionResult:
    full = {a.slug: _assignment(a.slug) for a in catalog.assignments()}
    full.update(assignments)
    return SubmissionResult(student, full)


def small_class() -> list[SubmissionResult]:
    """Five submissions: names sort differently from totals, two of them hostile."""
    missing = AssignmentResult("req", 0, catalog.get("req").points, "missing",
                               "req.py is missing")
    return [
        _submission("anna", long_func=_assignment("long_func", timeline=TOGETHER[:10]),
                    wiki_stats=_assignment("wiki_stats", timeline=TOGETHER)),
        _submission("boris", long_func=_assignment(
            "long_func", {"lesson": "only 1 of 15 requests to URL were in flight at once "
                                    "(see https://example.org/help)"}, SEQUENTIAL),
                    wiki_stats=_assignment("wiki_stats", {"lesson": "fetched one by one",
                                                          "style": "no print"})),
        _submission("zoya", req=missing, timing=_assignment("timing", {"result": "wrong"})),
        _submission(SCRIPT_NAME, long_func=_assignment(
            "long_func", {"lesson": "only 1 of 15 requests to URL were in flight at once "
                                    "(see https://example.org/help)", "result": IMG_NAME})),
        _submission(IMG_NAME, wiki_stats=_assignment("wiki_stats", {"lesson": "one by one"})),
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report ResultsFile writes for the small class (the path every command takes)."""
    out = tmp_path_factory.mktemp("out")
    results_file = ResultsFile(out, suite_hash=HASH, isolation="bwrap")
    results_file.extend(small_class())
    assert results_file.write_report() == ""
    return results_file.report_path


# --- reading HTML --------------------------------------------------------------------------------


class Page(HTMLParser):
    """What a test needs of an HTML document: elements, attributes, texts of the rows."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.rows: list[list[str]] = []  # the class table's rows, cell texts, in DOM order
        self.row_hidden: list[bool] = []
        self.raw_texts: list[str] = []  # what <script> and <style> hold
        self._in_row = False
        self._cell: list[str] | None = None
        self._raw = False
        self.root: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if tag == "html":
            self.root = attributes
        if tag == "tr" and "submission" in attributes.get("class", "").split():
            self._in_row = True
            self.rows.append([])
            self.row_hidden.append("hidden" in attributes)
        elif tag == "td" and self._in_row:
            self._cell = []
        self._raw = tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            self._in_row = False
        self._raw = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._raw:
            self.raw_texts.append(data)

    def count(self, tag: str, css_class: str | None = None) -> int:
        return sum(1 for t, a in self.tags if t == tag
                   and (css_class is None or css_class in a.get("class", "").split()))


# --- in Chromium ---------------------------------------------------------------------------------


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: run scripts/setup.sh (apt-get install chromium)")
    return found


def browse(page: Path, tmp_path: Path, *extra: str, query: str = "") -> str:
    """Chromium, headless and offline, opening `page`; what it printed (the DOM for --dump-dom)."""
    profile = tempfile.mkdtemp(dir=tmp_path, prefix="profile-")
    argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={profile}",
            "--run-all-compositor-stages-before-draw", "--virtual-time-budget=2000",
            *extra, page.as_uri() + query]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dom(page: Path, tmp_path: Path, query: str = "") -> Page:
    return Page(browse(page, tmp_path, "--dump-dom", query=query))


def test_chromium_shows_one_row_per_submission_with_pictures(report: Path,
                                                            tmp_path: Path) -> None:
    page = dom(report, tmp_path)
    assert len(page.rows) == len(small_class())
    assert page.count("svg", "histogram") == len(catalog.assignments()) + 1  # and the totals
    # anna's two, boris's long_func (his wiki_stats kept none): one <svg> per kept timeline
    assert page.count("svg", "timeline") == 3
    assert page.count("rect", "request") == 10 + 12 + 15
    assert page.count("details", "student") == len(small_class())
    assert page.root.get("data-sorted-by") is None  # nothing asked: the server's order stays


def test_hostile_names_are_text_and_inject_nothing(report: Path, tmp_path: Path) -> None:
    page = dom(report, tmp_path)
    students = [row[0] for row in page.rows]
    assert SCRIPT_NAME in students and IMG_NAME in students  # shown as the text it is
    assert page.count("script") == 1  # ours alone
    assert page.count("img") == 0
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)


def test_sorting_by_a_header_changes_the_row_order(report: Path, tmp_path: Path) -> None:
    """The page's script sorts the class table (asked through ?sort=, as a header click does)."""
    by_name = [row[0] for row in dom(report, tmp_path).rows]
    page = dom(report, tmp_path, "?sort=-total")
    assert page.root.get("data-sorted-by") == "-total"  # the script ran (the CSP let it)
    totals = [float(row[1].split("/")[0]) for row in page.rows]
    assert totals == sorted(totals, reverse=True)
    assert [row[0] for row in page.rows] != by_name
    ascending = dom(report, tmp_path, "?sort=long_func")
    scores = [float(row[2].split()[0]) for row in ascending.rows]
    assert scores == sorted(scores) and scores[0] < scores[-1]


def test_filter_box_hides_the_other_students(report: Path, tmp_path: Path) -> None:
    page = dom(report, tmp_path, "?filter=BOR")
    shown = [row[0] for row, hidden in zip(page.rows, page.row_hidden, strict=True)
             if not hidden]
    assert shown == ["boris"]


def test_screenshot_is_a_png(report: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    shot = tmp_path / "report.png"
    browse(report, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    STABLE_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, STABLE_SCREENSHOT)
    with capsys.disabled():
        print(f"\nclass report screenshot: {STABLE_SCREENSHOT}")


# --- the file itself ---------------------------------------------------------------------------


def test_report_references_no_url_and_lets_only_its_script_run(report: Path) -> None:
    """Nothing to fetch: no attribute, style or script names a URL; the CSP forbids loading."""
    page = Page(report.read_text(encoding="utf-8"))
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            if name != "content":  # the CSP's own words
                assert "http:" not in value and "https:" not in value and "//" not in value, \
                    (tag, name, value)
    assert not any(word in text for text in page.raw_texts
                   for word in ("http:", "https:", "url(", "@import", "//"))
    [policy] = [a["content"] for t, a in page.tags
                if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert html_report.script_hash(html_report._script()) in policy


def test_most_failed_tests_come_first_with_their_commonest_message() -> None:
    failures = html_report.most_failed(small_class())
    top = failures[0]
    assert (top.test_id, top.failed, top.graded) == ("long_func::lesson", 2, 5)
    assert top.commonest.startswith("only 1 of 15") and top.commonest_count == 2
    assert failures[1].test_id == "wiki_stats::lesson" and failures[1].failed == 2
    # zoya's missing req is not a req test failed by the class
    assert not any(f.test_id.startswith("req::") for f in failures)


def test_histogram_bins_count_every_score() -> None:
    table = charts.bins([0, 4.5, 5, 19.9, 20, 20], 20)
    assert len(table) == 10 and sum(b.count for b in table) == 6
    assert (table[0].count, table[2].count, table[-1].count) == (1, 2, 3)


def test_in_flight_tells_sequential_from_concurrent() -> None:
    assert charts.peak_in_flight(SEQUENTIAL) == 1
    assert charts.peak_in_flight(TOGETHER) == len(TOGETHER)
    assert charts.peak_in_flight([[0.0, None], [0.5, 1.0]]) == 2  # never answered: in flight
    assert charts.in_flight([[0.0, 1.0], [1.0, 2.0]])[-1] == (2.0, 0)
    # sent as another is answered: both in flight at that moment, as the fake web counts
    assert charts.peak_in_flight([[0.0, 1.0], [1.0, 2.0]]) == 2


def test_report_failure_is_said_not_raised(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    results_file = ResultsFile(tmp_path, suite_hash=HASH)
    results_file.extend(small_class()[:1])

    def broken(*_args: object) -> str:
        raise RuntimeError("template broke")

    monkeypatch.setattr(html_report, "render", broken)
    problem = results_file.write_report()
    assert "report.html" in problem and "template broke" in problem
    assert json.loads(results_file.json_path.read_text(encoding="utf-8"))["submissions"]


def test_merge_writes_the_report(tmp_path: Path) -> None:
    shards = []
    for i, result in enumerate(small_class()[:2]):
        ResultsFile(tmp_path / str(i), suite_hash=HASH).extend([result])
        shards.append(str(tmp_path / str(i)))
    outcome = CliRunner().invoke(main, ["merge", *shards, "--out", str(tmp_path / "all")])
    assert outcome.exit_code == 0, outcome.output
    page = Page((tmp_path / "all" / "report.html").read_text(encoding="utf-8"))
    assert [row[0] for row in page.rows] == ["anna", "boris"]


# --- the timeline's way from the trusted web to results.json ---------------------------------


def test_fake_web_timeline_counts_from_the_call_and_is_capped() -> None:
    web = FakeWeb()
    web.started_at = 100.0
    for i in range(TIMELINE_LIMIT + 5):
        request = Request("GET", None, None, index=i)  # type: ignore[arg-type]
        request.arrived_at = 100.5 + i
        request.answered_at = None if i == 1 else 101.0 + i
        web.requests.append(request)
    kept = web.timeline()
    assert len(kept) == TIMELINE_LIMIT
    assert kept[0] == [0.5, 1.0] and kept[1] == [1.5, None]


def test_events_timeline_is_read_defensively() -> None:
    raw = [[0, 1], [0.5, None], [-1, 2], [2, 1], ["0", 1], [True, 1], [math.nan, 1],
           [0, math.inf], [1, 2, 3], "x", *([[3, 4]] * 200)]
    kept = timeline_of(raw)
    assert kept is not None
    assert kept[:3] == [[0.0, 1.0], [0.5, None], [3.0, 4.0]]
    assert len(kept) < 100
    assert timeline_of("not a list") is None and timeline_of(None) is None


def test_schema_takes_a_timeline_within_its_cap() -> None:
    def document(timeline: object) -> dict:
        result = small_class()[0].to_dict()
        result["assignments"]["long_func"]["tests"][0]["timeline"] = timeline
        return {"grader_version": "0.1.0", "suite_hash": HASH, "submissions": [result]}

    validate(document(SEQUENTIAL))
    validate(document([[0.0, None]]))
    for bad in ([[0.0, 1.0]] * 101, [[-1.0, 1.0]], [[0.0]], [["0", 1]]):
        with pytest.raises(InvalidResults):
            validate(document(bad))
    assert "timeline" not in small_class()[2].to_dict()["assignments"]["long_func"]["tests"][0]
