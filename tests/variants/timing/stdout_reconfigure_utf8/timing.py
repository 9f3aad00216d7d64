"""sys.stdout switched to UTF-8 at import, as Windows users are told to do."""

import functools
import sys
import time

sys.stdout.reconfigure(encoding="utf-8")


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        print(f"⏱ Время выполнения {func.__name__}: {time.perf_counter() - start:.4f} секунд")
        return result

    return wrapper
