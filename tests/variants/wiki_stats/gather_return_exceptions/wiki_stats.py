"""Variant: dict comprehension over zip(days, gather(..., return_exceptions=True))."""

import asyncio
import time
from datetime import datetime, timedelta
from functools import wraps

import aiohttp

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"user-agent": "ru-wiki-top/1.0 (smirnova@example.com)"}


def async_timeit(func):
    @wraps(func)
    async def wrapper(*args, **kwargs):
        begin = time.perf_counter()
        value = await func(*args, **kwargs)
        print(f"[{func.__name__}] {time.perf_counter() - begin:.2f} sec")
        return value

    return wrapper


def get_date_range(start, end):
    day = datetime.strptime(start, "%Y-%m-%d")
    stop = datetime.strptime(end, "%Y-%m-%d")
    out = []
    while day <= stop:
        out.append(day.strftime("%Y-%m-%d"))
        day += timedelta(days=1)
    return out


async def get_top(day, session=None):
    close = session is None
    session = session or aiohttp.ClientSession()
    try:
        url = API.format(day=datetime.strptime(day, "%Y-%m-%d").strftime("%Y/%m/%d"))
        async with session.get(url, headers=HEADERS) as resp:
            resp.raise_for_status()
            payload = await resp.json()
    finally:
        if close:
            await session.close()
    articles = payload["items"][0]["articles"]
    return [(a["article"], a["views"]) for a in sorted(articles, key=lambda a: a["rank"])[:10]]


@async_timeit
async def get_stats(start, end):
    days = get_date_range(start, end)
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(*(get_top(d, session) for d in days),
                                       return_exceptions=True)
    return {d: ([] if isinstance(r, Exception) else r) for d, r in zip(days, results, strict=True)}
