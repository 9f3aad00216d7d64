"""Shared helpers for the project's tests: building submission folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader import catalog

ROOT = Path(__file__).resolve().parent.parent


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
