"""What the parent says to a person, in Russian and in English: help, CI summary, class report.

Built from records, without grading (except one damaged archive, which runs no test):
each test fails when a text of its kind stays English under `--lang ru` (or the reverse),
or when code that sorts messages stops recognising one in another language.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import grading, i18n
from grader.cli import main
from grader.reports import ci, html_report, results_file
from grader.results import AssignmentResult, SubmissionResult, TestResult
from grader.submission import Submission


@pytest.fixture
def speak() -> Iterator[None]:
    yield
    i18n.use("en")  # the other tests read English


def _cyrillic(text: str) -> bool:
    return re.search("[а-яё]", text, re.IGNORECASE) is not None


# --- grader --help ------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "environment"), [
    (["--lang", "ru", "check", "--help"], "en"),  # the option wins
    (["check", "-h"], "ru"),
])
def test_a_commands_help_speaks_russian(args: list[str], environment: str, speak: None) -> None:
    result = CliRunner().invoke(main, args, env={i18n.ENV: environment}, prog_name="grader")
    assert result.exit_code == 0, result.output
    text = result.output
    for russian in ("Использование: grader check", "Параметры:",
                    "Проверить одну папку (по умолчанию текущую)",
                    "Завершиться с кодом 1, если итог ниже этого.",
                    "Показать эту справку и выйти.", "[по умолчанию: "):
        assert russian in text, text
    for english in ("Usage:", "Options:", "Grade one folder", "Exit with status 1",
                    "Show this message", "[default: "):
        assert english not in text, text


def test_the_groups_help_follows_grader_lang_and_the_option_wherever_it_stands(
        speak: None) -> None:
    runner = CliRunner()
    ru = runner.invoke(main, ["--help"], env={i18n.ENV: "ru"}).output
    assert "Команды:" in ru and "Проверить группу или названные работы в OUT." in ru, ru
    assert "Показать версию и выйти." in ru and "Commands:" not in ru, ru
    # --help comes first, and click handles it before --lang: the option still decides
    en = runner.invoke(main, ["--help", "--lang", "en"], env={i18n.ENV: "ru"}).output
    assert "Commands:" in en and "Grade a class or named submissions into OUT." in en, en
    assert not _cyrillic(en.replace("Асинхронность", "")), en


def test_the_help_of_every_command_has_no_english_sentence_left_in_russian(speak: None) -> None:
    runner = CliRunner()
    for command in ("grade", "check", "list", "selfcheck", "handout", "ci", "merge"):
        text = runner.invoke(main, ["--lang", "ru", command, "-h"]).output
        prose = [line for line in text.splitlines()
                 if re.search(r"\b(the|a|of|and|to)\b", line) and "grader " not in line]
        assert prose == [], (command, prose)


def test_the_lang_option_does_not_leak_into_the_callers_environment(
        monkeypatch: pytest.MonkeyPatch, speak: None) -> None:
    monkeypatch.setenv(i18n.ENV, "en")
    CliRunner().invoke(main, ["--lang", "ru", "list"])
    import os
    assert os.environ[i18n.ENV] == "en"


# --- the CI job summary and annotations ---------------------------------------------------------


def _class() -> list[SubmissionResult]:
    lost = [TestResult(f"req::t{i}", "failed", 0, 5, "still raises NotImplementedError",
                       "replace the stub", f"Title {i}") for i in range(3)]
    one = [TestResult("wiki_stats::w", "timeout", 0, 30, "ran too long", "", "Wiki title")]
    return [
        SubmissionResult("ivanov", {
            "req": AssignmentResult("req", 0, 15, "graded", tests=lost),
            "timing": AssignmentResult("timing", 0, 25, "missing"),
            "wiki_stats": AssignmentResult("wiki_stats", 0, 30, "graded", tests=one),
        }),
    ]


def test_the_job_summary_speaks_russian(speak: None) -> None:
    i18n.use("ru")
    text = ci.job_summary_markdown(_class())
    for russian in ("## Результаты проверки", "| Студент | Итого |", "### Проблемы",
                    "ivanov — проблем: 3", "**req** 3 теста: провал",
                    "Подсказка: replace the stub", "Тесты: Title 0, Title 1, Title 2",
                    "(нет файла)", "превышено время"):
        assert russian in text, text
    for english in ("Grading results", "Student", "Problems", "problem(s)", "Hint:", "Tests:",
                    "(missing)", "timeout", "tests failed"):
        assert english not in text, text
    assert "## Результаты проверки\n\nНи одна работа не проверена." in ci.job_summary_markdown([])


def test_the_job_summary_stays_english_in_english(speak: None) -> None:
    i18n.use("en")
    text = ci.job_summary_markdown(_class())
    assert "## Grading results" in text and "**req** 3 tests failed" in text
    assert not _cyrillic(text), text


def test_annotations_and_junit_speak_russian(tmp_path: Path, speak: None) -> None:
    i18n.use("ru")
    lines = ci.annotations(_class() * 6)  # 12 errors, more than GitHub shows: a notice says so
    assert any("title=ivanov%3A req%2C 3 теста%3A провал::" in line for line in lines), lines
    assert "Подсказка: replace the stub" in "\n".join(lines).replace("%0A", "\n")
    assert lines[-1].startswith("::notice title=Другие проблемы::Ещё проблем без аннотаций:")
    junit = tmp_path / "junit.xml"
    ci.write_junit(_class(), junit)
    assert "timing.py есть и импортируется" in junit.read_text(encoding="utf-8")


# --- report.html --------------------------------------------------------------------------------


def _report(language: str) -> str:
    i18n.use(language)
    return html_report.render(_class(), {"generated_at": "2026-12-01T10:00:00+00:00",
                                         "grader_version": "0.1", "isolation": "bwrap"})


def test_the_class_report_speaks_russian(speak: None) -> None:
    page = _report("ru")
    assert '<html lang="ru">' in page
    for russian in ("<title>Отчёт по группе: работ — 1</title>", "<h1>Отчёт по группе</h1>",
                    "<h2>Что объяснить ещё раз: чаще всего проваленные тесты</h2>",
                    "<h2>Таблица группы</h2>", "<h2>Баллы по заданиям</h2>",
                    "<h2>Каждый студент</h2>", "подсказка: replace the stub",
                    'data-template="показано {shown} из {total}"', "изоляция bwrap"):
        assert russian in page, russian
    for english in ("Class report", "What to re-teach", "Each student", "hint:", " shown\"",
                    ">missing<", ">failed<"):
        assert english not in page, english


def test_the_class_report_in_english_says_so(speak: None) -> None:
    page = _report("en")
    assert '<html lang="en">' in page and "<h1>Class report</h1>" in page
    assert "Отчёт" not in page


# --- messages code sorts, in any language -------------------------------------------------------


def test_an_unreadable_hand_in_graded_in_russian_is_still_sorted_as_unreadable(
        tmp_path: Path, speak: None) -> None:
    damaged = tmp_path / "petrov.zip"
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr("req.py", "x = 1\n")
    damaged.write_bytes(damaged.read_bytes()[:40])  # the central directory is gone
    i18n.use("ru")
    [result] = grading.grade([Submission("petrov", damaged)], only=["req"])
    req = result.assignments["req"]
    assert req.message.startswith("работу не удалось прочитать: "), req.message
    assert _cyrillic(req.message.split(":", 1)[1]), req.message  # intake's reason too
    i18n.use("en")  # the gradebook is written later, in another language
    assert results_file.status_cell(req) == results_file.UNREADABLE
    assert grading.internal_errors([result]) == []


def test_a_grader_error_is_found_in_either_language(speak: None) -> None:
    i18n.use("ru")
    marker = i18n._(grading.INTERNAL_ERROR)
    i18n.use("en")
    for message in (f"{grading.INTERNAL_ERROR}: boom", f"{marker}: boom"):
        result = SubmissionResult("x", {"req": AssignmentResult("req", 0, 25, "error", message)})
        assert grading.internal_errors([result]) == ["x/req"]
        assert results_file.status_cell(result.assignments["req"]) == results_file.GRADER_ERROR
    plain = AssignmentResult("req", 0, 25, "error", "req.py could not be imported")
    assert results_file.status_cell(plain) == "error"
    assert grading.begins_with("работу не удалось прочитать: x", grading.UNREADABLE_MESSAGE)
    assert not grading.begins_with("работа прочитана", grading.UNREADABLE_MESSAGE)
