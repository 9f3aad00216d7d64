import functools
import time


class async_timeit:
    def __init__(self, func):
        functools.update_wrapper(self, func)
        self.func = func

    async def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        result = await self.func(*args, **kwargs)
        print(f"Время выполнения {self.func.__name__}: {time.perf_counter() - start:.4f} секунд")
        return result
