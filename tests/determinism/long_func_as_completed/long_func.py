"""Correct: results collected in completion order (as_completed), then sorted by i."""

import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def numbered(i):
    return i, await long_func(i)


async def main():
    finished = []
    for next_one in asyncio.as_completed([numbered(i) for i in range(15)]):
        finished.append(await next_one)
    finished.sort()
    return [status for _, status in finished]


if __name__ == "__main__":
    print(asyncio.run(main()))
