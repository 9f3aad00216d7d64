import asyncio
import functools
import time


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.time()
        task = asyncio.ensure_future(func(*args, **kwargs))
        # ждём, пока задача не выполнится
        while not task.done():
            await asyncio.sleep(0)
            time.sleep(0.005)
        end = time.time()
        print(f"Время выполнения {func.__name__}: {end - start:.4f} секунд")
        return task.result()
    return wrapper
