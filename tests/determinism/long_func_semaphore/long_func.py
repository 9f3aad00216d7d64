"""Correct: one shared session and an asyncio.Semaphore(15) around every call."""

import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session=None):
    print(i)
    if session is None:
        async with aiohttp.ClientSession() as own_session:
            async with own_session.get(URL) as response:
                return response.status
    async with session.get(URL) as response:
        return response.status


async def main():
    limit = asyncio.Semaphore(15)

    async def limited(i, session):
        async with limit:
            return await long_func(i, session)

    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(limited(i, session)) for i in range(15)]
        return [await task for task in tasks]


if __name__ == "__main__":
    print(asyncio.run(main()))
