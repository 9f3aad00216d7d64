"""Домашка по асинхронности, задание 1."""

import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i: int) -> int:
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main() -> list[int]:
    tasks = []
    for i in range(15):
        tasks.append(asyncio.create_task(long_func(i)))
    statuses = []
    for task in tasks:
        statuses.append(await task)
    return statuses


if __name__ == "__main__":
    print(asyncio.run(main()))
