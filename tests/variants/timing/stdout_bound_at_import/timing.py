"""`from sys import stdout` at import, written to in the wrapper."""

import functools
import time
from sys import stdout


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return await func(*args, **kwargs)
        finally:
            stdout.write(f"{func.__name__}: {time.perf_counter() - start:.3f} s\n")
            stdout.flush()

    return wrapper
