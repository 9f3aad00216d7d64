"""Task 1 with asyncio.TaskGroup: every call opens a session of its own."""

import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i: int) -> int:
    print(i)
    async with aiohttp.ClientSession() as session, session.get(URL) as response:
        return response.status


async def main() -> list[int]:
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(long_func(i)) for i in range(15)]
    return [task.result() for task in tasks]


if __name__ == "__main__":
    print(asyncio.run(main()))
