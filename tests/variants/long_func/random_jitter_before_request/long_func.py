"""Each call waits a random 0-100 ms (asyncio.sleep) before its request."""
import asyncio
import random

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session=None):
    await asyncio.sleep(random.random() / 10)
    print(i)
    if session is None:
        async with aiohttp.ClientSession() as session:
            async with session.get(URL) as response:
                return response.status
    async with session.get(URL) as response:
        return response.status


async def main():
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(long_func(i, session) for i in range(15)))


if __name__ == "__main__":
    print(asyncio.run(main()))

