import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, limit=None):
    if limit is None:
        limit = asyncio.Semaphore(1)
    async with limit:  # не больше 5 запросов сразу, чтобы не нагружать сервер
        print(i)
        async with aiohttp.ClientSession() as session:
            async with session.get(URL) as response:
                return response.status


async def main():
    limit = asyncio.Semaphore(5)
    return await asyncio.gather(*[long_func(i, limit) for i in range(15)])


if __name__ == "__main__":
    print(asyncio.run(main()))
