import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session=None):
    print(i)
    if session is None:
        session = aiohttp.ClientSession()
    response = await session.get(URL)
    return response.status


async def main():
    session = aiohttp.ClientSession()
    return await asyncio.gather(*(long_func(i, session) for i in range(15)))


if __name__ == "__main__":
    print(asyncio.run(main()))
