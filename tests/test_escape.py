"""grader/reports/escape.py and the caps: each destination's promise, for any text.

Hypothesis draws texts mixing arbitrary Unicode with what attacks use (escape
sequences, CR, bidi overrides, lone surrogates, workflow commands, Markdown and
formula starters); each property is what a reader of that destination relies on.
The GitHub runner's command parsing is modelled from actions/runner
(ActionCommand.TryParseV2 / TryParse); Markdown is rendered by cmark-gfm, GitHub's own.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import xml.etree.ElementTree as ET

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.reports import escape
from grader.results import AssignmentResult, SubmissionResult, TestResult, cap

PIECES = st.sampled_from([
    "\x1b", "\x1b[31m", "\x1b]0;pwned\x07", "\x1b]52;c;aGk=\x07", "\x9b", "\x9d", "\r", "\n",
    "\r\n", "\x00", "\x7f", "\x85", "\t", "\u202e", "\u2066", "\u200f", "\u2028", "\u2029",
    "\ud800", "\udcff", "\u3000", "\xa0", "\ufeff", "\u200b", "::", "::stop-commands::",
    "::add-mask::", "::notice::", "::set-output name=x::", "##[", "##[error]", "%", "%0A", "%25",
    "=", "+", "-", "@", "＝", "|", "#", "<", ">", "&", "'", '"', "[", "]", "(", ")", "`", "*",
    "_", "\\", "!", "www.", "http://", "a@b.co", " ", "=HYPERLINK(\"http://x\",\"y\")", "Иван",
])
TEXT = st.lists(st.one_of(st.text(), PIECES), max_size=12).map("".join)

HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                    "\ud800-\udfff]")
LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # wider than the runner's own


def runner_commands(log: str) -> list[str]:
    """The lines GitHub's runner would act on: `::cmd::` after leading space, `##[cmd]` anywhere."""
    found = []
    for line in LINE_BREAKS.split(log):
        stripped = line.lstrip()  # .NET TrimStart: Python's white space is a superset
        legacy = line.find("##[")
        if (stripped.startswith("::") and "::" in stripped[2:]) or \
                (legacy >= 0 and "]" in line[legacy:]):
            found.append(line)
    return found


def unescape_data(text: str) -> str:
    """actions/runner ActionCommand.UnescapeData, in its order."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    """actions/runner ActionCommand.UnescapeProperty, in its order."""
    for escaped, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, char)
    return text


# --- terminal ------------------------------------------------------------------------------


@given(TEXT)
@example("\x1b]0;title\x07\r\u202eevil")
def test_terminal_shows_every_hidden_character(text: str) -> None:
    one_line = escape.terminal(text)
    assert not HIDDEN.search(one_line) and "\n" not in one_line
    one_line.encode("utf-8")  # strict: lone surrogates are written out too
    lines = escape.terminal(text, multiline=True)
    assert not HIDDEN.search(lines.replace("\n", ""))
    assert lines.count("\n") == text.count("\n")


def test_terminal_examples() -> None:
    assert escape.terminal("\x1b]0;title\x07") == "\\x1b]0;title\\x07"
    assert escape.terminal("a\rb\u202ec\udcff") == "a\\rb\\u202ec\\udcff"
    assert escape.terminal("Иванов Иван_2") == "Иванов Иван_2"  # ordinary names unchanged
    assert escape.terminal("one\r\ntwo", multiline=True) == "one\ntwo"


# --- GitHub Actions ------------------------------------------------------------------------


@given(TEXT)
@example("::stop-commands::x\n  ::add-mask::secret\r::notice::hi")
@example("\u3000\u200b::error::x")
@example("a ##[error]b")
def test_no_line_of_a_workflow_log_is_a_command(text: str) -> None:
    log = escape.workflow_log(text)
    assert runner_commands(log) == []
    assert runner_commands(escape.workflow_log(f"[1/2] {text}\n  {text}")) == []
    log.encode("utf-8")


def test_workflow_log_examples() -> None:
    assert escape.workflow_log("::notice::x") == "\\x3a:notice::x"
    assert escape.workflow_log("  ::add-mask::x") == "  \\x3a:add-mask::x"
    assert escape.workflow_log("ok ##[error]x") == "ok ##\\x5berror]x"
    assert escape.workflow_log("req::case_0 failed") == "req::case_0 failed"  # mid-line: fine


@given(TEXT, TEXT)
def test_workflow_command_data_and_properties_round_trip(title: str, message: str) -> None:
    data, prop = escape.workflow_data(message), escape.workflow_property(title)
    assert not re.search("[\r\n]", data) and not re.search("[\r\n:,]", prop)
    assert unescape_data(data) == escape.visible(message, multiline=True)
    assert unescape_property(prop) == escape.visible(title, multiline=True)
    command = f"::error title={prop}::{data}"
    assert runner_commands(command) == [command]  # exactly one line: ours


# --- Markdown and HTML of the job summary --------------------------------------------------

TABLE_TAGS = {"table", "thead", "tbody", "tr", "th", "td", "br"}


def render(markdown: str) -> str:
    """GitHub's renderer, raw HTML let through, so an injected tag would show."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def cell_text(cell_html: str) -> str:
    without_comments = re.sub(r"<!--.*?-->", "", cell_html)
    return html.unescape(re.sub(r"<br\s*/?>", "\n", without_comments))


@settings(deadline=None)
@given(TEXT)
@example("x\n\n# Fake heading\n| a | b |\n|---|---|\n| [link](http://e.vil) |")
@example("<img src=x onerror=alert(1)> www.e.vil a@e.vil http://e.vil")
def test_markdown_cell_stays_one_plain_cell(text: str) -> None:
    cell = escape.markdown(text)
    assert "\n" not in cell
    page = render(f"| {cell} | x |\n|---|---|\n| {cell} | y |\n")
    tags = set(re.findall(r"</?([a-zA-Z0-9]+)", re.sub(r"<!--.*?-->", "", page)))
    assert tags <= TABLE_TAGS, page
    assert page.count("<table>") == 1 and page.count("<tr>") == 2, page
    cells = re.findall(r"<t[hd]>(.*?)</t[hd]>", page, re.S)
    assert len(cells) == 4, page
    shown = escape.visible(text.strip(), multiline=True)
    assert cell_text(cells[0]).strip(" ") == shown.strip(" ")


@given(TEXT)
def test_html_is_one_line_of_text(text: str) -> None:
    out = escape.html(text)
    assert not re.search("[<>\"'\n]", out)
    assert html.unescape(out) == escape.visible(text)
    page = render(f"<details><summary>{out}</summary>\n\n- item\n\n</details>\n")
    assert page.count("<summary>") == 1 and "<h" not in page and "<table" not in page


# --- CSV -----------------------------------------------------------------------------------

FORMULA = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


@given(TEXT)
@example("=HYPERLINK(\"http://e.vil\",\"click\")")
@example(" \t@SUM(1)")
def test_csv_cell_is_never_a_formula(text: str) -> None:
    cell = escape.csv_cell(text)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([cell, "-5"])
    [[read, number]] = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert read == cell and number == "-5"
    assert not read.lstrip().startswith(FORMULA)
    assert "\n" not in read and "\r" not in read
    shown = escape.visible(text)
    assert read in (shown, "'" + shown)


# --- JSON and XML --------------------------------------------------------------------------


@given(st.dictionaries(TEXT, st.lists(TEXT, max_size=3), max_size=4))
@example({"caf\udce9": ["\ud800", "\x00"]})
def test_json_is_strict_utf8_and_reads_back(document: dict[str, list[str]]) -> None:
    data = escape.json_bytes(document)
    data.decode("utf-8")  # strict
    loaded = json.loads(data)
    # Undecodable bytes become low surrogates (U+DC80-DCFF): those read back exactly. A
    # high one followed by a low one reads back as the pair they spell, as JSON defines.
    if not re.search("[\ud800-\udbff]", json.dumps(document, ensure_ascii=False)):
        assert loaded == document


@given(TEXT)
def test_xml_text_always_parses(text: str) -> None:
    element = ET.Element("failure", {"message": escape.xml_text(text)})
    element.text = escape.xml_text(text)
    parsed = ET.fromstring(ET.tostring(element, encoding="unicode"))
    assert parsed.text in (element.text, None if not element.text else element.text)


# --- caps ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1999, 2000, 2001, 20_000_000])
def test_cap_says_how_much_was_cut(size: int) -> None:
    text = "x" * size
    capped = cap(text, 2000)
    if size <= 2000:
        assert capped == text
    else:
        assert capped.startswith("x" * 2000) and len(capped) < 2100
        assert capped.endswith(f"… [{size - 2000:,} more characters cut]")
        again = cap("could not import: " + capped, 1000)
        assert again.endswith(f"… [{size + 18 - 1000:,} more characters cut]")


def test_records_are_bounded_whoever_builds_them() -> None:
    huge = "E" * 5_000_000
    test = TestResult("req::a", "error", 0, 1, huge, huge, huge)
    assignment = AssignmentResult("req", 0, 25, "error", huge, [test])
    result = SubmissionResult("n" * 10_000, {"req": assignment}, huge)
    size = len(json.dumps(result.to_dict()))
    assert size < 12_000, size
    assert "more characters cut]" in result.student and "more characters cut]" in test.hint
