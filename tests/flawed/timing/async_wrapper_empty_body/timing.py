import functools


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        pass

    return wrapper
