"""[test process] The warm zygote: imported once by the fork server test processes fork from.

Importing this module does, once, what every test process would otherwise
repeat: import pytest, pytest_asyncio, pytest_timeout, aiohttp and the suite
plugin, and collect every hidden suite the way a test process does (so the
suites' modules are imported with pytest's assertion rewriting and stay in
sys.modules: a test process's own collection finds them there). It never
sees a submission and never imports student code, so every fork of it starts
from the same trusted state and the zygote may serve anyone's run.
"""

from __future__ import annotations

import gc
import os
import sys

from grader.test_run import trusted_path

sys.path[:] = trusted_path(sys.path)  # before anything else is imported

import aiohttp  # noqa: E402, F401 - imported here once, for every fork
import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402, F401
import pytest_timeout  # type: ignore[import-untyped]  # noqa: E402, F401

from grader import test_process  # noqa: E402
from grader.catalog import SUITES_DIR  # noqa: E402
from grader.suites import plugin  # noqa: E402, F401


def _collect_every_suite() -> int:
    """Collect all hidden suites with the test processes' own options, printing nothing.

    The zygote's stdout and stderr are the grader's: they point elsewhere meanwhile.
    """
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # as in a test process: nothing else loads
    suites = sorted(str(path) for path in SUITES_DIR.iterdir()
                    if path.is_dir() and any(path.glob("test_*.py")))
    args = [*suites, *test_process.pytest_args_without_suite(timeout=60.0), "--collect-only"]
    saved = [os.dup(1), os.dup(2)]
    quiet = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        return int(pytest.main(args))
    finally:
        for fd, kept in enumerate(saved, start=1):
            os.dup2(kept, fd)
            os.close(kept)
        os.close(quiet)


collected = _collect_every_suite()
gc.freeze()  # what is imported now is shared with every fork: the collector leaves it alone
