import functools
import time


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        print(f"Время выполнения: {time.perf_counter() - start:.4f} секунд")
        return result
    return wrapper
