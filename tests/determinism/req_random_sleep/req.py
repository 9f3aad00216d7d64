"""Correct: a tiny random pause (0-10 ms) before the request."""

import asyncio
import random

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError(f"unknown response_type: {response_type!r}")
    await asyncio.sleep(random.random() / 100)
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as response:
            response.raise_for_status()
            if response_type == "json":
                return await response.json()
            return await response.text()


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text"))[:200])
