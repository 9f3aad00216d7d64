import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session=None):
    if session is None:
        async with aiohttp.ClientSession() as own:
            return await long_func(i, own)
    print(i)
    async with session.get(URL) as response:
        return response.status


async def main():
    statuses = []
    async with aiohttp.ClientSession() as session:
        for start in range(0, 15, 5):  # по 5 запросов за раз
            statuses += await asyncio.gather(*(long_func(i, session) for i in range(start, start + 5)))
    return statuses


if __name__ == "__main__":
    print(asyncio.run(main()))

