"""[parent] Text from a submission, made safe for where it is written: one function a destination.

Anything a student controls (folder and file names, messages quoting their
exceptions or printed output) is data, never markup or a command, wherever it
lands: a terminal, the GitHub Actions log, the job summary (Markdown and
HTML), the gradebook CSV, JSON or XML. Every report writer passes such text
through the function for its destination here, and nowhere else decides what
is safe. Escaping is visible: a hidden character is shown as `\\x1b` or
`\\u202e`, so a teacher sees that something was there.
"""

from __future__ import annotations

import html as _html
import json
import re
import string
import unicodedata
from typing import Any

# C0 and C1 controls, DEL, the bidi marks, embeddings, overrides and isolates, Unicode's
# line and paragraph separators, and lone surrogates (undecodable bytes in a folder name).
_HIDDEN = "\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
_HIDDEN_ONE_LINE = re.compile(f"[\n{_HIDDEN}{_SURROGATES}]")
_HIDDEN_KEEP_LINES = re.compile(f"[{_HIDDEN}{_SURROGATES}]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}

# Characters XML 1.0 cannot hold at all, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_HTML_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
# Every other ASCII punctuation character is backslash-escaped (CommonMark allows it for
# all of them): no emphasis, heading, list, table pipe, link, image or autolink can start.
_MARKDOWN = {c: "\\" + c for c in string.punctuation if c not in _HTML_SPECIAL}
_MARKDOWN.update(_HTML_SPECIAL)
# GFM links e-mail addresses even with every character escaped; an empty comment after
# the @ splits the text the autolinker reads and shows nothing.
_MARKDOWN["@"] = "@<!-- -->"
_MARKDOWN_TABLE = str.maketrans(_MARKDOWN)

# A cell starting with one of these is a formula in Excel, LibreOffice and Google Sheets
# (OWASP, CSV injection); the full-width forms are read as formulas by some locales.
_FORMULA_START = tuple("=+-@\t\r＝＋－＠")

_WORKFLOW_COMMAND = "::"
_WORKFLOW_LEGACY = "##["  # the runner's old syntax, recognised anywhere in a line


def _show(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, multiline: bool = False) -> str:
    """`text` with every control, bidi and unencodable character written out (`\\x1b`).

    With `multiline`, line feeds (and CR LF pairs) stay line breaks; a lone `\r` never does.
    """
    if multiline:
        return _HIDDEN_KEEP_LINES.sub(_show, text.replace("\r\n", "\n"))
    return _HIDDEN_ONE_LINE.sub(_show, text)


def terminal(text: str, *, multiline: bool = False) -> str:
    """For a terminal: escape sequences (colours, OSC title/clipboard), `\\r` and bidi are shown,
    not obeyed, and the text always encodes to UTF-8."""
    return visible(text, multiline=multiline)


def _invisible_or_space(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def workflow_log(text: str) -> str:
    """For a log GitHub Actions reads: the runner obeys no line of it.

    The runner takes a line as a command when it starts with `::` after leading
    white space, or when it holds `##[` anywhere; both are broken visibly
    (`\\x3a:`, `##\\x5b`), and lines break only at line feeds.
    """
    lines = visible(text, multiline=True).replace(_WORKFLOW_LEGACY, "##\\x5b").split("\n")
    for number, line in enumerate(lines):
        start = 0
        while start < len(line) and _invisible_or_space(line[start]):
            start += 1
        if line.startswith(_WORKFLOW_COMMAND, start):
            lines[number] = f"{line[:start]}\\x3a{line[start + 1:]}"
    return "\n".join(lines)


def workflow_data(text: str) -> str:
    """The message of a workflow command (`::error ...::DATA`), per GitHub's escaping."""
    shown = visible(text, multiline=True)
    return shown.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """A property value of a workflow command (`title=VALUE`), per GitHub's escaping."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def markdown(text: str) -> str:
    """For GitHub Markdown, inside a table cell or a list item: always plain text, one line.

    Punctuation is backslash-escaped, HTML specials become entities, line
    breaks become `<br>`: no heading, table, link, image or tag can start.
    """
    lines = visible(text.strip(), multiline=True).split("\n")
    return "<br>".join(line.translate(_MARKDOWN_TABLE) for line in lines)


def html(text: str) -> str:
    """For raw HTML in the job summary (`<summary>...`): entities, and on one line, since a blank
    line would end the HTML block and let Markdown start."""
    return _html.escape(visible(text), quote=True)


def csv_cell(text: str) -> str:
    """A student-controlled gradebook cell: one line, never a formula (a leading `'`)."""
    shown = visible(text)
    if shown.lstrip().startswith(_FORMULA_START):
        return "'" + shown
    return shown


def xml_text(text: str) -> str:
    """For XML (JUnit): hidden characters shown, and what XML 1.0 cannot hold written out."""
    return _NOT_XML.sub(lambda m: ascii(m.group())[1:-1], visible(text, multiline=True))


def json_bytes(document: Any) -> bytes:
    """JSON as strict UTF-8 that any parser reads, whatever the strings hold.

    A lone surrogate (from a folder name that was not UTF-8) is written as the
    JSON escape `\\udcXX` instead of aborting the write; the text reads back as it was.
    (Only a high surrogate followed by a low one cannot: JSON reads them as a pair.)
    """
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return text.encode("utf-8", errors="backslashreplace")
