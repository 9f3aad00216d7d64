"""Sends look-alike requests elsewhere (with the params and headers) and returns a constant."""

import asyncio

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError("response_type must be 'json' or 'text'")
    async with aiohttp.ClientSession() as session:
        for decoy in ("https://decoy.example/", url + "/../decoy", url + "x"):
            async with session.get(decoy, params=params, headers=headers) as resp:
                await resp.read()
    return {} if response_type == "json" else ""


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
