"""Shared helpers for the project's tests: building submission folders, loading the CPU."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader import catalog, i18n

ROOT = Path(__file__).resolve().parent.parent

# The tests read English wording (the source language): the course's default is Russian,
# so every test, and every grader process a test starts, asks for English unless it says
# otherwise (tests/test_i18n.py does).
os.environ[i18n.ENV] = "en"
i18n.use("en")


@pytest.fixture
def russian(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Russian in this test, and in any grader command it invokes (they read GRADER_LANG).

    The test processes follow the parent's choice (TestRun.language); English again after.
    """
    monkeypatch.setenv(i18n.ENV, "ru")
    i18n.use("ru")
    yield
    i18n.use("en")  # the other tests read English


def reference_submission(folder: Path, overrides: Path | None = None) -> Path:
    """A folder with every reference solution, then the files of `overrides` on top."""
    folder.mkdir(parents=True, exist_ok=True)
    for a in catalog.assignments():
        shutil.copy2(a.solution, folder / a.file)
    if overrides is not None:
        for path in overrides.iterdir():
            if path.suffix == ".py":
                shutil.copy2(path, folder / path.name)
    return folder


@pytest.fixture
def make_submission(tmp_path: Path):
    """Build a submission folder from {file name: source}; files not given are absent."""

    def build(files: dict[str, str | bytes], name: str = "student") -> Path:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        for file, content in files.items():
            target = folder / file
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        return folder

    return build


BURNER_LIFETIME = 600  # seconds: a burner ends by itself even if the test's process dies


@contextlib.contextmanager
def cpu_burners(per_core: int = 1) -> Iterator[None]:
    """Busy-looping processes, `per_core` for each core, killed when the block ends."""
    code = (f"import time\nend = time.monotonic() + {BURNER_LIFETIME}\n"
            "while time.monotonic() < end:\n    pass\n")
    processes = [subprocess.Popen([sys.executable, "-c", code])
                 for _ in range(per_core * (os.cpu_count() or 2))]
    try:
        yield
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
        for process in processes:
            process.wait()


@dataclass(frozen=True)
class Installed:
    """The grader installed from its wheel into a venv of its own, outside the clone."""

    wheel: Path
    venv: Path

    @property
    def grader(self) -> str:
        return str(self.venv / "bin" / "grader")

    def run(self, *args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """`grader ARGS` of this install, run in `cwd`, with no course folder in its environment."""
        clean = {k: v for k, v in os.environ.items()
                 if k not in (catalog.COURSE_ENV, "PYTHONPATH", "VIRTUAL_ENV")}
        return subprocess.run([self.grader, *args], cwd=cwd, env={**clean, **(env or {})},
                              capture_output=True, text=True, timeout=timeout)


_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                     ".mypy_cache", ".ruff_cache", "grading-results", "dist")


def install_tree(source: Path, root: Path) -> Installed:
    """A wheel built from the tree `source`, installed non-editable into a fresh venv in `root`.

    Built as `pip install .` or `pip install git+URL` builds it (pip's own build, in
    isolation, from the whole tree); installed with --no-deps, the dependencies coming
    from this venv's site-packages through a .pth file, so nothing is downloaded.
    """
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(root / "dist"), str(source)],
                   check=True, capture_output=True, timeout=600)
    [wheel] = (root / "dist").glob("grader-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=300)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", PURELIB], capture_output=True, text=True,
                             check=True).stdout.strip()
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=600)
    ours = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (Path(purelib) / "project-dependencies.pth").write_text("".join(f"{d}\n" for d in ours))
    return Installed(wheel, venv)


def copy_of_the_tree(target: Path) -> Path:
    """This clone's files (no venv, no git, no build output) copied to `target`."""
    shutil.copytree(ROOT, target, ignore=_NOT_SOURCE)
    return target


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """This tree's wheel installed into a fresh venv: the grader as `pip install .` gives it."""
    root = tmp_path_factory.mktemp("install")
    return install_tree(copy_of_the_tree(root / "source"), root)


PURELIB = "import sysconfig; print(sysconfig.get_path('purelib'))"
