import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return 200 if response.ok else response.status  # «успех — это 200»


async def main():
    return await asyncio.gather(*(long_func(i) for i in range(15)))


if __name__ == "__main__":
    print(asyncio.run(main()))

