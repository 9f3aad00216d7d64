import asyncio

import aiohttp  # noqa: F401


async def req(url, params=None, headers=None, response_type="json"):
    return None


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
