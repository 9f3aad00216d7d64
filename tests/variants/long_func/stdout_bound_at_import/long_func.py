"""from sys import stdout: a reference to stdout taken at import writes the numbers."""
import asyncio
from sys import stdout

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    stdout.write(f"{i}\n")
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    return list(await asyncio.gather(*[long_func(i) for i in range(15)]))


if __name__ == "__main__":
    print(asyncio.run(main()))

