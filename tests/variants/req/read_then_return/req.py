"""Reads the body into a variable inside the blocks and returns it after they close."""

import asyncio

import aiohttp


async def req(url: str, params: dict | None = None, headers: dict | None = None,
              response_type: str = "json"):
    if response_type == "json":
        reader = "json"
    elif response_type == "text":
        reader = "text"
    else:
        raise ValueError(response_type)
    async with aiohttp.ClientSession() as session:
        response = await session.get(url, params=params, headers=headers)
        response.raise_for_status()
        data = await getattr(response, reader)()
        response.release()
    return data


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
