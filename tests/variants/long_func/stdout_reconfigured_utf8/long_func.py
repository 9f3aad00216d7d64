"""sys.stdout.reconfigure(encoding="utf-8") at import, as Windows users are told to do."""
import asyncio
import sys

import aiohttp

sys.stdout.reconfigure(encoding="utf-8")

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session, session.get(URL) as response:
        return response.status


async def main():
    print("Запускаю 15 запросов…")
    return await asyncio.gather(*(long_func(i) for i in range(15)))


if __name__ == "__main__":
    print(asyncio.run(main()))

