"""Each request under asyncio.wait_for (a task of its own on Python 3.11)."""
import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def fetch(session):
    async with session.get(URL) as response:
        return response.status


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        return await asyncio.wait_for(fetch(session), timeout=30)


async def main():
    return await asyncio.gather(*(long_func(i) for i in range(15)))


if __name__ == "__main__":
    print(asyncio.run(main()))

