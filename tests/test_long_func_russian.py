"""long_func's hidden suite speaks Russian to a Russian student, and its English is unchanged.

tests/test_i18n.py proves every marked text has a Russian text; these prove the
suite actually marks what it shows: a submission that loses five of its tests,
graded in Russian, reads no English sentence, and the texts built from counts
take the Russian form each number needs.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader import grading, i18n
from grader.submission import Submission
from grader.worker.agent import BLOCKING_NETWORK

with warnings.catch_warnings():  # its `points` mark is registered by the suites' own plugin
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    from grader.suites.long_func import test_long_func as suite

# Words of the suite's English sentences that no code span it shows contains.
ENGLISH = re.compile(r"\b(the|was|were|which|while|returned|sent|answered|flight|but|its|"
                     r"their|only|never|should|still|printed|raised|once|open|closed)\b")
SEPARATOR = "; expected "  # written by grader/suites/feedback.py for every suite, not this one

# Loses all_requests_in_flight and no_blocking (one call after another, a blocking look-up
# in the loop), long_func_works_alone (a required session), prints_i (not on a line of its own)
# and sessions_closed (never closed).
FLAWED = '''\
import socket

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session):
    socket.getaddrinfo("localhost", None)  # a blocking look-up inside the loop
    response = await session.get(URL)
    return response.status


async def main():
    session = aiohttp.ClientSession()
    codes = []
    for i in range(15):
        print(i, "done")
        codes.append(await long_func(i, session))
    return codes
'''
LOST = {"all_requests_in_flight", "no_blocking", "long_func_works_alone", "prints_i",
        "sessions_closed"}



def spans(*intervals: tuple[float, float]) -> SimpleNamespace:
    """A site whose served requests were in flight over `intervals` (arrival, answer)."""
    served = [SimpleNamespace(arrived_at=a, answered_at=b, served=True) for a, b in intervals]
    return SimpleNamespace(requests=served, served=served,
                           max_in_flight=max(sum(1 for a, b in intervals if a <= t < b)
                                             for t, _end in intervals))


def crowd(overlapping: int) -> SimpleNamespace:
    """`overlapping` requests in flight together, then one more sent alone."""
    return spans(*[(0.0, 10.0)] * overlapping, (20.0, 21.0))


def test_a_crowd_with_a_straggler_is_told_with_the_counts_in_each_language(
        russian: None) -> None:
    run = SimpleNamespace(reported=SimpleNamespace(unawaited=[]))
    assert suite.in_flight_words(run, crowd(15), "") == (
        "в полёте одновременно было 15 запросов, но main() отправила на URL 16 запросов, и не все "
        "они были в полёте одновременно (вместе с одним из них в полёте было всего 1, включая его "
        "самого)")
    assert suite.in_flight_words(run, crowd(21), "").startswith(
        "в полёте одновременно был 21 запрос, но main() отправила на URL 22 запроса,")
    i18n.use("en")  # the English is the text the suite wrote before it was marked
    assert suite.in_flight_words(run, crowd(15), "") == (
        "15 requests were in flight at once, but main() sent 16 requests to URL and not all of "
        "them were in flight together (one of them had only 1 in flight with it, itself "
        "included)")


def test_the_workers_blocking_calls_are_named_in_russian(russian: None) -> None:
    calls = ["time.sleep(0.01)", BLOCKING_NETWORK]
    assert suite.joined(calls) == (
        "time.sleep(0.01) и блокирующий сетевой вызов (requests/urllib/socket)")
    i18n.use("en")
    assert suite.joined(calls) == f"time.sleep(0.01) and {BLOCKING_NETWORK}"


@pytest.mark.slow
def test_a_flawed_long_func_graded_in_russian_reads_no_english(
        tmp_path: Path, russian: None) -> None:
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "long_func.py").write_text(FLAWED, encoding="utf-8")
    [result] = grading.grade([Submission("student", folder)], only=["long_func"])
    tests = result.assignments["long_func"].tests
    lost = [t for t in tests if t.status != "passed"]
    assert {t.id.split("::")[1] for t in lost} == LOST, [(t.id, t.message) for t in lost]
    for test in lost:
        for text in (test.message.replace(SEPARATOR, "; "), test.hint):
            assert re.search("[а-яё]", text), (test.id, text)
            assert not ENGLISH.search(text), (test.id, text)
    by_name = {t.id.split("::")[1]: t for t in lost}
    assert "в полёте" in by_name["all_requests_in_flight"].message
    assert ("блокирующий сетевой вызов (requests/urllib/socket) выполнялся в цикле событий"
            in by_name["no_blocking"].message)
    assert "выбросила TypeError" in by_name["long_func_works_alone"].message
