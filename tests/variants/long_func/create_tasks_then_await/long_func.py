"""Tasks first, awaits after; the parameter is `n`, the session `client`, print comes last."""

import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(n: int, client: aiohttp.ClientSession | None = None) -> int:
    if client is None:
        async with aiohttp.ClientSession() as own:
            return await long_func(n, own)
    response = await client.get(URL)
    status = response.status
    response.release()
    print(n, flush=True)
    print(f"  ответ на запрос {n}: {status}")
    return status


async def main() -> list[int]:
    async with aiohttp.ClientSession() as client:
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(long_func(n, client)) for n in range(15)]
        statuses = []
        for task in tasks:
            statuses.append(await task)
    return statuses


if __name__ == "__main__":
    print(asyncio.run(main()))
