"""Entry point of a test process: runs one hidden suite against one submission.

Started by grader.runner inside the sandbox as
`python -I -B -m grader.child SUITE SUBMISSION MODULE REPORT TEST_TIMEOUT`.
Plugins are named explicitly (autoload is off) so only what we load runs.
"""

from __future__ import annotations

import sys

import pytest

from grader.catalog import SUITES_DIR


def pytest_args(suite: str, submission: str, module: str, report: str, timeout: str) -> list[str]:
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
        "-q", "--no-header", "-rN", "--tb=no", "-W", "ignore",
    ]


def main(argv: list[str]) -> int:
    return int(pytest.main(pytest_args(*argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
