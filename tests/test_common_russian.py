"""The texts no single suite owns speak Russian: the four stubs graded in Russian read no English.

The stubs are graded once (all four, the way `grader check` would) and every message and
hint is searched for an English clause: a piece of any marked message of the grader (its
.pot) between placeholders, or two English words in a row once code spans, Python reprs,
file names and URLs are taken out. The grader's own failure keeps the English prefix code
finds it by (grading.internal_errors), whatever the language.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from grader import catalog, grading, i18n, runner, sandbox
from grader.results import AssignmentResult, SubmissionResult
from grader.suites import harness
from grader.worker import main
from grader.worker.protocol import ImportReply

from .test_trusted_limits import assembled_at_memory_limit

POT = Path(i18n.LOCALE_DIR) / "grader.pot"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
# What may stay as it is in a Russian text: code spans, Python reprs, URLs, file names,
# dotted or called names (time.sleep, req(...)), identifiers with digits or underscores.
CODE = re.compile(r"`[^`]*`|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|https?://\S+"
                  r"|\b[\w.]+\.py\b|\b\w+(?:\.\w+)+\b|\b\w*[\d_]\w*\b")
TWO_ENGLISH_WORDS = re.compile(r"\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\b")


def english_clauses() -> set[str]:
    """Every run of two or more words between the placeholders of the grader's messages."""
    with POT.open("rb") as pot:
        template = read_po(pot)
    clauses = set()
    for message in template:
        for form in message.id if isinstance(message.id, tuple) else (message.id,):
            for piece in PLACEHOLDER.split(form):
                piece = piece.strip(" :;,.()[]-")
                if len(piece.split()) >= 2 and TWO_ENGLISH_WORDS.search(CODE.sub(" ", piece)):
                    clauses.add(piece)
    return clauses


def english_left(text: str, clauses: set[str]) -> list[str]:
    """The English in `text`: clauses of marked messages and pairs of English words."""
    found = [clause for clause in clauses if clause in text]
    return found + TWO_ENGLISH_WORDS.findall(CODE.sub(" ", text))



@pytest.fixture(scope="module")
def stubs_in_russian(tmp_path_factory: pytest.TempPathFactory) -> list[AssignmentResult]:
    """The four reference stubs in one folder, graded once in Russian."""
    folder = tmp_path_factory.mktemp("stubs")
    for assignment in catalog.assignments():
        shutil.copy2(assignment.stub, folder / assignment.file)
    scratch = tmp_path_factory.mktemp("scratch")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(i18n.ENV, "ru")
        i18n.use("ru")
        try:
            return [runner.run_suite(a, folder, scratch) for a in catalog.assignments()]
        finally:
            i18n.use("en")


def test_the_check_finds_english() -> None:
    """The search below means something: it sees the shared texts, and passes code through."""
    clauses = english_clauses()
    assert "replace the stub's `raise NotImplementedError` with your code" in clauses
    assert "the process running your code ended unexpectedly" in clauses
    assert english_left("still raises NotImplementedError (req.py, line 27)", clauses)
    assert not english_left("всё ещё выбрасывает NotImplementedError (req.py, строка 27): "
                            "`async with aiohttp.ClientSession() as session:`, "
                            "req('https://example.ru/a b', params={'q': 'a b'})", clauses)


@pytest.mark.slow
def test_the_stubs_graded_in_russian_read_no_english(
        stubs_in_russian: list[AssignmentResult]) -> None:
    clauses = english_clauses()
    read = []
    for result in stubs_in_russian:
        assert result.score == 0 and result.status == "graded", result
        read.append(result.message)
        read += [text for test in result.tests for text in (test.message, test.hint)]
    assert all(test.message for result in stubs_in_russian for test in result.tests)
    left = {text: english_left(text, clauses) for text in read}
    assert not {text: english for text, english in left.items() if english}
    joined = "\n".join(read)
    assert "всё ещё выбрасывает NotImplementedError (timing.py, строка " in joined
    assert "замените `raise NotImplementedError` из заготовки своим кодом" in joined


@pytest.mark.slow
def test_the_place_is_worded_in_russian_and_kept_as_data(
        stubs_in_russian: list[AssignmentResult]) -> None:
    """The worker's "req.py, line 27" reads "строка" and still gives the results file and line."""
    tests = [t for result in stubs_in_russian for t in result.tests]
    placed = [t for t in tests if t.message.startswith("всё ещё выбрасывает NotImplementedError")]
    assert {t.id.split("::")[0] for t in placed} == {"long_func", "timing", "wiki_stats"}
    for test in placed:
        assert f"({test.file}, строка {test.line})" in test.message, test
        assert test.file.endswith(".py") and test.line > 0


def test_a_missing_file_is_said_in_russian(tmp_path: Path, russian: None) -> None:
    result = runner.run_suite(catalog.get("req"), tmp_path, tmp_path / "scratch")
    assert result.status == "missing"
    assert result.message == ("req.py отсутствует: скопируйте заготовку, допишите её и сдайте")
    assert not english_left(result.message, english_clauses())


def test_the_graders_own_failure_is_found_in_russian_too(russian: None) -> None:
    """A test process at its memory limit: Russian words, but the prefix code matches on."""
    result = assembled_at_memory_limit()
    assert result.message.startswith(f"{grading.INTERNAL_ERROR} (внутренняя ошибка грейдера, "
                                     "сообщите преподавателю): ")
    first = runner.collect(catalog.get("req"))[0].id  # the test running when the limit hit
    assert f", пока выполнялся {first.split('::')[-1]}" in result.message
    graded = SubmissionResult("ivanov", {result.slug: result})
    assert grading.internal_errors([graded]) == ["ivanov/req"]


def test_a_timeout_of_the_hidden_tests_is_said_in_russian(russian: None) -> None:
    assignment = catalog.get("timing")
    specs = runner.collect(assignment)
    outcome = sandbox.Outcome(None, True, "", "", 60.0, "timeout")
    events = [{"event": "import_start"}, {"event": "import_done", "error": ""},
              {"event": "start", "test": specs[1].id}]
    result = runner.assemble(assignment, specs, events, outcome)
    name = specs[1].id.split("::")[-1]
    assert result.tests[1].message == (
        f"скрытые тесты упёрлись в свой лимит {assignment.suite_timeout:.0f} с, пока выполнялся "
        f"{name}: запуск остановлен")
    assert result.tests[2].message.startswith("не запускался: скрытые тесты упёрлись")


@pytest.mark.parametrize(("source", "english", "russian"), [
    ("def (:\n", "syntax error in req.py, line 1: invalid syntax",
     "синтаксическая ошибка в req.py, строка 1: invalid syntax"),
    ("x = 1/0\n", "importing it raised ZeroDivisionError: division by zero (req.py, line 1)",
     "при импорте выброшено ZeroDivisionError: division by zero (req.py, строка 1)"),
    ("import sys\nsys.exit(3)\n", "the module called sys.exit(3) while being imported",
     "модуль вызвал sys.exit(3) во время импорта"),
    ("import requests\n", "it imports requests, which is not available while grading: use "
     "aiohttp, which does not block the event loop", "он импортирует requests, а эта "
     "библиотека при проверке недоступна: используйте aiohttp, который не блокирует цикл событий"),
    ("x = 1\ny = 2\nz = '\xe9'\n",
     "req.py is not saved as UTF-8 (line 3): save it as UTF-8 in your editor",
     "req.py сохранён не в UTF-8 (строка 3): сохраните его в UTF-8 в своём редакторе"),
])
def test_an_import_failure_is_worded_on_the_trusted_side(
        source: str, english: str, russian: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker says why the import failed in English; the test process words it again."""
    (tmp_path / "req.py").write_bytes(source.encode("latin-1"))  # é: not UTF-8
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "req", raising=False)
    monkeypatch.setitem(sys.modules, "requests", None)  # as in the sandbox: not installed
    with pytest.raises(BaseException) as raised:  # noqa: PT011 - any failure of the import
        importlib.import_module("req")
    error = main.describe_import_error(raised.value, str(tmp_path), "req")
    reply = ImportReply.from_wire(json.loads(json.dumps(ImportReply(error).to_wire())))
    assert reply.error == english == harness.import_words(reply.error)
    i18n.use("ru")
    try:
        assert harness.import_words(reply.error) == russian
        assert harness.import_words("what the worker said") == "what the worker said"
    finally:
        i18n.use("en")
