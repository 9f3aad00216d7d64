"""Correct: each call waits a random 0-100 ms before its request."""

import asyncio
import random

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session=None):
    print(i)
    await asyncio.sleep(random.random() / 10)
    if session is None:
        async with aiohttp.ClientSession() as own_session:
            async with own_session.get(URL) as response:
                return response.status
    async with session.get(URL) as response:
        return response.status


async def main():
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(long_func(i, session) for i in range(15)))


if __name__ == "__main__":
    print(asyncio.run(main()))
