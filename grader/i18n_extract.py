"""[tooling] Babel's extractor for the hidden suites: marked texts, and each test's title.

A test's title is the first line of its docstring (grader.runner.title_of),
which the student reads as the heading of a lost test; it is translated
like any marked text, so it must reach the catalog too. Used by
scripts/messages.sh (babel.cfg) and tests/test_i18n.py, never while grading.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from babel.messages.extract import extract_python

from grader.i18n import first_line


def extract_suite(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Sequence[str],
                  options: Any) -> Iterator[Any]:
    """What extract_python finds, then the title of every `test_*` function."""
    source = fileobj.read()
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
                node.name.startswith("test_")):
            title = first_line(ast.get_docstring(node) or "")
            if title:
                yield node.lineno, None, title, ["a test's title: the heading of a lost test"]
