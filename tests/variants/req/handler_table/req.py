"""A table of readers keyed by response_type; the lookup doubles as validation."""

import asyncio

import aiohttp

READERS = {
    "json": aiohttp.ClientResponse.json,
    "text": aiohttp.ClientResponse.text,
}


async def req(url, params=None, headers=None, response_type="json"):
    try:
        read = READERS[response_type]
    except (KeyError, TypeError):
        raise ValueError(f"response_type must be one of {sorted(READERS)}") from None
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as resp:
            resp.raise_for_status()
            return await read(resp)


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
