"""Every text a person reads exists in both languages, and the language can be chosen.

The messages are what Babel extracts from grader/ with the keywords the code
uses (`_`, `N_`, `ngettext`), exactly as scripts/messages.sh does; a message
with no Russian text, or a Russian text no code asks for, fails here.
"""

from __future__ import annotations

import io
import re
import tokenize
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from click.testing import CliRunner

from grader import i18n
from grader.cli import main
from grader.reports.feedback import render_check
from grader.results import AssignmentResult, SubmissionResult, TestResult

PACKAGE = Path(i18n.__file__).resolve().parent
ROOT = PACKAGE.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
_FIELD = re.compile(r"\{(\w*)[^{}]*\}")


def source_messages() -> set[str]:
    """Every message the code marks, found the way scripts/messages.sh finds them (babel.toml)."""
    mapping = tomllib.loads((ROOT / "babel.toml").read_text(encoding="utf-8"))["mappings"]
    method_map = [(m["pattern"], m["method"]) for m in mapping]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map=method_map, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def russian() -> dict[str, object]:
    with i18n.po_path("ru").open("rb") as po:
        catalog = read_po(po, locale="ru")
    return {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in catalog if m.id}


@pytest.fixture
def speak() -> Iterator[None]:
    yield
    i18n.use("en")  # the other tests read English


def test_every_message_has_a_russian_text_and_every_russian_text_a_message() -> None:
    source, ru = source_messages(), russian()
    assert len(source) > 60  # extraction found the marked texts (an empty set proves nothing)
    assert "req sends exactly one GET to the URL it was given" in source  # and the titles
    assert sorted(source - ru.keys()) == [], "run scripts/messages.sh and translate"
    assert sorted(ru.keys() - source) == [], "obsolete: run scripts/messages.sh"
    untranslated = [key for key, m in ru.items()
                    if m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string])]
    assert untranslated == []


def test_a_translation_keeps_every_placeholder_of_its_message() -> None:
    for key, message in russian().items():
        wanted = set(_FIELD.findall(message.id[-1] if isinstance(message.id, tuple) else key))
        for text in (message.string if isinstance(message.string, tuple) else [message.string]):
            assert set(_FIELD.findall(text)) == wanted, key


def test_no_marked_text_hides_in_an_f_string() -> None:
    """Babel cannot read inside f-strings: a _() there is never extracted nor translated."""
    hidden = []
    for path in PACKAGE.rglob("*.py"):
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        for token in tokens:
            text = token.string
            if token.type == tokenize.STRING and re.match(r"(?i)r?fr?['\"]", text) and (
                    re.search(r"\b(_|N_|ngettext)\(", text)):
                hidden.append(f"{path.name}:{token.start[0]}")
    assert hidden == []


def stub_result() -> SubmissionResult:
    tests = [TestResult(f"req::t{i}", "failed", 0, 1, "still raises NotImplementedError",
                        "replace the stub", f"Title {i}") for i in range(5)]
    assignments = {"req": AssignmentResult("req", 0, 5, "graded", tests=tests),
                   "timing": AssignmentResult("timing", 0, 25, "missing")}
    return SubmissionResult("ученик", assignments, isolation="bwrap")


def test_the_check_report_speaks_the_chosen_language(speak: None) -> None:
    i18n.use("ru")
    text = render_check(stub_result(), color=False)
    for russian_word in ("Результат проверки ученик", "Что делать дальше", "Баллы", "итого",
                         "тестов пройдено: 0 из 5", "Подсказка:", "timing.py не найден"):
        assert russian_word in text
    assert "What to do next" not in text and "Hint:" not in text
    i18n.use("en")
    text = render_check(stub_result(), color=False)
    assert "What to do next" in text and "0 of 5 tests passed" in text
    assert "Что делать" not in text


@pytest.mark.parametrize(("option", "environment", "expected"), [
    (None, None, "ru"),  # the course's language
    (None, "en", "en"),
    ("ru", "en", "ru"),  # the option wins
    (None, "fr_FR.UTF-8", "ru"),  # a language we lack falls back to the course's
])
def test_the_language_comes_from_option_then_environment_then_course(
        option: str | None, environment: str | None, expected: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if environment is None:
        monkeypatch.delenv(i18n.ENV, raising=False)
    else:
        monkeypatch.setenv(i18n.ENV, environment)
    assert i18n.chosen(option) == expected


def test_the_lang_option_switches_a_command(tmp_path: Path, speak: None) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    runner = CliRunner()
    ru = runner.invoke(main, ["--lang", "ru", "check", str(folder), "--out", str(tmp_path / "o")])
    assert "Что делать дальше" in ru.output, ru.output
    en = runner.invoke(main, ["--lang", "en", "check", str(folder), "--out", str(tmp_path / "o")])
    assert "What to do next" in en.output, en.output


def test_a_lost_tests_title_is_read_in_the_chosen_language(speak: None) -> None:
    from grader import catalog, runner

    i18n.use("ru")
    titles = {spec.id: spec.title for spec in runner.collect(catalog.get("req"))}
    assert titles["req::one_get_to_the_url"] == "req отправляет ровно один GET на переданный ей URL"
    i18n.use("en")
    titles = {spec.id: spec.title for spec in runner.collect(catalog.get("req"))}
    assert titles["req::one_get_to_the_url"] == "req sends exactly one GET to the URL it was given"
