"""The trusted side's bounds, one by one: worker replies, the trusted web, memory limits.

What the worker sends and what reaches the trusted web come from the student's
process; each test feeds the trusted code such data directly and checks that
it is refused early (before being read whole), charged to the student's code,
and never reported as a failure of the grader.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from grader import grading, runner, sandbox, trusted_limits
from grader.results import AssignmentResult
from grader.suites import web as web_module
from grader.suites.feedback import StudentImportError, WorkerFault
from grader.suites.harness import StudentCode
from grader.suites.web import FakeWeb, Reply, WebServer
from grader.worker.codec import ErrorInfo
from grader.worker.protocol import (
    CallReply,
    CallRequest,
    InspectReply,
    InspectRequest,
    ProtocolError,
    Quiet,
    TargetSpec,
)
from grader.worker_link import OutputLog, WorkerGone, WorkerLink, WorkerSpec
from grader.worker_reply import MAX_REPLY_DEPTH, LineReader, ReplyRefused, depth, parse

MIB = 1 << 20


# ---------------------------------------------------------------- reading lines


class ChunkedSocket:
    """A socket stand-in that hands out `data` in chunks of at most `chunk` bytes."""

    def __init__(self, data: bytes, chunk: int) -> None:
        self.data = memoryview(data)
        self.chunk = chunk
        self.delivered = 0
        self.largest_ask = 0

    def settimeout(self, _seconds: float) -> None:
        pass

    def recv(self, size: int) -> bytes:
        self.largest_ask = max(self.largest_ask, size)
        piece = bytes(self.data[self.delivered:self.delivered + min(size, self.chunk)])
        self.delivered += len(piece)
        return piece


def test_lines_come_back_whole_whatever_the_chunks() -> None:
    lines = [b'{"event": "ready"}', b"x" * 300_000, b"", b'{"reply": {}}']
    sock = ChunkedSocket(b"\n".join(lines) + b"\n", chunk=777)
    reader = LineReader(sock, limit=MIB)  # type: ignore[arg-type]
    deadline = time.monotonic() + 60
    assert [reader.read_line(deadline) for _ in lines] == lines
    assert sock.delivered == len(b"\n".join(lines)) + 1


def test_a_huge_line_is_refused_without_being_read_whole() -> None:
    limit = 2 * MIB
    sock = ChunkedSocket(b"[" * (50 * MIB) + b"\n", chunk=64 << 10)
    reader = LineReader(sock, limit=limit)  # type: ignore[arg-type]
    with pytest.raises(ReplyRefused, match="more than 2 MiB"):
        reader.read_line(time.monotonic() + 60)
    assert sock.delivered == limit + 1  # not one byte more than needed to know
    assert sock.largest_ask <= 64 << 10


def test_a_huge_line_on_a_real_socket_is_refused_and_the_rest_left_unread() -> None:
    ours, theirs = socket.socketpair()
    sent = [0]

    def flood() -> None:
        theirs.settimeout(2)
        block = b"y" * (1 << 16)
        try:
            for _ in range(800):  # 50 MiB, if anyone read it
                sent[0] += theirs.send(block)
        except OSError:
            pass

    writer = threading.Thread(target=flood)
    writer.start()
    try:
        with pytest.raises(ReplyRefused):
            LineReader(ours).read_line(time.monotonic() + 30)
        writer.join(30)
        # what was written is what was read plus what the kernel buffers hold: far below 50 MiB
        assert sent[0] < 8 * MIB, sent[0]
    finally:
        ours.close()
        theirs.close()
        writer.join(5)


def test_a_line_that_stops_coming_times_out() -> None:
    ours, theirs = socket.socketpair()
    try:
        theirs.sendall(b'{"reply": ')
        with pytest.raises(TimeoutError):
            LineReader(ours).read_line(time.monotonic() + 0.2)
    finally:
        ours.close()
        theirs.close()


# ---------------------------------------------------------------- parsing lines


def nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def test_nesting_up_to_the_cap_is_read_beyond_it_refused() -> None:
    envelope = 2  # {"reply": {"value": ...}}
    ok = b'{"reply": {"value": ' + nested(MAX_REPLY_DEPTH - envelope) + b"}}"
    assert depth(parse(ok), 10_000) == MAX_REPLY_DEPTH
    with pytest.raises(ReplyRefused, match="nested more than"):
        parse(b'{"reply": {"value": ' + nested(MAX_REPLY_DEPTH) + b"}}")


def test_nesting_far_beyond_the_recursion_limit_is_refused_not_raised() -> None:
    with pytest.raises(ReplyRefused, match="nested more than"):
        parse(b'{"reply": ' + nested(200_000) + b"}")


@pytest.mark.parametrize("line", [b"not json", b"[1, 2]", b'"reply"', b"\xff\xfe"])
def test_what_is_not_a_json_object_is_refused(line: bytes) -> None:
    with pytest.raises(ReplyRefused):
        parse(line)


def test_an_error_record_of_other_types_than_its_own_is_refused() -> None:
    good = {"type": "ValueError", "types": ["builtins.ValueError"], "message": "m", "where": "",
            "status": None, "code": "", "lines": []}
    assert ErrorInfo(**good) == _load_error(good)
    for wrong in ({"type": 5}, {"types": "ValueError"}, {"message": ["a"]}, {"status": "404"},
                  {"lines": [1, None]}, {"extra": 1}):
        with pytest.raises(ProtocolError, match="does not fit its record"):
            _load_error({**good, **wrong})


def _load_error(data: dict[str, Any]) -> ErrorInfo | None:
    wire = CallReply(error=ErrorInfo("E")).to_wire()
    return CallRequest("f", []).read_reply({**wire, "error": data}).error


# ---------------------------------------------------------------- the link and the harness


@pytest.fixture
def fake_worker(tmp_path: Path) -> Any:
    """A WorkerLink whose 'worker' is the test: it writes what it likes on the channel."""
    spec = WorkerSpec(tmp_path, "long_func", tmp_path / "web", tmp_path / "runtime", 60)
    link = WorkerLink(spec, lambda event: None)
    ours, theirs = socket.socketpair()
    link._sock, link._reader = ours, LineReader(ours)
    link._done.set()  # no sandboxed process to wait for
    yield link, theirs
    theirs.close()
    link.close()


@pytest.mark.parametrize("line, words", [
    (b'{"reply": ' + nested(100_000) + b"}\n", "nested more than"),
    (b'{"reply": [' + b"[]," * (1 << 20) + b"[]]}\n", "more than 2 MiB"),
    (b"garbage\n", "not JSON"),
    (b'{"reply": 5}\n', "not a JSON object"),
    (b'{"event": "quiet", "sent": "many", "received": 0}\n',
     "a notice that does not fit its record (Quiet.sent: not an integer)"),
    (b'{"event": "quiet", "sent": 1}\n', "a notice that does not fit its record (Quiet: no"),
    (b'{"event": "quiet", "sent": 1, "received": 2, "x": 3}\n', "unknown field(s) 'x'"),
    (b'{"event": "hello"}\n', "neither a reply nor a known notice"),
    (b'{"reply": {}, "event": "quiet"}\n', "(Quiet: no sent, received)"),
    (b'{"event": "ready"}\n', "a second notice that it is ready"),
])
def test_whatever_the_worker_sends_is_its_fault(fake_worker: Any, line: bytes,
                                                words: str) -> None:
    link, theirs = fake_worker
    link.on_event = lambda notice: notice.sent if isinstance(notice, Quiet) else None
    def send() -> None:
        try:
            theirs.sendall(line)
        except OSError:  # the link stopped reading: what it refused is still unread
            pass

    threading.Thread(target=send, daemon=True).start()
    with pytest.raises(WorkerGone) as gone:
        link.request(InspectRequest("x"), timeout=10)
    message = str(gone.value)
    assert words in message
    assert message.startswith("the process running your code sent the grader")
    assert not gone.value.timed_out
    assert not link.alive  # stopped: the channel is out of step


class ScriptedLink:
    """A link that answers each request with the next scripted reply."""

    def __init__(self, replies: list[dict[str, Any]], tmp_path: Path) -> None:
        self.replies = replies
        self.starts = 1
        self.alive = True
        self.notes: list[str] = []
        read, self._write = os.pipe()
        self.output = OutputLog(read)

    def request(self, request: Any, timeout: float) -> dict[str, Any]:
        return self.replies.pop(0)

    def close(self) -> None:
        self.output.close()
        os.close(self._write)


CALLED = CallReply(value=[1], error=None, target=[]).to_wire()  # a well-formed reply to a call


@pytest.mark.parametrize("reply, words", [
    ({**CALLED, "value": {"$d": 5}}, "CallReply.value: a value the codec cannot decode"),
    ({**CALLED, "value": {"$b": "not base64!"}}, "CallReply.value: a value the codec"),
    ({**CALLED, "error": "a string, not a record"}, "CallReply.error: not a JSON object"),
    ({**CALLED, "error": {"type": "E"}}, "CallReply.error: no types"),
    ({**CALLED, "unclosed_sessions": "some"}, "CallReply.unclosed_sessions: not an integer"),
    ({**CALLED, "unclosed_sessions": 1.5}, "CallReply.unclosed_sessions: not an integer"),
    ({**CALLED, "timed_out": 1}, "CallReply.timed_out: not true or false"),
    ({**CALLED, "blocking": "time.sleep"}, "CallReply.blocking: not a list"),
    ({**CALLED, "blocking": [["time.sleep"]]}, "CallReply.blocking.0: not a string"),
    ({**CALLED, "pending": {"a": 1}}, "CallReply.pending: not a list"),
    ({**CALLED, "target": [{"args": []}]}, "CallReply.target.0: no kwargs"),
    ({**CALLED, "target": {"calls": []}}, "CallReply.target: not a list"),
    ({k: v for k, v in CALLED.items() if k != "elapsed"}, "CallReply: no elapsed"),
    ({**CALLED, "verdict": "passed"}, "CallReply: unknown field(s) 'verdict'"),
    ({"reply": CALLED}, "CallReply: no value"),
    ({"internal": "KeyError: 'op'"}, "an error report of its own (KeyError: 'op')"),
    ({"internal": "x", "value": 1}, "CallReply: no error"),
])
def test_a_reply_that_does_not_fit_its_record_is_a_worker_fault(
        tmp_path: Path, reply: dict[str, Any], words: str) -> None:
    from grader.suites.plugin import _verdict

    server = WebServer(tmp_path / "web")
    link = ScriptedLink([{"error": ""}, reply], tmp_path)
    try:
        code = StudentCode(link, server, "long_func")  # type: ignore[arg-type]
        with pytest.raises(WorkerFault) as fault:
            code.call("main")
        assert fault.value.message.startswith("the process running your code answered")
        assert words in fault.value.message

        class Call:
            excinfo = type("Info", (), {"value": fault.value})()

        class Report:
            passed = skipped = False

        verdict = _verdict(None, Call(), Report())  # type: ignore[arg-type]
        assert (verdict["status"], verdict.get("points", 0)) == ("error", 0)
        assert words in verdict["message"] and "grader failed" not in verdict["message"]
    finally:
        link.close()
        server.close()


def test_a_well_formed_reply_reaches_the_test(tmp_path: Path) -> None:
    """The control for the test above: the same reply, unbroken, is a Run."""
    server = WebServer(tmp_path / "web")
    link = ScriptedLink([{"error": ""}, CALLED], tmp_path)
    try:
        code = StudentCode(link, server, "long_func")  # type: ignore[arg-type]
        assert code.call("main").value == [1]
    finally:
        link.close()
        server.close()


@pytest.mark.parametrize("question, reply, words", [
    ("value", {"exists": True}, "InspectReply: no type"),
    ("value", {**InspectReply(True).to_wire(), "value": {"$t": 5}}, "InspectReply.value"),
    ("function", {**InspectReply(True).to_wire(), "callable": "yes"},
     "InspectReply.callable: not true or false"),
    ("decorate", {"raw": "@1", "handle": "@2", "made": None, "error": None},
     "neither what it made nor an error"),
    ("decorate", {"raw": "@1", "handle": "@2", "made": {"kind": "callable"}, "error": None},
     "DecorateReply.made: no type"),
    ("plain", {"raw": 1, "handle": "", "made": None, "error": None}, "DecorateReply.raw"),
])
def test_each_kind_of_reply_is_read_strictly(tmp_path: Path, question: str,
                                             reply: dict[str, Any], words: str) -> None:
    server = WebServer(tmp_path / "web")
    callable_ = InspectReply(True, "function", True, True, False, True).to_wire()
    link = ScriptedLink([{"error": ""}, *([callable_] if question in ("decorate", "plain") else []),
                         reply], tmp_path)
    try:
        code = StudentCode(link, server, "timing")  # type: ignore[arg-type]
        ask = {"value": lambda: code.value("URL"),
               "function": lambda: code.function("f"),
               "decorate": lambda: code.decorate("async_timeit", TargetSpec()),
               "plain": lambda: code.plain(TargetSpec())}[question]
        with pytest.raises(WorkerFault) as fault:
            ask()
        assert words in fault.value.message
    finally:
        link.close()
        server.close()


@pytest.mark.parametrize("reply", [{"error": 5}, {}, {"error": "", "more": 1}, [],
                                   {"internal": "boom"}])
def test_an_import_reply_that_does_not_fit_fails_the_import(tmp_path: Path,
                                                            reply: Any) -> None:
    server = WebServer(tmp_path / "web")
    link = ScriptedLink([reply], tmp_path)
    try:
        code = StudentCode(link, server, "long_func")  # type: ignore[arg-type]
        error = code.load()
        assert error.startswith("importing long_func.py failed: the process running your code "
                                "answered the grader with "), error
        with pytest.raises(StudentImportError):  # every test of the module says so
            code.call("main")
    finally:
        link.close()
        server.close()


def test_the_plugin_reports_a_worker_fault_as_the_students_error() -> None:
    from grader.suites.plugin import _verdict

    class Call:
        excinfo = type("Info", (), {"value": WorkerFault("a reply the grader cannot use")})()

    class Report:
        passed = skipped = False

    verdict = _verdict(None, Call(), Report())  # type: ignore[arg-type]
    assert verdict["status"] == "error"
    assert verdict["message"].startswith("the process running your code")
    assert "grader failed" not in verdict["message"]


# ---------------------------------------------------------------- the trusted web


def _connect(server: WebServer) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(server.folder / "http.sock"))
    return sock


def _closed_by_server(sock: socket.socket, within: float = 10) -> bool:
    sock.settimeout(within)
    try:
        while sock.recv(1 << 16):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


@pytest.fixture
def server(tmp_path: Path) -> Any:
    made = WebServer(tmp_path / "web")
    yield made
    made.close()


def _request(path: str = "/", extra: bytes = b"") -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: example.org\r\n".encode() + extra + b"\r\n")


def test_connections_beyond_the_cap_are_closed_at_once_and_the_call_is_marked(
        server: WebServer) -> None:
    fake = FakeWeb()
    server.current = fake
    held = [_connect(server) for _ in range(web_module.MAX_CONNECTIONS)]
    try:
        extra = [_connect(server) for _ in range(5)]
        assert all(_closed_by_server(s, within=5) for s in extra)
        assert (server.connections_refused, fake.connections_refused) == (5, 5)
        assert "5 connection(s) refused" in fake.flooded
        assert "flooded the grader's web server" in server.flooded
        assert not _closed_by_server(held[0], within=0.2)  # the admitted ones stay
    finally:
        for sock in held:
            sock.close()


def test_an_unfinished_request_head_is_cut_but_an_idle_kept_alive_connection_is_not(
        server: WebServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_module, "REQUEST_SECONDS", 0.5)
    fake = FakeWeb()
    fake.route("http://example.org/", Reply(body="hello"))
    server.current = fake
    slow, kept = _connect(server), _connect(server)
    try:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: example.org\r\nX-Pad: ")
        kept.sendall(_request())
        kept.settimeout(5)
        assert b"hello" in kept.recv(1 << 16)
        assert _closed_by_server(slow, within=5)
        assert not _closed_by_server(kept, within=1.5)  # three times REQUEST_SECONDS idle
        assert (server.connections_cut, fake.connections_cut) == (1, 1)
    finally:
        slow.close()
        kept.close()


def test_a_connection_that_never_sends_is_cut(server: WebServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_module, "REQUEST_SECONDS", 0.3)
    silent = _connect(server)
    try:
        assert _closed_by_server(silent, within=5)
        assert server.connections_cut == 1
    finally:
        silent.close()


@pytest.mark.parametrize("extra", [
    b"X-Big: " + b"a" * (web_module.MAX_FIELD + 10) + b"\r\n",
    b"".join(b"X-%d: 1\r\n" % n for n in range(web_module.MAX_HEADERS + 5)),
])
def test_an_oversized_head_is_refused_with_a_client_error(server: WebServer,
                                                          extra: bytes) -> None:
    sock = _connect(server)
    try:
        sock.sendall(_request(extra=extra))
        answer = sock.recv(1 << 16)
        assert answer.split(b" ", 2)[1].startswith(b"4"), answer[:100]
        assert _closed_by_server(sock)
    finally:
        sock.close()


# ---------------------------------------------------------------- memory limits


def assembled_at_memory_limit() -> AssignmentResult:
    """req's result when its test process met its memory limit during the first test."""
    from grader import catalog

    assignment = catalog.get("req")
    specs = runner.collect(assignment)
    outcome = sandbox.Outcome(1, False, "", "MemoryError\n", 1.0, "memory")
    events = [{"event": "import_start"}, {"event": "import_done", "error": ""},
              {"event": "start", "test": specs[0].id}]
    return runner.assemble(assignment, specs, events, outcome)


def test_a_test_process_at_its_limit_is_an_internal_error_of_the_grader() -> None:
    result = assembled_at_memory_limit()
    assert result.message.startswith(grading.INTERNAL_ERROR)
    assert "memory limit" in result.message
    assert result.score == 0


def test_a_flooded_run_is_not_graded() -> None:
    from grader import catalog

    assignment = catalog.get("req")
    specs = runner.collect(assignment)
    outcome = sandbox.Outcome(0, False, "", "", 1.0, "")
    events = [{"event": "import_start"}, {"event": "import_done", "error": ""},
              *({"event": "result", "test": s.id, "status": "passed"} for s in specs),
              {"event": "flooded", "message": "your code flooded the grader's web server"}]
    result = runner.assemble(assignment, specs, events, outcome)
    assert (result.status, result.score) == ("error", 0)
    assert all(t.message.startswith("your code flooded") for t in result.tests)


def test_the_parents_limit_grows_with_the_jobs_and_leaves_the_hard_limit() -> None:
    assert trusted_limits.parent_bytes(1) < trusted_limits.parent_bytes(8)
    code = ("import resource; from grader import trusted_limits as t;"
            "hard = resource.getrlimit(resource.RLIMIT_DATA)[1]; t.limit_parent(8);"
            "print(*resource.getrlimit(resource.RLIMIT_DATA), hard)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    soft, hard, hard_before = map(int, out)
    wanted = trusted_limits.parent_bytes(8)
    assert soft == (wanted if hard_before == resource.RLIM_INFINITY else min(wanted, hard_before))
    assert hard == hard_before
