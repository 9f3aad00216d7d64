"""Task 2, left half-written: a syntax error, so timing.py cannot be imported."""

import functools
import time


def async_timeit(func)
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        print(f"Время выполнения {func.__name__}: {time.perf_counter() - start:.4f} секунд")
        return result

    return wrapper
