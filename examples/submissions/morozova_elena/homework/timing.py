"""Домашка по асинхронности, задание 2."""

import functools
import time


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.time()
        try:
            return await func(*args, **kwargs)
        finally:
            print(f"[{func.__name__}] {time.time() - start:.3f} sec")

    return wrapper
