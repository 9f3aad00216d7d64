import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    pass


async def main():
    pass


if __name__ == "__main__":
    print(asyncio.run(main()))

