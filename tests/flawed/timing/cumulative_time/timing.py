import functools
import time


def async_timeit(func):
    total = 0.0

    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        nonlocal total
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        total += time.perf_counter() - start
        print(f"Время выполнения {func.__name__}: {total:.4f} секунд")
        return result

    return wrapper
