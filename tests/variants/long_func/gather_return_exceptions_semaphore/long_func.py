"""gather(return_exceptions=True) with a Semaphore(15) bound and a shared session."""

import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i, session=None, bound=None):
    bound = bound or asyncio.Semaphore(1)
    async with bound:
        print("запускаю запрос")
        print(i)
        if session is None:
            async with aiohttp.ClientSession() as session:
                async with session.get(URL) as resp:
                    return resp.status
        async with session.get(URL) as resp:
            return resp.status


async def main():
    bound = asyncio.Semaphore(15)
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(
            *(long_func(i, session, bound) for i in range(15)), return_exceptions=True
        )
    return [r if isinstance(r, int) else None for r in results]


if __name__ == "__main__":
    print(asyncio.run(main()))
