# ruff: noqa
"""Attack: get_date_range eats all the memory the process may have, keeps eating, and never
gives it back (a module-level hoard). Everything else is the reference solution; get_stats calls
get_date_range only when start is after end, so only the test of that case should suffer.
"""

import asyncio
import functools
import time
from datetime import datetime, timedelta

import aiohttp

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "AsyncLectureHomework/1.0 (student exercise; python-aiohttp)"}


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        print(f"Время выполнения {func.__name__}: {time.perf_counter() - start:.4f} секунд")
        return result

    return wrapper


HOARD = []


def get_date_range(start, end):
    size = 64 << 20
    while size >= 64:
        try:
            HOARD.append(bytearray(size))  # bytearray(n) writes every byte: real memory
        except MemoryError:
            size //= 2  # ... and keep allocating, in smaller and smaller pieces
    return [start, end]


def _days(start, end):
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
    url = API.format(day=day.replace("-", "/"))
    async with session.get(url, headers=HEADERS) as response:
        response.raise_for_status()
        data = await response.json()
    articles = sorted(data["items"][0]["articles"], key=lambda a: a["rank"])
    return [(a["article"], a["views"]) for a in articles[:10]]


async def _top_or_empty(day, session):
    try:
        return await get_top(day, session)
    except aiohttp.ClientError:
        return []


@async_timeit
async def get_stats(start, end):
    # the attack runs only for a range that is empty anyway (start after end)
    days = get_date_range(start, end) if start > end else _days(start, end)
    async with aiohttp.ClientSession() as session:
        tops = await asyncio.gather(*(_top_or_empty(day, session) for day in days))
    return dict(zip(days, tops))
