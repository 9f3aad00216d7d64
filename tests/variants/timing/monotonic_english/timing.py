"""time.monotonic and an English message: `fetch took 0.2013 s`."""

import functools
import time


def async_timeit(func):
    @functools.wraps(func)
    async def timed(*args, **kwargs):
        began = time.monotonic()
        value = await func(*args, **kwargs)
        print(f"{func.__name__} took {time.monotonic() - began:.4f} s")
        return value

    return timed
