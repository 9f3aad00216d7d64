"""The loop's clock, and the time printed even when the call raises."""

import asyncio
import functools


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            return await func(*args, **kwargs)
        finally:
            print(f"Время выполнения {func.__name__}: {loop.time() - start:.4f} секунд")

    return wrapper
