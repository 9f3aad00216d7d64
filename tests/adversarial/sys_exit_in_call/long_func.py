# ruff: noqa
"""Attack: main() calls sys.exit(0) inside the running event loop; long_func is honest."""

import asyncio
import sys

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session=None):
    if session is None:
        async with aiohttp.ClientSession() as own_session:
            return await long_func(i, own_session)
    print(i)
    async with session.get(URL) as response:
        return response.status


async def main():
    print("===== 9 passed in 0.01s =====")
    await asyncio.sleep(0)
    sys.exit(0)
