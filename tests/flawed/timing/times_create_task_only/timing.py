import asyncio
import functools
import time


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        task = asyncio.create_task(func(*args, **kwargs))
        print(f"Время выполнения {func.__name__}: {time.perf_counter() - start:.4f} секунд")
        return await task

    return wrapper
