#!/usr/bin/env bash
# The project's tests: set up if needed, lint, type-check grader/, then the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy  # configured in pyproject.toml ([tool.mypy]: the grader/ package)
# The tests mostly wait (held answers, sandboxed workers), so several pytest processes finish
# them sooner; GRADER_TEST_PROCESSES=0 runs them in this one process. --dist loadfile keeps each
# module on one process, so a module fixture that grades a whole class runs once.
.venv/bin/python -m pytest -n "${GRADER_TEST_PROCESSES:-4}" --dist loadfile "$@"
