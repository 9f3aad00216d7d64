"""The line written as bytes to sys.stdout.buffer."""

import functools
import sys
import time


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        seconds = f"{time.perf_counter() - start:.4f}"
        sys.stdout.flush()
        sys.stdout.buffer.write(f"{func.__name__} — {seconds} с\n".encode())
        sys.stdout.buffer.flush()
        return result

    return wrapper
