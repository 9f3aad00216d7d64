import asyncio
import functools
import time

LOCK = asyncio.Lock()  # one call at a time


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        async with LOCK:
            start = time.perf_counter()
            result = await func(*args, **kwargs)
            print(f"Время выполнения {func.__name__}: {time.perf_counter() - start:.4f} секунд")
        return result

    return wrapper
