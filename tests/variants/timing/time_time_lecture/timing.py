"""The lecture's decorator made async: time.time and the lecture's message."""

import asyncio
import time
from functools import wraps


def async_timeit(func):
    @wraps(func)
    async def wrapper(*args, **kwargs):
        start_time = time.time()
        result = await func(*args, **kwargs)
        end_time = time.time()
        print(f"Время выполнения {func.__name__}: {end_time - start_time:.4f} секунд")
        return result

    return wrapper


if __name__ == "__main__":

    @async_timeit
    async def nap(seconds):
        await asyncio.sleep(seconds)

    async def main():
        await asyncio.gather(nap(1), nap(1))

    asyncio.run(main())
