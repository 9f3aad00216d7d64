import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session):
    print(i)
    async with session.get(URL) as response:
        return response.status


async def main():
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(long_func(i, session) for i in range(15)))


if __name__ == "__main__":
    print(asyncio.run(main()))
