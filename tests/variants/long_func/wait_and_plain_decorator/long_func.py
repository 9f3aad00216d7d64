"""asyncio.wait on tasks; long_func wrapped by a decorator without functools.wraps."""

import asyncio
import time

import aiohttp

URL = "https://www.gosuslugi.ru/"


def timed(func):
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        print(f"{func.__name__}{args}: {time.perf_counter() - start:.3f} s")
        return result

    return wrapper


@timed
async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    tasks = [asyncio.ensure_future(long_func(i)) for i in range(15)]
    await asyncio.wait(tasks)
    return [task.result() for task in tasks]


if __name__ == "__main__":
    print(asyncio.run(main()))
