import functools
import time

_start = 0.0  # one clock for every call: each new call restarts it


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        global _start
        _start = time.perf_counter()
        result = await func(*args, **kwargs)
        print(f"Время выполнения {func.__name__}: {time.perf_counter() - _start:.4f} секунд")
        return result

    return wrapper
