import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:  # «прогрев» соединения
            await response.read()
        async with session.get(URL) as response:
            return response.status


async def main():
    return [await long_func(i) for i in range(15)]


if __name__ == "__main__":
    print(asyncio.run(main()))
