"""The worker's protocol (grader/worker/protocol.py): every record round-trips, reading is strict.

Both ends build and read their lines only through these records, so a record
that does not come back as itself breaks the worker; and the test process
reads lines the student's code may have written, so whatever JSON arrives
must be a record, a ProtocolError or the worker's own error report, never
another exception (which would be charged to the grader).
"""

from __future__ import annotations

import json
import types
from dataclasses import fields, is_dataclass
from typing import Any, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.worker import protocol
from grader.worker.codec import ErrorInfo
from grader.worker.protocol import (
    CallReply,
    CallRequest,
    DecorateReply,
    DecorateRequest,
    ImportReply,
    ImportRequest,
    InspectReply,
    InspectRequest,
    Launch,
    Notice,
    ProtocolError,
    Record,
    Request,
    WorkerError,
    read_message,
    read_request,
)

RECORDS = sorted((c for c in vars(protocol).values()
                  if isinstance(c, type) and issubclass(c, Record) and is_dataclass(c)),
                 key=lambda c: c.__name__)
REQUESTS = [ImportRequest, InspectRequest, DecorateRequest, CallRequest]
REPLIES = [ImportReply, InspectReply, DecorateReply, CallReply]

_keys = st.one_of(st.text(max_size=8), st.integers(), st.tuples(st.integers(), st.text(max_size=4)))
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.binary(max_size=20)
    | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=12,
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=16,
)


def strategy(hint: Any) -> st.SearchStrategy[Any]:
    """Any instance of a record's field type, the codec's values included."""
    if protocol._is_value(hint):
        return VALUES
    if isinstance(hint, type) and is_dataclass(hint):
        hints = protocol._hints(hint)
        return st.builds(hint, **{f.name: strategy(hints[f.name]) for f in fields(hint)})
    if get_origin(hint) is types.UnionType:
        return st.one_of(*(strategy(a) for a in get_args(hint)))
    if get_origin(hint) is list:
        return st.lists(strategy(get_args(hint)[0]), max_size=3)
    return {str: st.text(max_size=20), int: st.integers(), bool: st.booleans(),
            float: st.floats(allow_nan=False), type(None): st.none()}[hint]


def wire(data: Any) -> Any:
    """What the other end reads: the line as JSON text, parsed."""
    return json.loads(json.dumps(data))


def test_the_records_tested_are_all_the_records() -> None:
    assert {c.__name__ for c in RECORDS} >= {
        "Launch", "TargetSpec", "Invocation", "ImportRequest", "InspectRequest",
        "DecorateRequest", "CallRequest", "ImportReply", "InspectReply", "Described",
        "DecorateReply", "TargetCall", "CallReply", "Internal", "Ready", "Blocking", "Quiet"}
    assert set(protocol.REQUESTS.values()) == set(REQUESTS)
    assert [r.reply for r in REQUESTS] == REPLIES


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_record_round_trips(cls: type[Record], data: st.DataObject) -> None:
    record = data.draw(strategy(cls))
    assert cls.from_wire(wire(record.to_wire())) == record
    if isinstance(record, Request):
        assert read_request(wire(record.to_wire())) == record
    if isinstance(record, Notice):
        assert read_message(wire(record.to_wire())) == record
    if isinstance(record, Launch):
        python_args = record.argv("_launcher")
        assert python_args[:1] == ["-c"] and len(python_args) == 3
        assert Launch.from_argv(["-c", python_args[2]]) == record


@pytest.mark.parametrize("request_cls", REQUESTS, ids=lambda c: c.__name__)
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_request_reads_its_own_reply(request_cls: type[Request[Any]],
                                          data: st.DataObject) -> None:
    request = data.draw(strategy(request_cls))
    reply = data.draw(strategy(request_cls.reply))
    assert request.read_reply(wire(reply.to_wire())) == reply
    with pytest.raises(WorkerError, match="boom"):
        request.read_reply({"internal": "boom"})


def _corruptions(record_wire: dict[str, Any], hints: dict[str, Any]) -> list[dict[str, Any]]:
    """The wire with one field missing, one unknown, or one field nested a level deeper."""
    out = [{**record_wire, "unexpected": 1}]
    for name, value in record_wire.items():
        out.append({k: v for k, v in record_wire.items() if k != name})
        if not protocol._is_value(hints[name]):
            out.append({**record_wire, name: [value]})
            out.append({**record_wire, name: {"nested": value}})
    return out


@pytest.mark.parametrize("request_cls", REQUESTS, ids=lambda c: c.__name__)
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_reply_missing_a_field_with_one_more_or_nested_deeper_is_refused(
        request_cls: type[Request[Any]], data: st.DataObject) -> None:
    request = data.draw(strategy(request_cls))
    reply = data.draw(strategy(request_cls.reply))
    for broken in _corruptions(reply.to_wire(), protocol._hints(request_cls.reply)):
        with pytest.raises(ProtocolError, match="a reply that does not fit its record"):
            request.read_reply(wire(broken))


def test_an_error_record_inside_a_reply_is_read_strictly_too() -> None:
    reply = CallReply(error=ErrorInfo("ValueError", ["builtins.ValueError"], "m")).to_wire()
    request = CallRequest("main", [])
    assert request.read_reply(wire(reply)).error == ErrorInfo("ValueError",
                                                              ["builtins.ValueError"], "m")
    for broken in _corruptions(reply["error"], protocol._hints(ErrorInfo)):
        with pytest.raises(ProtocolError, match=r"CallReply\.error"):
            request.read_reply(wire({**reply, "error": broken}))


@settings(max_examples=300)
@given(data=JSON, request_cls=st.sampled_from(REQUESTS))
def test_any_json_is_a_record_or_the_workers_fault_never_a_crash(
        data: Any, request_cls: type[Request[Any]]) -> None:
    """Read as a line (a notice or an answer) and as the reply to each request."""
    request = request_cls.from_wire({"op": request_cls.op, **_minimal(request_cls)})
    for read in (read_message, request.read_reply):
        try:
            read(data)
        except (ProtocolError, WorkerError):
            pass


def _minimal(request_cls: type[Request[Any]]) -> dict[str, Any]:
    return {ImportRequest: {},
            InspectRequest: {"name": "x"},
            DecorateRequest: {"decorator": "d",
                              "target": protocol.TargetSpec().to_wire()},
            CallRequest: {"function": "f", "calls": [], "together": False, "timeout": 1.0,
                          "label": None, "drain": 0.0}}[request_cls]


@pytest.mark.parametrize("line, words", [
    ({"op": "explode"}, "no known op"),
    ({"name": "x"}, "no known op"),
    ({"op": "inspect"}, "InspectRequest: no name"),
    ({"op": "call", "function": "f", "calls": [{"args": [], "kwargs": {"$d": []}}],
      "together": False, "timeout": 1, "label": None, "drain": 0},
     r"CallRequest\.calls\.0: no after"),
])
def test_a_request_that_does_not_fit_is_refused(line: dict[str, Any], words: str) -> None:
    with pytest.raises(ProtocolError, match=words):
        read_request(line)


def test_numbers_are_not_flags_and_flags_are_not_numbers() -> None:
    """JSON's true is not 1: a bool where a count belongs (or back) does not fit."""
    quiet = {"event": "quiet", "sent": True, "received": 0}
    with pytest.raises(ProtocolError, match="Quiet.sent: not an integer"):
        read_message(quiet)
    with pytest.raises(ProtocolError, match="InspectReply.exists: not true or false"):
        InspectRequest("x").read_reply({**InspectReply(True).to_wire(), "exists": 1})
    assert read_message({"event": "quiet", "sent": 3, "received": 1}) == protocol.Quiet(3, 1)
