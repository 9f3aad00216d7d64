"""Results gathered with as_completed, each put at its own index."""

import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    statuses = [0] * 15

    async def run(i):
        statuses[i] = await long_func(i)

    for done in asyncio.as_completed([run(i) for i in range(15)]):
        await done
    return statuses


if __name__ == "__main__":
    print(asyncio.run(main()))
