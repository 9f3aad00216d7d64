import functools
import time


def async_timeit(func):
    start = None

    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        nonlocal start
        if start is None:
            start = time.perf_counter()  # set once, at the first call
        result = await func(*args, **kwargs)
        print(f"Время выполнения {func.__name__}: {time.perf_counter() - start:.4f} секунд")
        return result

    return wrapper
