"""[worker, test process] A Unix socket's address that fits the kernel's limit, however deep.

A socket's path may be at most 107 bytes (sun_path), and a teacher's output
folder or pytest's tmp_path can be deeper than that. A longer path is reached
through a descriptor held on its folder (/proc/self/fd/N/NAME): binding and
connecting both resolve it to the same file, and a short path is used as is.
Linux only: elsewhere a long path stays long.
"""

from __future__ import annotations

import os

SUN_PATH_MAX = 107  # bytes of a path in struct sockaddr_un, less its terminating NUL
_held: dict[str, int] = {}  # folder -> an O_PATH descriptor kept for this process's life


def address(folder: str | os.PathLike[str], name: str) -> str:
    """The path to bind or connect to for `folder`/`name`."""
    path = os.path.join(folder, name)
    if len(os.fsencode(path)) <= SUN_PATH_MAX or not hasattr(os, "O_PATH"):
        return path  # short; or no /proc/self/fd (macOS): the kernel's own error, if any
    key = os.fspath(folder)
    if key not in _held:
        _held[key] = os.open(key, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    return f"/proc/self/fd/{_held[key]}/{name}"
