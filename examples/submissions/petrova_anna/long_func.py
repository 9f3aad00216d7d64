import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session=None):
    print(i)
    if session is None:
        async with aiohttp.ClientSession() as new_session:
            async with new_session.get(URL) as response:
                return response.status
    async with session.get(URL) as response:
        return response.status


async def main():
    async with aiohttp.ClientSession() as session:
        statuses = await asyncio.gather(*[long_func(i, session) for i in range(15)])
    return list(statuses)


if __name__ == "__main__":
    asyncio.run(main())
