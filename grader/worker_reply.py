"""[test process] Reading the worker's lines on the trusted side: bounded, linear, never trusted.

The worker shares its process with student code, which can find the
channel's file descriptor and write anything to it. So each line is capped in
size (a longer one is refused once `MAX_REPLY_BYTES` have arrived, before the
rest is read) and in nesting depth, each byte is scanned for the end of line
once, and whatever is wrong with a line is a `ReplyRefused`: the worker's
fault, never the grader's.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterable
from typing import Any

from grader.i18n import _
from grader.worker.codec import MAX_DEPTH

MAX_REPLY_BYTES = 2 << 20  # one line; an honest reply is far smaller (codec caps bytes at 1 MiB)
# The codec nests a value at most MAX_DEPTH deep, a dict as three JSON levels ({"$d": [[k, v]]}),
# inside a short envelope ({"reply": {"target": [{"args": ...}]}}: protocol.py).
MAX_REPLY_DEPTH = 3 * MAX_DEPTH + 16
_CHUNK = 1 << 16


class ReplyRefused(Exception):
    """A line from the worker that the trusted side will not use; the message says why."""


class LineReader:
    """Lines from a socket, at most `limit` bytes each, each byte scanned once."""

    def __init__(self, sock: socket.socket, limit: int = MAX_REPLY_BYTES) -> None:
        self.sock = sock
        self.limit = limit
        self._buffer = bytearray()
        self._scanned = 0  # bytes of _buffer already known to hold no newline

    def read_line(self, deadline: float) -> bytes:
        """The next line (without its newline); TimeoutError past `deadline` (time.monotonic)."""
        while True:
            end = self._buffer.find(b"\n", self._scanned)
            if end >= 0:
                if end > self.limit:
                    raise self._too_long()
                line = bytes(self._buffer[:end])
                del self._buffer[:end + 1]  # O(1): bytearray drops a prefix in place
                self._scanned = 0
                return line
            self._scanned = len(self._buffer)
            if self._scanned > self.limit:
                raise self._too_long()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            # never more than limit + 1 bytes held: a huge line is refused, not stored
            chunk = self.sock.recv(min(_CHUNK, self.limit + 1 - self._scanned))
            if not chunk:
                raise ConnectionResetError("the worker closed its channel")
            self._buffer += chunk

    def _too_long(self) -> ReplyRefused:
        self._buffer = bytearray()  # the channel is out of step from here: the link closes it
        return ReplyRefused(_("a line of more than {mib} MiB").format(mib=self.limit >> 20))


def parse(line: bytes) -> dict[str, Any]:
    """One line as a JSON object nested at most MAX_REPLY_DEPTH deep, or ReplyRefused."""
    try:
        data = json.loads(line)
    except RecursionError:  # the C parser stops at Python's recursion limit: cheap
        raise ReplyRefused(_("a line nested more than {depth} levels deep").format(
            depth=MAX_REPLY_DEPTH)) from None
    except ValueError:
        raise ReplyRefused(_("a line that is not JSON")) from None
    if not isinstance(data, dict):
        raise ReplyRefused(_("a line that is not a JSON object"))
    if depth(data, MAX_REPLY_DEPTH) > MAX_REPLY_DEPTH:
        raise ReplyRefused(_("a line nested more than {depth} levels deep").format(
            depth=MAX_REPLY_DEPTH))
    return data


def depth(data: Any, stop: int) -> int:
    """How deep JSON containers nest in `data` (without recursion); stops past `stop`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        children: Iterable[Any]
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, level)
        if deepest > stop:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest
