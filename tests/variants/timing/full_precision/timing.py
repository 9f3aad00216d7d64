"""The elapsed seconds printed with full float precision."""

from functools import wraps
from time import perf_counter


def async_timeit(func):
    @wraps(func)
    async def wrapper(*args, **kwargs):
        start = perf_counter()
        result = await func(*args, **kwargs)
        elapsed = perf_counter() - start
        print(f"{func.__name__}: {elapsed}")
        return result

    return wrapper
