import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    for i in range(15):
        asyncio.create_task(long_func(i))


if __name__ == "__main__":
    asyncio.run(main())
