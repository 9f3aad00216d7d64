import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    return 200


async def main():
    return []


if __name__ == "__main__":
    print(asyncio.run(main()))

