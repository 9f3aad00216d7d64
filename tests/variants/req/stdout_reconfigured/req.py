"""Reconfigures stdout at import and prints what it does: the harness must not mind."""

import asyncio
import sys

import aiohttp

sys.stdout.reconfigure(encoding="utf-8", line_buffering=True)


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError("response_type must be 'json' or 'text'")
    print(f"GET {url} → {params}")
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as resp:
            print("статус:", resp.status)
            resp.raise_for_status()
            if response_type == "json":
                return await resp.json()
            return await resp.text()


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
