import functools
from time import perf_counter


def async_timeit(func):
    @functools.wraps(func)
    async def timed(*args, **kwargs):
        begin = perf_counter()
        value = await func(*args, **kwargs)
        print(f"Время выполнения {func.__name__}: {perf_counter() - begin:.4f} секунд")
        return value

    return timed
