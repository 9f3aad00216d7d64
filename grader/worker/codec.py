"""[worker, test process] Values and exceptions as JSON, both ways across the worker's channel.

The worker sends what student code returned or raised; the trusted side
decodes it into plain data. Nothing here evaluates anything: a value the
codec does not know travels as an `Opaque` (its type name and repr), and an
exception as an `ErrorInfo`, so the trusted side never unpickles or imports
what student code made.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 40
MAX_ITEMS = 20_000  # values, all containers together: a huge result becomes an Opaque
REPR_CHARS = 300
ERROR_CHARS = 4000  # an exception's text as the worker sends it; the records cut it further
_CUT = re.compile(r"… \[([\d,]+) more characters cut\]$")


def cap(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with a marker saying how much was cut.

    Both ends cut: the worker before it sends (a 20 MB exception message must
    not become a 20 MB reply), the trusted records again; capping a capped text
    keeps one marker that counts everything cut.
    """
    text = str(text)
    if len(text) <= limit:
        return text
    already = 0
    marker = _CUT.search(text, len(text) - 64)
    if marker is not None:
        already = int(marker.group(1).replace(",", ""))
        text = text[:marker.start()]
    return f"{text[:limit]}… [{already + len(text) - limit:,} more characters cut]"


@dataclass(frozen=True)
class Opaque:
    """A value that has no JSON form: what it was, and how it printed."""

    type: str
    repr: str
    module: str = ""
    coroutine: str = ""  # the coroutine's __qualname__, when it is one

    def __repr__(self) -> str:
        return self.repr


@dataclass
class ErrorInfo:
    """An exception raised by student code, as data."""

    type: str  # the class name, e.g. ClientResponseError
    types: list[str] = field(default_factory=list)  # qualified names along the MRO
    message: str = ""
    where: str = ""  # "req.py, line 12": the deepest frame in the student's folder
    status: int | None = None  # ClientResponseError.status and friends
    code: str = ""  # repr of SystemExit.code
    lines: list[str] = field(default_factory=list)  # last traceback lines, for context

    def is_a(self, name: str) -> bool:
        """Whether the exception is an instance of a class called `name` (or qualified so)."""
        return any(t == name or t.rsplit(".", 1)[-1] == name for t in self.types)

    def __str__(self) -> str:
        return self.message

    def first_line(self, limit: int = 300) -> str:
        text = self.message.strip()
        return text.splitlines()[0][:limit] if text else ""

    def summary(self, limit: int = 300) -> str:
        """`KeyError: 'x' (req.py, line 7)`: how feedback names an exception."""
        text = self.first_line(limit)
        return (f"{self.type}{': ' + text if text else ''}"
                f"{f' ({self.where})' if self.where else ''}")


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_ITEMS

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


def encode(value: Any) -> Any:
    """A JSON-ready form of `value`; tuples, dicts and bytes are tagged to come back as such."""
    return _encode(value, 0, _Budget())


def _encode(value: Any, depth: int, budget: _Budget) -> Any:
    if not budget.take() or depth > MAX_DEPTH:
        return _opaque(value)
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$f": repr(value)}
    if kind is list:
        return [_encode(v, depth + 1, budget) for v in value]
    if kind is tuple:
        return {"$t": [_encode(v, depth + 1, budget) for v in value]}
    if kind is dict:
        return {"$d": [[_encode(k, depth + 1, budget), _encode(v, depth + 1, budget)]
                       for k, v in value.items()]}
    if kind is bytes:
        return {"$b": base64.b64encode(value[:1 << 20]).decode()}
    return _encode_subclass(value, depth, budget)


def _encode_subclass(value: Any, depth: int, budget: _Budget) -> Any:
    """A namedtuple, defaultdict, IntEnum... travels as its base type, as `isinstance` sees it.

    Converting runs the student's methods (iteration, __int__), so anything
    that goes wrong leaves the value opaque.
    """
    try:
        if isinstance(value, bool):
            return bool(value)
        bases: tuple[type[Any], ...] = (int, str, float, bytes, list, tuple, dict)
        for base in bases:
            if isinstance(value, base):
                plain = dict(value.items()) if base is dict else base(value)
                return _encode(plain, depth, budget)
    except Exception:  # noqa: BLE001 - student code in __iter__ & co
        pass
    return _opaque(value)


def _opaque(value: Any) -> dict[str, Any]:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a student's __repr__ may raise
        text = f"<{type(value).__name__} object>"
    text = " ".join(text.split())[:REPR_CHARS]
    coroutine = ""
    if type(value).__name__ == "coroutine":
        coroutine = str(getattr(value, "__qualname__", ""))
    return {"$o": {"type": type(value).__name__, "repr": text,
                   "module": type(value).__module__, "coroutine": coroutine}}


def decode(data: Any) -> Any:
    """The value `encode` described; unknown objects become `Opaque`."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "$t" in data:
        return tuple(decode(v) for v in data["$t"])
    if "$d" in data:
        out = {}
        for key, value in data["$d"]:
            key = decode(key)
            try:
                out[key] = decode(value)
            except TypeError:  # an unhashable key (a list): keep it readable
                out[repr(key)] = decode(value)
        return out
    if "$b" in data:
        return base64.b64decode(data["$b"])
    if "$f" in data:
        return float(data["$f"])
    if "$o" in data:
        fields = data["$o"]
        return Opaque(str(fields.get("type", "")), str(fields.get("repr", "")),
                      str(fields.get("module", "")), str(fields.get("coroutine", "")))
    return {k: decode(v) for k, v in data.items()}


def dumps(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, ensure_ascii=False) + "\n").encode()
