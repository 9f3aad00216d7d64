"""Correct: tasks started one by one with a random pause (0-20 ms) between starts."""

import asyncio
import random

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    tasks = []
    for i in range(15):
        tasks.append(asyncio.create_task(long_func(i)))
        await asyncio.sleep(random.random() / 50)
    return list(await asyncio.gather(*tasks))


if __name__ == "__main__":
    print(asyncio.run(main()))
