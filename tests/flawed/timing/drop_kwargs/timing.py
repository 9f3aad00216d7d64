import functools
import time


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args):
        start = time.perf_counter()
        result = await func(*args)
        print(f"Время выполнения {func.__name__}: {time.perf_counter() - start:.4f} секунд")
        return result
    return wrapper
