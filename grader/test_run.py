"""[parent, test process] What one test process is asked to do: the one record that crosses to it.

The parent (grader/runner.py) fills a `TestRun` and hands it whole to the test
process it forks from the warm zygote (grader/test_launch.py, pickled once as
the forked call's argument); the test process (grader/test_process.py) and the
suite plugin (grader/suites/plugin.py) read it and nothing else: no argv, no
`--grader-*` options, no environment variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_WINDOWS_ENV = ("SYSTEMROOT", "WINDIR") if os.name == "nt" else ()  # or Python cannot start


@dataclass(frozen=True)
class TestRun:
    """One hidden suite against one private copy of one submission."""

    __test__ = False  # not a pytest test class, despite the name

    suite: Path  # the hidden suite's folder (grader/suites/<slug>)
    submission: Path  # the private copy: the worker's only writable place, this suite's alone
    module: str  # the student's module name, e.g. long_func
    report: Path  # where the test process streams its JSON-lines events
    test_timeout: float  # seconds one test may take (pytest-timeout)
    suite_timeout: float  # seconds the whole test process may take (the parent kills it then)
    home: Path  # the test process's cwd, HOME and TMPDIR (the run's own folder)
    work: Path  # a trusted scratch folder (web sockets, the worker's code)
    lifetime: float  # wall-clock seconds one worker process may live
    sandbox_setup: str  # what the parent detected (sandbox.export_setup): never probed again
    language: str = "en"  # the language of the suite's messages (the parent's i18n choice)
    tests: tuple[str, ...] = ()  # pytest node ids to run (a shard of the suite); () = all

    def env(self, python_bin: str) -> dict[str, str]:
        """The test process's whole environment: small, and nothing of the grader's own."""
        return {
            **{name: os.environ[name] for name in _WINDOWS_ENV if name in os.environ},
            "PATH": os.pathsep.join([python_bin, "/usr/bin", "/bin"]),
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "TMPDIR": str(self.home),
        }


def trusted_path(entries: list[str]) -> list[str]:
    """sys.path without the current folder ("" or its name), as `python -I` had it.

    The grader may be started from a class folder: what lies there is not ours
    to import. (The grader package itself is imported already.)
    """
    here = os.path.realpath(os.getcwd())
    return [entry for entry in entries if entry and os.path.realpath(entry) != here]
