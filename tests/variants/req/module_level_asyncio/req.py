"""Module-level asyncio objects (a Semaphore, a timeout) and asyncio.run of a main under __main__."""

import asyncio

import aiohttp

LIMIT = asyncio.Semaphore(4)  # at most 4 requests at once from this module
TIMEOUT = aiohttp.ClientTimeout(total=30)
READERS = {"json": aiohttp.ClientResponse.json, "text": aiohttp.ClientResponse.text}


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in READERS:
        raise ValueError(f"response_type must be one of {sorted(READERS)}")
    async with LIMIT, aiohttp.ClientSession(timeout=TIMEOUT) as session:
        async with session.get(url, params=params, headers=headers) as resp:
            resp.raise_for_status()
            return await READERS[response_type](resp)


async def main():
    page = await req("https://www.gosuslugi.ru/", response_type="text")
    print(page[:200])


if __name__ == "__main__":
    asyncio.run(main())
