# ruff: noqa
"""Attack: get_date_range holds memory in several processes, each within its own RLIMIT_AS:
three children write 300 MB each and stay, then the worker itself hoards until its address
space is full. Everything else is the reference solution; get_stats calls get_date_range only
when start is after end, so only the test of that case should suffer.
"""

import asyncio
import os
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
CHILD_BYTES = 300 << 20


def _child(ready):
    hoard = b"x" * CHILD_BYTES  # bytes * n writes every byte: real memory
    os.write(ready, b"1")
    time.sleep(120)
    os._exit(len(hoard) and 0)


def get_date_range(start, end):
    read_end, write_end = os.pipe()
    for _ in range(3):
        if os.fork() == 0:
            _child(write_end)
    for _ in range(3):
        os.read(read_end, 1)  # the children hold their memory now
    size = 64 << 20
    while size >= 64:
        try:
            HOARD.append(bytearray(size))
        except MemoryError:
            size //= 2
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
