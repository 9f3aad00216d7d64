import asyncio

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError("response_type must be 'json' or 'text'")
    session = aiohttp.ClientSession()
    resp = await session.get(url, params=params, headers=headers)
    resp.raise_for_status()
    if response_type == "json":
        data = await resp.json()
    else:
        data = await resp.text()
    await session.close()
    return data


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
