"""Variant: one session with session-level HEADERS, passed to get_top as a keyword."""

import asyncio
import time
from datetime import datetime, timedelta

import aiohttp

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "LectureAsyncBot/1.0 (contact: kuznetsov@example.net)"}


def async_timeit(func):
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        print(f"{func.__name__}: {time.perf_counter() - start:.4f}")
        return result

    return wrapper


def get_date_range(start, end):
    current = datetime.strptime(start, "%Y-%m-%d")
    last = datetime.strptime(end, "%Y-%m-%d")
    days = []
    while current <= last:
        days.append(current.strftime("%Y-%m-%d"))
        current += timedelta(days=1)
    return days


async def _fetch(session, day):
    async with session.get(API.format(day=day.replace("-", "/"))) as resp:
        resp.raise_for_status()
        data = await resp.json()
    ranked = sorted(data["items"][0]["articles"], key=lambda a: a["rank"])
    return [(a["article"], a["views"]) for a in ranked[:10]]


async def get_top(day, *, session=None):
    if session is not None:
        return await _fetch(session, day)
    async with aiohttp.ClientSession(headers=HEADERS) as own:
        return await _fetch(own, day)


@async_timeit
async def get_stats(start, end):
    days = get_date_range(start, end)
    result = {}
    async with aiohttp.ClientSession(headers=HEADERS) as session:

        async def one(day):
            try:
                result[day] = await get_top(day, session=session)
            except aiohttp.ClientResponseError:
                result[day] = []

        await asyncio.gather(*(one(day) for day in days))
    return {day: result[day] for day in days}
