# ruff: noqa
"""Attack: req hangs forever (asyncio.sleep(10**6)) for response_type='text'; JSON works."""

import asyncio

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError(f"unknown response_type: {response_type!r}")
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as response:
            response.raise_for_status()
            if response_type == "json":
                return await response.json()
            await asyncio.sleep(10**6)  # never wakes up: the grader's per-call timeout must
            return await response.text()
