"""Builds the URL with yarl (update_query) and checks the status by hand, any 2xx is fine."""

import asyncio

import aiohttp
from yarl import URL


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError("response_type must be 'json' or 'text'")
    target = URL(url).update_query(params or {})
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(target) as resp:
            if not resp.ok:
                resp.raise_for_status()
            return await (resp.json() if response_type == "json" else resp.text())


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
