"""Correct, written unusually: time.monotonic, the line printed in `finally`."""

import asyncio
import time
from functools import wraps


def async_timeit(func):
    @wraps(func)
    async def timed(*args, **kwargs):
        began = time.monotonic()
        try:
            return await func(*args, **kwargs)
        finally:
            took = time.monotonic() - began
            print("Время выполнения %s: %.4f секунд" % (func.__name__, took))

    return timed


if __name__ == "__main__":

    @async_timeit
    async def nap(seconds):
        await asyncio.sleep(seconds)

    asyncio.run(nap(0.2))
