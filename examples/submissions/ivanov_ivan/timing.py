import time
from functools import wraps


def async_timeit(func):
    @wraps(func)
    async def wrapper(*args, **kwargs):
        t0 = time.monotonic()
        res = await func(*args, **kwargs)
        print(f"{func.__name__} took {time.monotonic() - t0:.4f} s")
        return res

    return wrapper
