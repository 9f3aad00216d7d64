import functools
import time
from datetime import datetime


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        print(f"[{datetime.now():%H:%M:%S.%f}] start")
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        print(f"Время выполнения {func.__name__}: {time.perf_counter() - start:.4f} секунд")
        return result
    return wrapper
