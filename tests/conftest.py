"""Shared helpers for the project's tests: building submission folders, loading the CPU."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import catalog, i18n

ROOT = Path(__file__).resolve().parent.parent

# The tests read English wording (the source language): the course's default is Russian,
# so every test, and every grader process a test starts, asks for English unless it says
# otherwise (tests/test_i18n.py does).
os.environ[i18n.ENV] = "en"
i18n.use("en")


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
