"""match/case picks the reader before the request; the session is closed in finally."""

import asyncio

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    match response_type:
        case "json":
            as_text = False
        case "text":
            as_text = True
        case _:
            raise ValueError(f"unsupported response_type {response_type!r}")
    session = aiohttp.ClientSession()
    try:
        resp = await session.get(url, params=params, headers=headers)
        async with resp:
            resp.raise_for_status()
            return await resp.text() if as_text else await resp.json()
    finally:
        await session.close()


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
