"""[test process] The worker's private channel: an inherited socket pair, or a proven loopback link.

At every level but `process` the worker inherits its end of a socket pair
(`pass_fds`). Where no descriptor can be inherited (Windows; the `process`
level everywhere, so the path is tested on Linux too) the trusted side
listens on a loopback port of its own and the worker connects to it, sending
first a random token it was given at launch: a connection that does not
start with the token is closed and the trusted side waits on, so no other
local process can speak for the worker.
"""

from __future__ import annotations

import hmac
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

_ACCEPT_SLICE = 0.2  # seconds between two looks at whether the worker is still alive


class Channel:
    """The trusted end of a socket pair; the worker's end is inherited."""

    def __init__(self) -> None:
        self._ours, self._theirs = socket.socketpair()

    def launch_fields(self) -> dict[str, Any]:
        """What the worker's `Launch` record says of its channel."""
        return {"channel": self._theirs.fileno(), "port": 0, "token": ""}

    @property
    def pass_fds(self) -> list[int]:
        return [self._theirs.fileno()]

    def started(self) -> None:
        """The worker holds its end now: ours closes, so its death closes the channel."""
        self._theirs.close()

    def connected(self, deadline: float, gone: Callable[[], bool]) -> socket.socket:
        """The trusted end, connected to the worker."""
        return self._ours

    def close(self) -> None:
        self._theirs.close()
        self._ours.close()


class LoopbackChannel(Channel):
    """A loopback port the worker connects to, proving itself with a token (`process` level)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._token = secrets.token_hex(16)

    def launch_fields(self) -> dict[str, Any]:
        return {"channel": -1, "port": self._listener.getsockname()[1], "token": self._token}

    @property
    def pass_fds(self) -> list[int]:
        return []

    def started(self) -> None:
        pass

    def connected(self, deadline: float, gone: Callable[[], bool]) -> socket.socket:
        """The first connection that sends the token; TimeoutError, or OSError if it died."""
        try:
            while True:
                if gone():
                    raise ConnectionError("the worker ended before it connected")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                self._listener.settimeout(min(left, _ACCEPT_SLICE))
                try:
                    conn, _address = self._listener.accept()
                except TimeoutError:
                    continue
                if self._proven(conn, deadline):
                    return conn
                conn.close()
        finally:
            self._listener.close()

    def _proven(self, conn: socket.socket, deadline: float) -> bool:
        """Whether `conn` starts with the token and its newline (read byte-exact, bounded)."""
        expected = self._token.encode() + b"\n"
        got = b""
        try:
            while len(got) < len(expected):
                conn.settimeout(max(deadline - time.monotonic(), 0.01))
                chunk = conn.recv(len(expected) - len(got))
                if not chunk:
                    return False
                got += chunk
        except OSError:
            return False
        conn.settimeout(None)
        return hmac.compare_digest(got, expected)

    def close(self) -> None:
        self._listener.close()


def for_level(portable: bool) -> Channel:
    """The channel this level can give a worker."""
    return LoopbackChannel() if portable else Channel()
