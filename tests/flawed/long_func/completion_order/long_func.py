import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    statuses = []
    for coro in asyncio.as_completed([long_func(i) for i in range(15)]):
        statuses.append(await coro)
    return statuses


if __name__ == "__main__":
    print(asyncio.run(main()))
