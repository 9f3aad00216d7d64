"""[parent, test process] What this operating system offers the sandbox: POSIX modules, Linux calls.

fcntl and resource are POSIX-only: importing them here, optionally, lets the
package import on Windows too, where student code runs at the weakest level
(`process`: a worker process of its own, no rlimits). Code that may run there
asks `available(...)` before using them; for the type checker they are the
real modules. `LINUX` gates the Linux-only calls (prctl, pidfd, cgroups,
keyrings, namespaces), which macOS, a POSIX system, does not have.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import TYPE_CHECKING


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


def has_process_controls() -> bool:
    """Whether a run can be forked with limits set before exec (POSIX: rlimits, process groups).

    Without them (Windows) student code still runs in a process of its own,
    at the `process` level (grader.sandbox.backend.Process).
    """
    return all(_AVAILABLE.values()) and hasattr(os, "fork")


LINUX = sys.platform.startswith("linux")  # prctl, pidfd, cgroups, keyrings, namespaces
