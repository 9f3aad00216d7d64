import asyncio
import functools
import time


def async_timeit(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        start = time.time()
        result = asyncio.run(func(*args, **kwargs))
        print(f"Время выполнения {func.__name__}: {time.time() - start:.4f} секунд")
        return result
    return wrapper
