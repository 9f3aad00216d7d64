import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session=None):
    print(i)
    if session is None:
        async with aiohttp.ClientSession() as session:
            async with session.get(URL) as resp:
                return resp.status
    async with session.get(URL) as resp:
        return resp.status


async def main():
    async with aiohttp.ClientSession() as session:
        return [await long_func(i, session) for i in range(15)]


if __name__ == "__main__":
    asyncio.run(main())
