"""The number is logged through a handler on sys.stdout set up at import."""
import asyncio
import logging
import sys

import aiohttp

URL = "https://www.gosuslugi.ru/"

log = logging.getLogger("long_func")
_handler = logging.StreamHandler(sys.stdout)
_handler.setFormatter(logging.Formatter("%(message)s"))
log.addHandler(_handler)
log.setLevel(logging.INFO)


async def long_func(i):
    log.info("%d", i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(long_func(i)) for i in range(15)]
    return [t.result() for t in tasks]


if __name__ == "__main__":
    print(asyncio.run(main()))

