#!/usr/bin/env bash
# The project's tests: set up if needed, lint, type-check grader/, then the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy  # configured in pyproject.toml ([tool.mypy]: the grader/ package)
# The tests mostly wait (held answers, sandboxed workers), so four pytest processes finish them
# about twice as soon on two cores; GRADER_TEST_PROCESSES=0 runs them in this one process.
.venv/bin/python -m pytest -n "${GRADER_TEST_PROCESSES:-4}" --dist loadgroup "$@"
