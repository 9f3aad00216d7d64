import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    tasks = []
    for i in range(15):
        print(i)
        tasks.append(long_func(i))
    return await asyncio.gather(*tasks)


if __name__ == "__main__":
    print(asyncio.run(main()))
