import asyncio

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    readers = {"json": aiohttp.ClientResponse.json, "text": aiohttp.ClientResponse.text}
    if response_type not in readers:
        raise ValueError(f"unsupported response_type {response_type!r}")
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as response:
            response.raise_for_status()
            return await readers[response_type](response)


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
