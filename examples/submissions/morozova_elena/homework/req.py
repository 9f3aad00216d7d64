"""Домашка по асинхронности, задание 3."""

import asyncio

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError("response_type must be 'json' or 'text'")
    session = aiohttp.ClientSession()
    try:
        async with session.get(url, params=params, headers=headers) as response:
            response.raise_for_status()
            if response_type == "json":
                return await response.json()
            return await response.text()
    finally:
        await session.close()


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
