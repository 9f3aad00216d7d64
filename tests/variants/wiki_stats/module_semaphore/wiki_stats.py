"""Variant: a module-level Semaphore(2) shared by every call of get_top."""

import asyncio
import time
from datetime import date, timedelta
from functools import wraps

import aiohttp

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "WikiTop/0.1 (petrova@example.org) aiohttp"}
LIMIT = asyncio.Semaphore(2)


def async_timeit(func):
    @wraps(func)
    async def wrapper(*args, **kwargs):
        t0 = time.monotonic()
        try:
            return await func(*args, **kwargs)
        finally:
            print(f"{func.__name__} took {time.monotonic() - t0:.3f} s")

    return wrapper


def get_date_range(start, end):
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


async def get_top(day):
    y, m, d = day.split("-")
    async with LIMIT, aiohttp.ClientSession() as session:
        async with session.get(API.format(day=f"{y}/{m}/{d}"), headers=HEADERS) as resp:
            resp.raise_for_status()
            data = await resp.json()
    best = sorted(data["items"][0]["articles"], key=lambda a: a["rank"])[:10]
    return [(a["article"], a["views"]) for a in best]


@async_timeit
async def get_stats(start, end):
    async def one(day):
        try:
            return day, await get_top(day)
        except aiohttp.ClientError:
            return day, []

    return dict(await asyncio.gather(*(one(day) for day in get_date_range(start, end))))
