"""OUT/store/: one file per student graded into an output folder (trusted parent).

Each file is a results.json document holding that one student's newest result,
written atomically the moment the student is graded. It is what a run keeps
between runs: results.json and gradebook.csv are rebuilt from it, a killed run
loses nothing it had written here, and the next run reuses every result whose
submission content and suites are unchanged (reports/results_file.py decides).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader import posix
from grader.posix import fcntl
from grader.reports.atomic import remove_leftovers, write_atomic

STORE_NAME = "store"
LOCK_NAME = ".lock"


class OutputBusy(Exception):
    """Another grader run is writing into the same output folder."""


def file_name(student: str) -> str:
    """A file name for any student name (which may hold anything a folder name can)."""
    return hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:32] + ".json"


class Store:
    """The folder of per-student files: read, write one, remove one. No policy here."""

    def __init__(self, out_dir: Path) -> None:
        self.folder = Path(out_dir) / STORE_NAME

    def read_all(self) -> list[tuple[Path, Any]]:
        """Every stored file and its parsed JSON (None when it is not JSON at all)."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                found.append((path, json.loads(path.read_bytes())))
            except (OSError, ValueError):
                found.append((path, None))
        return found

    def write(self, student: str, data: bytes) -> None:
        self.folder.mkdir(exist_ok=True)  # never OUT itself: a vanished OUT is an error to say
        write_atomic(self.folder / file_name(student), data)

    def remove(self, student: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.folder / file_name(student)).unlink()

    def remove_leftovers(self) -> None:
        """Temporary files of writes a kill interrupted: never a result, always safe to drop."""
        remove_leftovers(self.folder)


def _hold(fd: int) -> None:
    """Lock `fd` at once or raise BlockingIOError: flock, or msvcrt's lock on Windows."""
    if posix.available("fcntl"):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    elif sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            raise BlockingIOError(*exc.args) from None


@contextlib.contextmanager
def lock(out_dir: Path) -> Iterator[None]:
    """Hold OUT for one run: a second run into the same folder is refused, not interleaved.

    An flock, so the kernel releases it when the holder dies, SIGKILL included.
    """
    folder = Path(out_dir) / STORE_NAME
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            _hold(fd)
        except BlockingIOError:
            raise OutputBusy(f"another grader run is writing into {out_dir}: wait for it to "
                             "end, or choose another --out") from None
        yield
    finally:
        os.close(fd)
