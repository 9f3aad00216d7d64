import functools
import time


def async_timeit(func):
    start = time.perf_counter()  # when the function was decorated, not called

    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        result = await func(*args, **kwargs)
        print(f"Время выполнения {func.__name__}: {time.perf_counter() - start:.4f} секунд")
        return result

    return wrapper
