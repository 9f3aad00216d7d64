"""The timing suite's feedback reaches the student in the chosen language, English unchanged.

A flawed decorator graded in Russian gets every observation and hint of its
lost tests in Russian (only code, Python's own words and the student's output
stay as they are), and the English source texts still read as before.
"""

from __future__ import annotations

import importlib
import re
import shutil
import warnings
from pathlib import Path
from types import ModuleType

import pytest

from grader import catalog, i18n, runner
from grader.suites.feedback import Feedback
from grader.suites.harness import Decorated

ROOT = Path(__file__).resolve().parent.parent
# Spans that are code or quoted output, never words to translate: `...`, '...', "...",
# and tokens such as time.perf_counter(), func(*args, __name__.
CODE = re.compile(r"`[^`]*`|'[^']*'|\"[^\"]*\"|\S*[_.()=\[\]{}]\S*")
# Bare code words a Russian sentence may name ("после await", "вызов func").
CODE_WORDS = {"await", "async", "def", "func", "print", "gather", "raise", "try", "finally"}
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)



def english_words(text: str) -> set[str]:
    """The words of `text` left in English, code and quoted output aside."""
    return {w for w in re.findall(r"[A-Za-z]{2,}", CODE.sub(" ", text)) if w not in CODE_WORDS}


def timing_suite() -> ModuleType:
    """The hidden suite's module (its `points` mark is registered only by the suite's plugin)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
        return importlib.import_module("grader.suites.timing.test_timing")


class FakeStudent:
    """A student whose decorator returned `decorated` (decorate() is all that is asked)."""

    def __init__(self, decorated: Decorated) -> None:
        self.decorated = decorated

    def decorate(self, function: str, spec: dict[str, object]) -> Decorated:
        return self.decorated


def returned(kind: str, value: object = None) -> FakeStudent:
    return FakeStudent(Decorated("h", kind, "coroutine", False, False, False, None, None, None,
                                 False, value))


def test_a_decorator_declared_async_is_told_so_in_each_language(russian: None) -> None:
    test_timing = timing_suite()
    with pytest.raises(Feedback) as caught:
        test_timing.decorate(returned("coroutine"))
    assert caught.value.observed.startswith("async_timeit(f) вернула корутину, а не функцию")
    assert "обёртка" in caught.value.hint
    with pytest.raises(Feedback) as caught:
        test_timing.decorate(returned("other", 42))
    assert caught.value.observed == "async_timeit(f) вернула 42, а не функцию"
    assert caught.value.hint == "закончите async_timeit строкой `return wrapper`"
    i18n.use("en")
    with pytest.raises(Feedback) as caught:
        test_timing.decorate(returned("other", 42))
    assert caught.value.observed == "async_timeit(f) returned 42, not a function"
    assert caught.value.expected == "the decorated function (the wrapper)"


@pytest.mark.slow
def test_a_flawed_decorator_graded_in_russian_reads_russian(tmp_path: Path,
                                                           russian: None) -> None:
    """print_before_await loses 9 tests through the gate, check_time and the gather check."""
    timing = catalog.get("timing")
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copy2(ROOT / "tests/flawed/timing/print_before_await/timing.py", folder / timing.file)
    result = runner.run_suite(timing, folder, tmp_path / "scratch")
    lost = [t for t in result.tests if t.status == "failed"]
    assert len(lost) == 9 and result.score == 2  # graded as in English (expect.toml)
    messages = " ".join(t.message for t in lost)
    assert "значит, вызов не был засечён" in messages  # the gate
    assert "до того, как закончилась его работа" in messages  # check_time
    assert "из 3 вызовов декорированной функции" in messages  # the overlapping calls
    for test in lost:
        # The "; expected" joint belongs to grader/suites/feedback.py, not to this suite.
        observed, _joint, expected = re.split(r"; (expected|ожидалось:?) ", test.message,
                                               maxsplit=1)
        for text in (observed, expected, test.hint):
            assert CYRILLIC.search(text), (test.id, text)
            assert english_words(text) == set(), (test.id, text)
        assert test.title == i18n._(test.title)  # and the titles are the Russian ones
        assert CYRILLIC.search(test.title), test.id
