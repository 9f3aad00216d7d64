"""[parent] `grader handout OUT`: the kit students get. Never the hidden suites or solutions."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from grader import catalog, kit_install

# The CI workflows, shipped as files of the package (grader/handout_files/workflows/):
# submission.yml packs a pull request's folders without secrets, grade.yml grades them
# from the default branch (docs/ci-threat-model.md says why the split is safe).
WORKFLOWS = resources.files("grader") / "handout_files" / "workflows"
# Gradescope's autograder (setup.sh, run_autograder): zipped with the grader's wheel by the
# teacher (docs/cli.md, "Gradescope"); run_autograder must be executable.
GRADESCOPE = resources.files("grader") / "handout_files" / "gradescope"


def workflows() -> dict[str, str]:
    """Each shipped workflow's file name and text."""
    return {entry.name: entry.read_text(encoding="utf-8")
            for entry in sorted(WORKFLOWS.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".yml")}


PYTEST_INI = """\
# Lets `pytest test_example_*.py` run the public examples without warnings.
[pytest]
asyncio_default_fixture_loop_scope = function
"""

# The kit's README, in the course's language first (the lecture, statements and stubs
# are Russian), then in English: one file for every student, whatever `--lang` says.
README = """\
# {title_ru}

Четыре задания к лекции «Асинхронность». Для каждого в этом наборе есть папка
с условием (на русском и английском), заготовкой файла, который нужно заполнить,
и небольшим открытым тестом-примером.

| задание | файл | баллы | что сделать |
|---|---|---|---|
{rows_ru}

1. Заполните заготовки прямо в их папках (`long_func/long_func.py`, ...) или
   сложите все четыре файла в одну папку, названную вашим именем
   (например, `ivanov_ivan/`).
2. Запустите тесты-примеры: `pytest long_func/test_example_long_func.py`
   (нужно `{install}`).
3. Если в вашем курсе есть grader: `grader check` в этой папке покажет ваши баллы
   и подсказку к каждому потерянному баллу.
4. Сдайте папку (или её `.zip`) либо, если курс проверяет работы в CI, откройте
   pull request, добавляющий её в `submissions/`: через несколько минут баллы
   появятся в комментарии к pull request (`.github/workflows/`: `submission.yml`
   упаковывает вашу папку, `grade.yml` проверяет её в песочнице).

---

# {title_en}

Four exercises of the lecture "Асинхронность". For each one this kit holds a
folder with the statement (Russian and English), the stub file to fill in and a
small public example test.

| assignment | file | points | what to do |
|---|---|---|---|
{rows_en}

1. Fill the stubs in where they are (`long_func/long_func.py`, ...), or put your
   four files in one folder named after you (e.g. `ivanov_ivan/`).
2. Run the example tests: `pytest long_func/test_example_long_func.py` (needs
   `{install}`).
3. If your course gives you the grader: `grader check` in that folder shows your
   score and a hint for every lost point.
4. Hand the folder in (or a `.zip` of it), or open a pull request adding it under
   `submissions/` if your course grades in CI: the score then appears as a comment
   on the pull request a few minutes later (`.github/workflows/`: `submission.yml`
   packs your folder, `grade.yml` grades it in a sandbox).
"""


def _copy(source: Path, target: Path, written: list[Path]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    written.append(target)


def write(out: Path) -> list[Path]:
    """Write statements, stubs, public examples, a README and the CI workflows into `out`."""
    written: list[Path] = []
    rows_ru, rows_en = [], []
    for a in catalog.assignments():
        for path in sorted(a.folder.iterdir()):
            if path.name.startswith(("statement.", "test_example")) or path.name == a.file:
                _copy(path, out / a.slug / path.name, written)
        rows_ru.append(f"| {a.slug} | `{a.slug}/{a.file}` | {a.points} | {a.summary_ru} |")
        rows_en.append(f"| {a.slug} | `{a.slug}/{a.file}` | {a.points} | {a.summary_en} |")
    readme = out / "README.md"
    readme.parent.mkdir(parents=True, exist_ok=True)
    readme.write_text(README.format(
        title_ru="Асинхронность: четыре задания", rows_ru="\n".join(rows_ru),
        title_en="Asyncio: four exercises", rows_en="\n".join(rows_en),
        install=kit_install.install_line()), encoding="utf-8")
    pytest_ini = out / "pytest.ini"
    pytest_ini.write_text(PYTEST_INI, encoding="utf-8")
    for name, text in workflows().items():
        workflow = out / ".github" / "workflows" / name
        workflow.parent.mkdir(parents=True, exist_ok=True)
        workflow.write_text(text, encoding="utf-8")
        written.append(workflow)
    for entry in sorted(GRADESCOPE.iterdir(), key=lambda e: e.name):
        script = out / "gradescope" / entry.name
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
        script.chmod(0o755)
        written.append(script)
    return [*written, readme, pytest_ini]
