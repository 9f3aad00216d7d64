"""Sequential calls behind a burst of 15 concurrent requests to a page the site does not serve."""
import asyncio
import sys

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session=None):
    if session is None:
        async with aiohttp.ClientSession() as own:
            return await long_func(i, own)
    print(i)
    async with session.get(URL) as response:
        return response.status


async def main():
    async with aiohttp.ClientSession() as session:
        async def decoy(n):
            async with session.get(f"{URL}help/{n}") as response:
                return response.status

        await asyncio.gather(*(decoy(n) for n in range(15)))
        return [await long_func(i, session) for i in range(15)]


if __name__ == "__main__":
    print(asyncio.run(main()))

