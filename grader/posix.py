"""[parent, test process] fcntl and resource where the system has them (Linux, macOS), else None.

They are POSIX-only: importing them here, optionally, lets the package import
on Windows too (`grader --help`, `list`, `handout`), where no sandboxed run can
be spawned. Code that may run there asks `available(...)` before using them;
for the type checker they are the real modules.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING

from grader.i18n import N_


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


if TYPE_CHECKING:
    import fcntl
    import resource
else:
    fcntl = _optional("fcntl")
    resource = _optional("resource")

_AVAILABLE = {"fcntl": fcntl is not None, "resource": resource is not None}


def available(name: str) -> bool:
    """Whether the POSIX module `name` ("fcntl" or "resource") exists here."""
    return _AVAILABLE[name]


def can_grade() -> bool:
    """Whether student code can be run here at all: a sandboxed run forks and sets rlimits."""
    return all(_AVAILABLE.values()) and hasattr(os, "fork")


CANNOT_GRADE = N_(
    "grading runs student code in processes of its own with limits, which needs Linux or "
    "macOS; this system has no fork() or no resource/fcntl modules (Windows). Run the grader "
    "in WSL (Windows Subsystem for Linux) or a Linux machine; `grader list` and `grader "
    "handout` work here.")
