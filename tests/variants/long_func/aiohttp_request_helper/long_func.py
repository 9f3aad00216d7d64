"""aiohttp.request (no explicit session) in a helper; main wraps each call once more."""

import asyncio
import sys

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def fetch_status(url: str) -> int:
    async with aiohttp.request("GET", url) as response:
        return response.status


async def long_func(i):
    sys.stdout.write(f"{i}\n")
    return await fetch_status(URL)


async def main():
    async def one(k):
        return await long_func(k)

    return list(await asyncio.gather(*map(one, range(15))))


if __name__ == "__main__":
    print(asyncio.run(main()))
