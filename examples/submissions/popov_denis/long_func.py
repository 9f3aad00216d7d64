import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session=None):
    print(i)
    if session is not None:
        async with session.get(URL) as r:
            return r.status
    async with aiohttp.ClientSession() as s:
        async with s.get(URL) as r:
            return r.status


async def main():
    async with aiohttp.ClientSession() as session:
        tasks = [long_func(i, session) for i in range(15)]
        return await asyncio.gather(*tasks)


if __name__ == "__main__":
    print(asyncio.run(main()))
