import asyncio
import time

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i):
    await asyncio.sleep(i / 20)  # запросы уходят с шагом 50 мс, чтобы не «спамить» сервер
    print(i)
    time.sleep(0.2)  # «долгая» работа: time.sleep держит весь цикл, остальные ждут
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    return await asyncio.gather(*(long_func(i) for i in range(15)))


if __name__ == "__main__":
    print(asyncio.run(main()))
