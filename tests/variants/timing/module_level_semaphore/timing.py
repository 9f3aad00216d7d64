"""A module-level asyncio.Semaphore around the call, and a demo under __main__."""

import asyncio
import functools
import time

LIMIT = asyncio.Semaphore(50)


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        async with LIMIT:
            start = time.perf_counter()
            result = await func(*args, **kwargs)
            elapsed = time.perf_counter() - start
        print(f"Время выполнения {func.__name__}: {elapsed:.4f} секунд")
        return result

    return wrapper


@async_timeit
async def nap(seconds):
    await asyncio.sleep(seconds)
    return seconds


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(asyncio.gather(nap(0.2), nap(0.2)), 5))
