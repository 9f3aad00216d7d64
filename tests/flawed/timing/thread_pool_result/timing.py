import asyncio
import concurrent.futures
import functools
import time


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor() as pool:
            result = pool.submit(asyncio.run, func(*args, **kwargs)).result()
        print(f"Время выполнения {func.__name__}: {time.perf_counter() - start:.4f} секунд")
        return result
    return wrapper
