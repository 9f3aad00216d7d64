"""[test process] Entry point of a test process: runs one hidden suite against one submission.

Started by grader.runner (outside the sandbox: this process never imports
student code) as `python -I -B -m grader.child SUITE SUBMISSION MODULE REPORT
TEST_TIMEOUT WORK LIFETIME`. Plugins are named explicitly (autoload is off)
so only what we load runs; the student's code runs in the worker it starts.
"""

from __future__ import annotations

import signal
import sys

import pytest

from grader.catalog import SUITES_DIR


def pytest_args(suite: str, submission: str, module: str, report: str, timeout: str,
                work: str, lifetime: str) -> list[str]:
    return [
        suite,
        "-c", str(SUITES_DIR / "pytest.ini"),
        "--rootdir", str(SUITES_DIR),
        "-p", "pytest_asyncio.plugin",
        "-p", "pytest_timeout",
        "-p", "grader.suites.plugin",
        "--timeout", timeout,
        "--timeout-method", "signal",
        "--grader-submission", submission,
        "--grader-module", module,
        "--grader-report", report,
        "--grader-work", work,
        "--grader-lifetime", lifetime,
        "-p", "no:cacheprovider",
        "-q", "--no-header", "-rN", "--tb=no", "-W", "ignore",
    ]


def main(argv: list[str]) -> int:
    # SIGTERM (the runner's time limit) unwinds pytest, so the worker is killed on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))
    return int(pytest.main(pytest_args(*argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
