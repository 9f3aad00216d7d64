# ruff: noqa
"""Attack: an infinite loop at module level, burning the CPU; req below is never defined."""

import aiohttp

spins = 0
while True:
    spins += 1


async def req(url, params=None, headers=None, response_type="json"):
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as response:
            return await response.json()
