"""Requests spaced 50 ms apart with asyncio.sleep: all 15 still in flight together."""
import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    await asyncio.sleep(i / 20)
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    return await asyncio.gather(*(long_func(i) for i in range(15)))


if __name__ == "__main__":
    print(asyncio.run(main()))

