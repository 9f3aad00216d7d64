"""Headers and raise_for_status set on the session; json() without a content-type check."""

import asyncio

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    if response_type != "json" and response_type != "text":
        raise ValueError("response_type must be 'json' or 'text'")
    async with aiohttp.ClientSession(headers=headers, raise_for_status=True) as session:
        async with session.get(url, params=params) as resp:
            if response_type == "json":
                return await resp.json(content_type=None)
            return await resp.text()


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
