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
    rows = []
    for a in catalog.assignments():
        for path in sorted(a.folder.iterdir()):
            if path.name.startswith(("statement.", "test_example")) or path.name == a.file:
                _copy(path, out / a.slug / path.name, written)
        rows.append(f"| {a.slug} | `{a.file}` | {a.points} |")
    readme = out / "README.md"
    readme.parent.mkdir(parents=True, exist_ok=True)
    readme.write_text(README.format(title="Asyncio: four exercises", rows="\n".join(rows),
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
