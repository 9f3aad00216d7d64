"""A module-level Semaphore(15) and Lock, created at import, used in every call."""
import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"
LIMIT = asyncio.Semaphore(15)
PRINTING = asyncio.Lock()


async def long_func(i):
    async with PRINTING:
        print(i)
        await asyncio.sleep(0)  # the others wait for the lock here
    async with LIMIT, aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    return await asyncio.gather(*(long_func(i) for i in range(15)))


if __name__ == "__main__":
    print(asyncio.run(main()))

