"""aiohttp.request(): a one-off session that the context manager closes itself."""

import asyncio

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in {"json", "text"}:
        raise ValueError(f"unknown response_type: {response_type!r}")
    async with aiohttp.request("GET", url, params=params, headers=headers) as resp:
        resp.raise_for_status()
        if response_type == "text":
            return await resp.text()
        return await resp.json()


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
