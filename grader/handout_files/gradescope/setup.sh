#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image
# (choose an Ubuntu 24.04 base image: the grader needs Python 3.11 or newer).
# The grader is not public: put its wheel (pip wheel --no-deps -w . /path/to/grader)
# next to this file in the autograder zip; it holds no reference solution.
set -euo pipefail
cd "$(dirname "$0")"
shopt -s nullglob
wheels=(./grader-*.whl)
if [ "${#wheels[@]}" -ne 1 ]; then
    echo "setup.sh: put exactly one grader-*.whl next to setup.sh in the zip (found ${#wheels[@]})" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv bubblewrap libseccomp2
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "setup.sh: the grader needs Python 3.11 or newer: pick a newer base image" >&2
    exit 1
}
python3 -m venv /opt/grader
/opt/grader/bin/pip install "${wheels[0]}"
ln -sf /opt/grader/bin/grader /usr/local/bin/grader
grader --version
