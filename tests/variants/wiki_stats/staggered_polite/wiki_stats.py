import asyncio
import random
from datetime import datetime, timedelta

import aiohttp
from timing import async_timeit

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "StudentWikiStats/0.1 (ivanov@example.ru)"}


def get_date_range(start, end):
    cur = datetime.strptime(start, "%Y-%m-%d")
    last = datetime.strptime(end, "%Y-%m-%d")
    out = []
    while cur <= last:
        out.append(cur.strftime("%Y-%m-%d"))
        cur += timedelta(days=1)
    return out


async def get_top(day, session=None):
    if session is None:
        async with aiohttp.ClientSession(headers=HEADERS) as s:
            return await get_top(day, s)
    async with session.get(API.format(day=day.replace("-", "/")), headers=HEADERS) as resp:
        resp.raise_for_status()
        data = await resp.json()
    return [(a["article"], a["views"]) for a in data["items"][0]["articles"][:10]]


async def _safe(day, session):
    try:
        return await get_top(day, session)
    except aiohttp.ClientError:
        return []


@async_timeit
async def get_stats(start, end):
    days = get_date_range(start, end)

    async def one(k, day, session):
        await asyncio.sleep(0.1 * k)  # be polite to Wikimedia: 10 requests per second
        return await _safe(day, session)

    async with aiohttp.ClientSession() as session:
        tops = await asyncio.gather(*(one(k, d, session) for k, d in enumerate(days)))
    return dict(zip(days, tops))
