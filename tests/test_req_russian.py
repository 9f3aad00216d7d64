"""A req submission graded in Russian reads its feedback in Russian: no English clause is left.

The English clauses are the pieces of the req suite's own marked messages between their
placeholders (what Babel extracts from the suite), so a text left unmarked, a translation
missing, or a message built from an English fragment shows up as one of them.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from grader import catalog, runner

ROOT = Path(__file__).resolve().parent.parent
FLAWED = ROOT / "tests" / "flawed" / "req"
PLACEHOLDER = re.compile(r"\{\w*[^{}]*\}")


def english_clauses() -> set[str]:
    """Every run of two or more words between the placeholders of the suite's messages."""
    clauses = set()
    for path in sorted(catalog.get("req").suite.glob("test_*.py")):
        for _line, message, _comments, _context in extract_from_file(
                "python", str(path), keywords={"_": None, "N_": None, "ngettext": (1, 2)}):
            for form in message if isinstance(message, tuple) else (message,):
                for piece in PLACEHOLDER.split(form):
                    piece = piece.strip(" :;,.()")
                    if len(piece.split()) >= 2:
                        clauses.add(piece)
    return clauses



def test_the_english_clauses_are_found() -> None:
    """The check below means something only if the suite's messages were extracted."""
    clauses = english_clauses()
    assert "connection to the server still open" in clauses
    assert "sent no request through aiohttp and" in clauses
    assert len(clauses) > 40


@pytest.mark.slow
@pytest.mark.parametrize(("flaw", "phrases"), [
    # Both session tests fail: counts (ngettext), the worker's extra, "returned" and "raised".
    ("session_never_closed", ["вернула результат, а 1 соединение с сервером осталось открытым",
                              "выбросила исключение, а 1 соединение",
                              "сессия закрыта до того, как req выбросила исключение",
                              "о 1 незакрытой сессии",
                              "при ответе со статусом 404",
                              "нужно закрыть самим"]),
    # The untouched stub: the gate's clause ("sent no request ... and raised ...") and a hint.
    (None, ["не отправила ни одного запроса через aiohttp и выбросила NotImplementedError",
            "отправила 0 запросов", "откройте сессию и отправьте запрос через aiohttp"]),
])
def test_a_flawed_req_graded_in_russian_reads_russian(
        flaw: str | None, phrases: list[str], tmp_path: Path, russian: None) -> None:
    req = catalog.get("req")
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copy2(req.stub if flaw is None else req.solution, folder / req.file)
    if flaw is not None:
        shutil.copy2(FLAWED / flaw / req.file, folder / req.file)
    result = runner.run_suite(req, folder, tmp_path / "scratch")
    failed = [t for t in result.tests if t.status == "failed"]
    assert failed, result
    read = "\n".join(f"{t.message}\n{t.hint}" for t in failed)
    for phrase in phrases:
        assert phrase in read
    left = sorted(c for c in english_clauses() if c in read)
    assert left == [], read
