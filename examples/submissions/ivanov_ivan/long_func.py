import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as resp:
            return resp.status


async def main():
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(long_func(i)) for i in range(15)]
    return [t.result() for t in tasks]


if __name__ == "__main__":
    print(asyncio.run(main()))
