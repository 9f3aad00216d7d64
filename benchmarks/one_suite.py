"""One hidden suite as a classic pytest run in a fresh Python: the per-student loop's unit.

    python benchmarks/one_suite.py RUN_JSON [pytest options...]

What a teacher's own loop would start for each student and suite: a new
interpreter that imports pytest, aiohttp and the suite, runs it and exits,
with no warm zygote. RUN_JSON holds grader.test_run.TestRun's fields.
Extra arguments go to pytest (class_speed's test adds --collect-only).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from grader import sandbox
from grader.suites.plugin import RunPlugin
from grader.test_process import pytest_args
from grader.test_run import TestRun


def run_of(text: str) -> TestRun:
    fields = json.loads(text)
    for field in dataclasses.fields(TestRun):
        if field.type in ("Path", Path):
            fields[field.name] = Path(fields[field.name])
    return TestRun(**fields)


def as_json(run: TestRun) -> str:
    return json.dumps({k: str(v) if isinstance(v, Path) else v
                       for k, v in dataclasses.asdict(run).items()})


def main(argv: list[str]) -> int:
    run = run_of(argv[0])
    sandbox.adopt(run.sandbox_setup)  # the same sandbox as the grader's own test processes
    return int(pytest.main([*pytest_args(run), *argv[1:]], plugins=[RunPlugin(run)]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
