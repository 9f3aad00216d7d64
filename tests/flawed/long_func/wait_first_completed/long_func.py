import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    tasks = [asyncio.create_task(long_func(i)) for i in range(15)]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    return [task.result() if task.done() else None for task in tasks]


if __name__ == "__main__":
    print(asyncio.run(main()))

