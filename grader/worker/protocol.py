"""[worker, test process] The worker's protocol: every message either end sends, as one record.

The trusted test process (grader/worker_link.py, grader/suites/harness.py)
and the sandboxed worker (main.py, agent.py) speak one JSON line each way;
this module defines each line as a frozen dataclass, and both ends build and
read lines only through it, so a field cannot be renamed at one end alone:

- requests, test process -> worker: `{"op": OP, ...fields}`;
- replies, worker -> test process: `{"reply": {...fields}}`, one per request;
- notices, worker -> test process, at any time: `{"event": EVENT, ...fields}`;
- the launch: how the worker is started (`Launch`, one JSON argument).

Reading is strict: a line that does not fit its record exactly (a field
missing, extra, or of another type; an unknown op or event; a value the codec
cannot decode) is a `ProtocolError`. The worker shares its process with
student code, which can write anything on the channel, so the trusted side
charges that error to the submission (after worker_reply.py has bounded the
line's size and depth).

The worker sees this package under another name (`_launcher`): this module
imports only the standard library and its siblings.
"""

from __future__ import annotations

import functools
import json
import types
from dataclasses import dataclass, field, fields, is_dataclass
from typing import (
    Annotated,
    Any,
    ClassVar,
    Generic,
    Self,
    TypeVar,
    cast,
    get_args,
    get_origin,
    get_type_hints,
)

from .codec import ErrorInfo, decode, encode

_CODEC = "codec"
Value = Annotated[Any, _CODEC]  # any value the codec carries (student data, test tokens)
R = TypeVar("R")


class ProtocolError(ValueError):
    """A line that does not fit its record; the text names the line and the field, not its data."""


class WorkerError(Exception):
    """The worker's own report that handling a request failed (its `internal` reply)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class Record:
    """A message as a frozen dataclass; its wire form is a JSON object of its fields."""

    def to_wire(self) -> dict[str, Any]:
        return cast(dict[str, Any], _dump(self, type(self)))

    @classmethod
    def from_wire(cls, data: Any, what: str = "a message") -> Self:
        """The record `data` describes exactly, or ProtocolError naming `what` arrived."""
        return cast(Self, _load(data, cls, _Where(what, cls.__name__)))


# ---------------------------------------------------------------------- the launch


@dataclass(frozen=True)
class Launch(Record):
    """What the worker is started with: its inherited descriptors and paths, as one argument."""

    channel: int  # the worker's end of the socket pair it answers on (-1: connect to `port`)
    stdout: int  # the write end of the pipe that becomes its fd 1 (-1: fd 1 already is)
    folder: str  # the scratch copy of the submission, its working directory
    module: str  # the student's module to import
    web: str  # the folder of the trusted web server's sockets
    runtime: str  # the folder holding this package, for sys.path
    # The `process` level (no inherited descriptors): the trusted side's loopback port, and
    # the token the worker sends first so that no other local process can speak for it.
    port: int = 0
    token: str = ""

    def argv(self, package: str) -> list[str]:
        """Python's arguments after its options: a one-line boot and this record."""
        boot = (f"import json, sys; sys.path.insert(0, json.loads(sys.argv[1])['runtime']); "
                f"from {package}.main import main; main()")
        return ["-c", boot, json.dumps(self.to_wire())]

    @classmethod
    def from_argv(cls, argv: list[str]) -> Launch:
        return cls.from_wire(json.loads(argv[1]), "a launch")


# ---------------------------------------------------------------------- requests


@dataclass(frozen=True)
class TargetSpec(Record):
    """A coroutine function of the grader's for the student's decorator to wrap (main.Target)."""

    name: str = "target"
    qualname: str | None = None  # the name, if None
    doc: str | None = None
    module: str = "reports"
    fetch: str = ""  # a URL each call GETs (the call's number and arguments in its query)
    sleep: float = 0.0  # seconds each call awaits
    raises: str = ""  # a message: each call raises error_class(raises)
    error_class: str = ""  # the exception's class name (a TargetError if empty)
    returns: Value = None  # else each call returns a fresh copy of this
    echo_call: bool = False  # ...or the number of calls so far


@dataclass(frozen=True)
class Invocation(Record):
    """One call of a function: its arguments, and when it starts within a gather."""

    args: Value = field(default_factory=list)  # a list
    kwargs: Value = field(default_factory=dict)
    after: float = 0.0  # seconds into the gather


class Request(Record, Generic[R]):
    """What the test process asks; `reply` is the record the worker answers with."""

    op: ClassVar[str]
    reply: ClassVar[type[Record]]

    def to_wire(self) -> dict[str, Any]:
        return {"op": self.op, **super().to_wire()}

    @classmethod
    def from_wire(cls, data: Any, what: str = "a request") -> Self:
        return super().from_wire(_untag(data, "op", cls.op, what), what)

    def read_reply(self, data: Any) -> R:
        """This request's reply from its wire form; WorkerError for the worker's own failure."""
        if isinstance(data, dict) and set(data) == {"internal"}:
            raise WorkerError(str(data["internal"]))
        return cast(R, self.reply.from_wire(data, "a reply"))


def N_(message: str) -> str:
    """Marks a text for the grader's catalog (grader/i18n.py); the worker cannot translate."""
    return message


# Why importing the student's module failed: the worker words it in English (the catalog's
# source); the trusted side reads the values back and words it in the student's language
# (grader/suites/harness.py, import_words). {where} is "" or " (req.py, line 12)".
IMPORT_FAILURES: dict[str, str] = {
    "not_utf8": N_("{file} is not saved as UTF-8 (line {line}): save it as UTF-8 in your editor"),
    "syntax": N_("syntax error in {file}, line {line}: {text}"),
    "sys_exit": N_("the module called sys.exit({text}) while being imported"),
    "unavailable": N_("it imports {name}, which is not available while grading: use aiohttp, "
                      "which does not block the event loop"),
    "raised": N_("importing it raised {name}: {text}{where}"),
}


@dataclass(frozen=True)
class ImportReply(Record):
    error: str  # why importing the student's module failed (IMPORT_FAILURES), or ""


@dataclass(frozen=True)
class ImportRequest(Request[ImportReply]):
    """Import the student's module."""

    op: ClassVar[str] = "import"
    reply: ClassVar[type[Record]] = ImportReply


@dataclass(frozen=True)
class InspectReply(Record):
    """What the module-level name is; the worker's word."""

    exists: bool
    type: str = ""
    callable: bool = False
    coroutine_function: bool = False
    async_call: bool = False  # an object whose class has an `async def __call__`
    is_function: bool = False
    value: Value = None  # the value itself, when it is not callable


@dataclass(frozen=True)
class InspectRequest(Request[InspectReply]):
    """What the module-level NAME is."""

    op: ClassVar[str] = "inspect"
    reply: ClassVar[type[Record]] = InspectReply
    name: str


@dataclass(frozen=True)
class Described(Record):
    """What the student's decorator returned, as the worker inspected it."""

    kind: str  # "coroutine", "callable" or "other"
    type: str
    value: Value  # the object itself, when it is not callable
    coroutine_function: bool
    is_function: bool
    async_call: bool
    name: str | None
    qualname: str | None
    doc: str | None
    wrapped_is_target: bool  # its __wrapped__ is the target itself


@dataclass(frozen=True)
class DecorateReply(Record):
    """A handle to the undecorated target (`raw`); the decorated one, or the decorator's error."""

    raw: str
    handle: str = ""
    made: Described | None = None
    error: ErrorInfo | None = None


@dataclass(frozen=True)
class DecorateRequest(Request[DecorateReply]):
    """`decorator(target)` with the module's decorator and a grader target."""

    op: ClassVar[str] = "decorate"
    reply: ClassVar[type[Record]] = DecorateReply
    decorator: str
    target: TargetSpec


@dataclass(frozen=True)
class TargetCall(Record):
    """The arguments one call of a grader target got."""

    args: Value
    kwargs: Value


@dataclass(frozen=True)
class CallReply(Record):
    """What one call did: value or error, and the worker's account of it (wording only)."""

    value: Value = None
    error: ErrorInfo | None = None
    timed_out: bool = False
    elapsed: float = 0.0  # seconds in the worker, the event loop's start and end included
    call_seconds: float = 0.0  # seconds awaiting the call itself
    received_at_return: int = 0  # answers received when the call returned
    pending: list[str] = field(default_factory=list)  # student tasks still running then
    unclosed_sessions: int = 0
    blocking: list[str] = field(default_factory=list)
    unawaited: list[str] = field(default_factory=list)
    coroutines: list[str] = field(default_factory=list)  # returned un-awaited
    target: list[TargetCall] | None = None  # the calls a grader target got, when one was called


@dataclass(frozen=True)
class CallRequest(Request[CallReply]):
    """Call a module function or a decorated target (each of `calls`, gathered if `together`)."""

    op: ClassVar[str] = "call"
    reply: ClassVar[type[Record]] = CallReply
    function: str  # a module-level name, or a handle ("@N") from a DecorateReply
    calls: list[Invocation]
    together: bool = False
    timeout: float = 10.0  # the worker's own deadline for the call
    label: str | None = None  # the function whose first argument labels requests
    drain: float = 0.0  # seconds tasks left behind may run on


REQUESTS: dict[str, type[Request[Any]]] = {
    r.op: r for r in (ImportRequest, InspectRequest, DecorateRequest, CallRequest)}


def read_request(data: Any) -> Request[Any]:
    """The request a line of the test process holds."""
    if not isinstance(data, dict) or data.get("op") not in REQUESTS:
        raise ProtocolError("a request of no known op")
    return REQUESTS[data["op"]].from_wire(data)


@dataclass(frozen=True)
class Internal(Record):
    """The worker's reply when handling a request raised: a bug, or the student's meddling."""

    internal: str


# ---------------------------------------------------------------------- notices


class Notice(Record):
    """Something the worker says unasked."""

    event: ClassVar[str]

    def to_wire(self) -> dict[str, Any]:
        return {"event": self.event, **super().to_wire()}

    @classmethod
    def from_wire(cls, data: Any, what: str = "a notice") -> Self:
        return super().from_wire(_untag(data, "event", cls.event, what), what)


@dataclass(frozen=True)
class Ready(Notice):
    """The worker started and waits for requests."""

    event: ClassVar[str] = "ready"


@dataclass(frozen=True)
class Blocking(Notice):
    """A blocking call inside the event loop (sent at once: it survives the worker's kill)."""

    event: ClassVar[str] = "blocking"
    what: str


@dataclass(frozen=True)
class Quiet(Notice):
    """The loop is idle with requests out: held answers may be released."""

    event: ClassVar[str] = "quiet"
    sent: int
    received: int


NOTICES: dict[str, type[Notice]] = {n.event: n for n in (Ready, Blocking, Quiet)}


@dataclass(frozen=True)
class Answer:
    """A `{"reply": ...}` line: the reply's wire form, read by the request it answers."""

    reply: Any


def read_message(data: Any) -> Notice | Answer:
    """What a line from the worker is: a notice, or the answer to the request in flight."""
    if isinstance(data, dict) and set(data) == {"reply"}:
        return Answer(data["reply"])
    if not isinstance(data, dict) or data.get("event") not in NOTICES:
        raise ProtocolError("a message that is neither a reply nor a known notice")
    return NOTICES[data["event"]].from_wire(data)


def reply_line(reply: Record) -> dict[str, Any]:
    """A reply's line."""
    return {"reply": reply.to_wire()}


# ---------------------------------------------------------------------- records <-> JSON


def _untag(data: Any, key: str, tag: str, what: str) -> Any:
    """The fields of a tagged line (`{"op": "call", ...}`), once the tag is checked."""
    if not isinstance(data, dict) or data.get(key) != tag:
        raise ProtocolError(f"{what} that is not {key} {tag!r}")
    return {k: v for k, v in data.items() if k != key}


@dataclass(frozen=True)
class _Where:
    what: str  # "a reply"
    path: str  # "CallReply.error.status"

    def at(self, name: str) -> _Where:
        return _Where(self.what, f"{self.path}.{name}")

    def wrong(self, problem: str) -> ProtocolError:
        return ProtocolError(f"{self.what} that does not fit its record ({self.path}: {problem})")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """A record's field types, resolved in this module's names.

    Not in the module the class names: in the worker its modules are no
    longer listed in sys.modules (main._hide_runtime), where typing looks.
    """
    return get_type_hints(cls, globalns=globals(), include_extras=True)


def _is_value(hint: Any) -> bool:
    return get_origin(hint) is Annotated and _CODEC in hint.__metadata__


def _optional(hint: Any) -> Any:
    """X for `X | None`, else None."""
    if get_origin(hint) in (types.UnionType,) and type(None) in get_args(hint):
        rest = [a for a in get_args(hint) if a is not type(None)]
        return rest[0] if len(rest) == 1 else None
    return None


def _dump(value: Any, hint: Any) -> Any:
    if _is_value(hint):
        return encode(value)
    if isinstance(hint, type) and is_dataclass(hint):
        hints = _hints(hint)
        return {f.name: _dump(getattr(value, f.name), hints[f.name]) for f in fields(hint)}
    inner = _optional(hint)
    if inner is not None:
        return None if value is None else _dump(value, inner)
    if get_origin(hint) is list:
        return [_dump(item, get_args(hint)[0]) for item in value]
    return value


_SCALARS: dict[type, str] = {str: "a string", int: "an integer", float: "a number",
                             bool: "true or false"}


def _load(data: Any, hint: Any, where: _Where) -> Any:
    if _is_value(hint):
        try:
            return decode(data)
        except Exception as exc:  # noqa: BLE001 - whatever the data does to the codec
            raise where.wrong(f"a value the codec cannot decode ({type(exc).__name__})") from None
    if isinstance(hint, type) and is_dataclass(hint):
        return _load_record(data, hint, where)
    inner = _optional(hint)
    if inner is not None:
        return None if data is None else _load(data, inner, where)
    if get_origin(hint) is list:
        if type(data) is not list:
            raise where.wrong("not a list")
        return [_load(item, get_args(hint)[0], where.at(str(n))) for n, item in enumerate(data)]
    if hint in _SCALARS:
        return _scalar(data, hint, where)
    raise TypeError(f"the protocol has no reader for {hint!r}")  # a grader bug, found by tests


def _scalar(data: Any, hint: type, where: _Where) -> Any:
    kind = type(data)
    if kind is hint:
        return data
    if hint is float and kind is int:
        return float(data)
    raise where.wrong(f"not {_SCALARS[hint]}")


def _load_record(data: Any, cls: type, where: _Where) -> Any:
    if type(data) is not dict:
        raise where.wrong("not a JSON object")
    names = [f.name for f in fields(cls)]
    missing = [n for n in names if n not in data]
    extra = sorted(str(k)[:40] for k in data if k not in names)
    if missing:
        raise where.wrong(f"no {', '.join(missing[:3])}")
    if extra:
        raise where.wrong(f"unknown field(s) {', '.join(map(repr, extra[:3]))}")
    hints = _hints(cls)
    return cls(**{n: _load(data[n], hints[n], where.at(n)) for n in names})
