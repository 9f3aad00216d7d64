"""[parent] `grader handout OUT`: the kit students get. Never the hidden suites or solutions."""

from __future__ import annotations

import shutil
from pathlib import Path

from grader import catalog

WORKFLOW = """\
# Grades the submission folders a pull request adds or changes.
name: grade
on:
  pull_request:
    paths: ["submissions/**"]
jobs:
  grade:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install the grader (the course's private repository)
        run: pip install "git+${{ secrets.GRADER_REPO_URL }}"
      - name: Grade
        run: grader ci --submissions submissions --junit junit.xml
"""

PYTEST_INI = """\
# Lets `pytest test_example_*.py` run the public examples without warnings.
[pytest]
asyncio_default_fixture_loop_scope = function
"""

README = """\
# {title}

Four exercises of the lecture "Асинхронность". For each one this kit holds the
statement (Russian and English), the stub file to fill in and a small public
example test.

| assignment | file | points |
|---|---|---|
{rows}

1. Put your four files in one folder named after you (e.g. `ivanov_ivan/`).
2. Run the example tests: `pytest test_example_long_func.py` (needs
   `pip install aiohttp aioresponses pytest pytest-asyncio`).
3. If your course gives you the grader: `grader check` in that folder shows your
   score and a hint for every lost point.
4. Hand the folder in (or a `.zip` of it), or open a pull request adding it under
   `submissions/` if your course grades in CI.
"""


def _copy(source: Path, target: Path, written: list[Path]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    written.append(target)


def write(out: Path) -> list[Path]:
    """Write statements, stubs, public examples, a README and a CI workflow into `out`."""
    written: list[Path] = []
    rows = []
    for a in catalog.assignments():
        for path in sorted(a.folder.iterdir()):
            if path.name.startswith(("statement.", "test_example")) or path.name == a.file:
                _copy(path, out / a.slug / path.name, written)
        rows.append(f"| {a.slug} | `{a.file}` | {a.points} |")
    readme = out / "README.md"
    readme.parent.mkdir(parents=True, exist_ok=True)
    readme.write_text(README.format(title="Asyncio: four exercises", rows="\n".join(rows)),
                      encoding="utf-8")
    pytest_ini = out / "pytest.ini"
    pytest_ini.write_text(PYTEST_INI, encoding="utf-8")
    workflow = out / ".github" / "workflows" / "grade.yml"
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(WORKFLOW, encoding="utf-8")
    return [*written, readme, pytest_ini, workflow]
