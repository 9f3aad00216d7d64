import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def fetch():
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


def long_func(i):
    print(i)
    return asyncio.run(fetch())


async def main():
    return [long_func(i) for i in range(15)]


if __name__ == "__main__":
    print(asyncio.run(main()))
