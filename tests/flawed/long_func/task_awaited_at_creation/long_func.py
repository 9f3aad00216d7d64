import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    results = []
    for i in range(15):
        task = asyncio.create_task(long_func(i))
        results.append(await task)
    return results


if __name__ == "__main__":
    print(asyncio.run(main()))
