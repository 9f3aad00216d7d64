"""Correct: every day waits a random 0-50 ms before its request; days fetched with gather."""

import asyncio
import random
from datetime import datetime, timedelta

import aiohttp

from timing import async_timeit

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "JitterStudent/0.1 (homework; aiohttp)"}


def get_date_range(start, end):
    current = datetime.strptime(start, "%Y-%m-%d")
    last = datetime.strptime(end, "%Y-%m-%d")
    days = []
    while current <= last:
        days.append(current.strftime("%Y-%m-%d"))
        current += timedelta(days=1)
    return days


async def get_top(day, session=None):
    if session is None:
        async with aiohttp.ClientSession() as own_session:
            return await get_top(day, own_session)
    async with session.get(API.format(day=day.replace("-", "/")), headers=HEADERS) as response:
        response.raise_for_status()
        data = await response.json()
    articles = sorted(data["items"][0]["articles"], key=lambda a: a["rank"])[:10]
    return [(a["article"], a["views"]) for a in articles]


async def jittered_day(day, session):
    await asyncio.sleep(random.random() / 20)
    try:
        return await get_top(day, session)
    except aiohttp.ClientError:
        return []


@async_timeit
async def get_stats(start, end):
    days = get_date_range(start, end)
    async with aiohttp.ClientSession() as session:
        tops = await asyncio.gather(*(jittered_day(day, session) for day in days))
    return dict(zip(days, tops, strict=True))


if __name__ == "__main__":
    print(asyncio.run(get_stats("2024-09-01", "2024-09-03")))
