import asyncio

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as response:
            response.raise_for_status()
            # Demo flaw: response_type is ignored, the body is always parsed as JSON
            return await response.json()


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
