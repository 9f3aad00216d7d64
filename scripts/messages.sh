#!/usr/bin/env bash
# Refresh the message catalogs after changing a text marked with _(), N_() or ngettext():
# extracts every message from grader/ into grader/locale/grader.pot and merges it into each
# language's .po (new messages arrive empty; tests/test_i18n.py fails until they are translated).
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=.venv/bin/pybabel
"$PYBABEL" extract -F babel.toml --no-location --omit-header --sort-output -k N_ -k ngettext:1,2 \
    -o grader/locale/grader.pot .
for po in grader/locale/*/LC_MESSAGES/grader.po; do
    "$PYBABEL" update --no-fuzzy-matching --ignore-obsolete -i grader/locale/grader.pot \
        -d grader/locale -D grader -l "$(basename "$(dirname "$(dirname "$po")")")"
done
