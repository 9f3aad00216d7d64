"""The package imports where fcntl and resource do not exist (Windows), and says what it cannot do.

Simulated here: a fresh interpreter in which importing them (and the other
POSIX-only modules) fails, as on Windows, before grader is imported.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader import catalog
from tests.conftest import ROOT

POSIX_ONLY = ("fcntl", "resource", "termios", "pwd", "grp", "pyseccomp", "seccomp")
WITHOUT_POSIX = (
    "import sys\n"
    f"for name in {POSIX_ONLY!r}:\n"
    "    sys.modules[name] = None  # `import name` now raises ImportError\n"
    "from grader.cli import main\n"
    "main(sys.argv[1:], prog_name='grader')\n"
)


def without_posix(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_POSIX, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_the_simulation_really_removes_the_modules() -> None:
    run = subprocess.run([sys.executable, "-c", WITHOUT_POSIX.replace(
        "from grader.cli import main\nmain(sys.argv[1:], prog_name='grader')\n",
        "import fcntl\n")], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "ModuleNotFoundError: import of fcntl halted" in run.stderr, run.stderr


@pytest.mark.parametrize("args", [("--help",), ("list",), ("check", "--help")])
def test_help_and_list_work_without_posix_modules(args: tuple[str, ...]) -> None:
    run = without_posix(*args)
    assert run.returncode == 0, run.stderr
    if args == ("list",):
        assert [line.split()[0] for line in run.stdout.splitlines()[:-1]] == [
            a.slug for a in catalog.assignments()]


def test_handout_works_without_posix_modules(tmp_path: Path) -> None:
    run = without_posix("handout", str(tmp_path / "kit"))
    assert run.returncode == 0, run.stderr
    assert all((tmp_path / "kit" / a.slug / a.file).is_file() for a in catalog.assignments())


def test_check_says_it_cannot_grade_here(tmp_path: Path) -> None:
    folder = tmp_path / "ivanov"
    folder.mkdir()
    (folder / "req.py").write_text("x = 1\n", encoding="utf-8")
    run = without_posix("check", str(folder), "--out", str(tmp_path / "out"))
    assert run.returncode == 2
    assert "WSL" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert not (tmp_path / "out" / "results.json").exists()
