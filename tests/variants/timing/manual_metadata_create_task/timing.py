"""Metadata copied by hand, the call run as a task, two digits, sys.stdout.write."""

import asyncio
import sys
import time


def async_timeit(func):
    async def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        result = await asyncio.create_task(func(*args, **kwargs))
        t1 = time.perf_counter()
        sys.stdout.write(f"Функция {func.__name__} выполнялась {t1 - t0:.2f} сек.\n")
        return result

    wrapper.__name__ = func.__name__
    wrapper.__qualname__ = func.__qualname__
    wrapper.__doc__ = func.__doc__
    wrapper.__wrapped__ = func
    return wrapper
