"""wiki_stats' feedback reaches the student in Russian: every observed, expected and hint text.

The suite's texts are marked for translation; these tests read them as a
student graded with `--lang ru` does, so a text left unmarked (or marked but
never translated) shows up as an English sentence here.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from grader import grading, i18n
from grader.submission import Submission
from tests.conftest import reference_submission

FLAWED = Path(__file__).resolve().parent / "flawed" / "wiki_stats"
# Between every code span and repr, an English sentence of the suite would carry one of these.
ENGLISH = re.compile(r"\b(the|was|were|with|which|every|each|and|into|use|that|is|are|has|had|"
                     r"it|answered|returned|carried|refused|your|must|than|after|before|only|"
                     r"answers|requests|missing)\b", re.IGNORECASE)
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
# Feedback's own connector between observed and expected (grader/suites/feedback.py), not the
# suite's text: it is translated where it is written.
CONNECTOR = "; expected "



def english_left(text: str) -> list[str]:
    """English words of `text` outside quotes, code spans and reprs."""
    return ENGLISH.findall(QUOTED.sub(" ", text.replace(CONNECTOR, "; ")))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # the suite's points
def test_a_count_picks_the_russian_form(russian: None) -> None:
    suite = importlib.import_module("grader.suites.wiki_stats.test_wiki_stats")
    want = [("Россия", 2_345), ("Москва", 2_300)]
    assert suite.describe_pairs(want * 6, want).startswith("get_top вернула 12 элементов: ")
    assert suite.describe_pairs(want[:1] * 3, want).startswith("get_top вернула 3 элемента: ")
    assert suite.describe_pairs([want[0]], want).startswith("get_top вернула 1 элемент: ")
    assert suite.describe_pairs([(2_345, "Россия"), want[1]], want) == (
        "элемент 0 — (2345, 'Россия'): просмотры стоят раньше статьи")
    i18n.use("en")
    assert suite.describe_pairs(want * 6, want).startswith("get_top returned 12 items: ")
    assert suite.describe_pairs([(2_345, "Россия"), want[1]], want) == (
        "item 0 is (2345, 'Россия'): views come before the article")


def test_english_left_finds_an_english_sentence() -> None:
    """The detector itself: it must see the English this file guards against."""
    assert english_left("get_top returned 11 items: [('the', 1)]") == ["returned"]
    assert english_left("get_top вернула 11 элементов: [('the', 1)]; expected `with`") == []


@pytest.mark.slow
def test_a_flawed_wiki_stats_reads_its_feedback_in_russian(russian: None, tmp_path: Path) -> None:
    """A get_top without User-Agent (refused by Wikimedia) and a get_stats that lets a failed
    day's error escape: between them the failures of most of the suite's helpers."""
    cases = ["no_user_agent", "error_day_crashes"]
    submissions = [Submission(case, reference_submission(tmp_path / case, FLAWED / case))
                   for case in cases]
    results = {r.student: r for r in grading.grade(submissions, jobs=2, only={"wiki_stats"})}
    lost = [t for case in cases for t in results[case].assignments["wiki_stats"].tests
            if t.status != "passed"]
    assert len(lost) >= 12, [(t.id, t.status) for t in lost]  # 11 refused, 2 failed days
    assert "в запросе был только стандартный User-Agent библиотеки" in " ".join(
        t.message for t in lost)
    assert "когда API ответил 404 Not Found на запрос за" in " ".join(t.message for t in lost)
    for test in lost:
        for text in (test.message, test.hint):
            assert CYRILLIC.search(text), (test.id, text)
            assert english_left(text) == [], (test.id, text)
