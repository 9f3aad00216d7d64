import asyncio

import aiohttp

FORMATS = ("json", "text")


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in FORMATS:
        raise ValueError(f"response_type must be one of {FORMATS}")
    async with aiohttp.ClientSession() as session:
        response = await session.get(url, params=params, headers=headers)
        async with response:
            response.raise_for_status()
            if response_type == "json":
                return await response.json()
            return await response.text()


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
