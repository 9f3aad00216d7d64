"""Flawed: statuses appended in completion order, so the list is not ordered by i.

Whatever the hidden tests make of it, they must make the same of it every run.
"""

import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session=None):
    print(i)
    if session is None:
        async with aiohttp.ClientSession() as session:
            return await long_func_with(session)
    return await long_func_with(session)


async def long_func_with(session):
    async with session.get(URL) as response:
        return response.status


async def main():
    statuses = []
    async with aiohttp.ClientSession() as session:
        for next_one in asyncio.as_completed([long_func(i, session) for i in range(15)]):
            statuses.append(await next_one)
    return statuses


if __name__ == "__main__":
    print(asyncio.run(main()))
