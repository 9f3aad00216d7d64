import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    return await asyncio.gather(*[long_func(i) for i in range(15)])


# Demo flaw: module-level code that never ends, so importing the file hangs
# (the grader must kill the run after the time limit).
while True:
    pass
