"""Task 3: one asynchronous GET request returning JSON or text."""

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp

RESPONSE_TYPES = ("json", "text")


async def req(
    url: str,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    response_type: str = "json",
) -> Any:
    """Send a GET to `url`; return the parsed JSON body or the body as text.

    Raises ValueError for an unknown `response_type` (before any request) and
    aiohttp.ClientResponseError for a status of 400 or above.
    """
    if response_type not in RESPONSE_TYPES:
        raise ValueError(f"response_type must be one of {RESPONSE_TYPES}, not {response_type!r}")
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as response:
            response.raise_for_status()
            if response_type == "json":
                return await response.json()
            return await response.text()


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text"))[:200])
