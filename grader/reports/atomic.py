"""Replace a file so that a reader, or the next run after a kill, sees the old one or the new one.

A kill (Ctrl-C, SIGKILL, a cancelled CI job) may land between any two
instructions; the temporary file it may leave behind is hidden, named after
its target, and removed by the next run (`remove_leftovers`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; only POSIX can open a folder for this."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so readers see the old file or the new one, never a mix."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:  # Ctrl-C included: leave no temp file behind
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def remove_leftovers(folder: Path, names: set[str] | None = None) -> None:
    """Remove the temporary files a killed `write_atomic` left in `folder`.

    Only ours: hidden, ending in .tmp, and (when `names` is given) made for one
    of those names. Call it only while no other run writes there (store.lock).
    """
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX)):
            continue
        if names is not None and not any(entry.name.startswith(f".{n}.") for n in names):
            continue
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            os.unlink(entry.path)
