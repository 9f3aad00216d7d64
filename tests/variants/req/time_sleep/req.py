"""Not a model answer: time.sleep(0.05) before the request blocks the loop.

It leaves no trace the trusted side can see (both of two gathered calls still
have their requests in flight together), so by grading policy section 1 it
keeps full marks; the statement still forbids it.
"""

import asyncio
import time

import aiohttp


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError("response_type must be 'json' or 'text'")
    time.sleep(0.05)  # не заваливать сервер запросами
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as resp:
            resp.raise_for_status()
            if response_type == "json":
                return await resp.json()
            return await resp.text()


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
