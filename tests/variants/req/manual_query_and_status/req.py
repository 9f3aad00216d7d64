"""Builds the query string by hand and raises ClientResponseError itself."""

import asyncio
from urllib.parse import urlencode

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError("response_type: 'json' or 'text'")
    if params:
        url = f"{url}?{urlencode(params)}"
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers=headers) as resp:
            if resp.status >= 400:
                raise aiohttp.ClientResponseError(
                    resp.request_info, resp.history, status=resp.status, message=resp.reason or ""
                )
            body = await resp.read()
            if response_type == "text":
                return body.decode(resp.get_encoding())
            return await resp.json()


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
