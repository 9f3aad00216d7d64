import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    statuses = []
    for done in asyncio.as_completed([long_func(i) for i in range(15)]):
        statuses.append(await done)
    return statuses[::-1]  # «последний ответ пришёл от первого запроса»


if __name__ == "__main__":
    print(asyncio.run(main()))

