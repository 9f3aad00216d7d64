import asyncio

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError("response_type must be 'json' or 'text'")
    async with aiohttp.ClientSession() as session:
        if params:
            request = session.get(url, params=params)
        else:
            request = session.get(url, headers=headers)
        async with request as resp:
            resp.raise_for_status()
            if response_type == "json":
                return await resp.json()
            return await resp.text()


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
