import functools
import time


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        elapsed = (time.perf_counter() - start) * 1000
        print(f"Время выполнения {func.__name__}: {elapsed:.4f} секунд")
        return result
    return wrapper
