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
    async with aiohttp.ClientSession() as session:
        async def ping():
            async with session.get(URL) as response:
                return response.status
        await asyncio.gather(*(ping() for _ in range(15)))  # 15 «лишних» запросов сразу
        return [await long_func(i, session) for i in range(15)]


if __name__ == "__main__":
    print(asyncio.run(main()))

