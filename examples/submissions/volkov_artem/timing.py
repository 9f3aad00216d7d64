import time
from functools import wraps


def async_timeit(func):
    @wraps(func)
    async def wrapper(*args, **kwargs):
        started = time.perf_counter()
        result = await func(*args, **kwargs)
        elapsed = time.perf_counter() - started
        print(f"Время выполнения {func.__name__}: {elapsed:.4f} секунд")
        return result

    return wrapper
