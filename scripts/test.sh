#!/usr/bin/env bash
# The project's tests: set up if needed, lint, type-check grader/, then the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy  # configured in pyproject.toml ([tool.mypy]: the grader/ package)
.venv/bin/python -m pytest "$@"
