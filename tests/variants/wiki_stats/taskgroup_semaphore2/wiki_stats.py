"""Variant: asyncio.TaskGroup with a bound of 2; get_top returns [] on a bad status."""

import asyncio
import time
from datetime import datetime, timedelta

import aiohttp

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "student-homework/2.0 (https://example.com/me)"}


def async_timeit(func):
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        res = await func(*args, **kwargs)
        print(func.__name__, "выполнилась за", round(time.perf_counter() - start, 4), "с")
        return res

    wrapper.__name__ = func.__name__
    return wrapper


def get_date_range(start, end):
    current = datetime.strptime(start, "%Y-%m-%d")
    last = datetime.strptime(end, "%Y-%m-%d")
    days = []
    while current <= last:
        days.append(current.strftime("%Y-%m-%d"))
        current += timedelta(days=1)
    return days


async def get_top(day):
    url = API.format(day=day.replace("-", "/"))
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers=HEADERS) as response:
            if response.status != 200:
                return []
            data = await response.json()
    articles = data["items"][0]["articles"]
    articles.sort(key=lambda a: a["rank"])
    return [(a["article"], a["views"]) for a in articles[:10]]


@async_timeit
async def get_stats(start, end):
    sem = asyncio.Semaphore(2)

    async def limited(day):
        async with sem:
            return await get_top(day)

    days = get_date_range(start, end)
    async with asyncio.TaskGroup() as tg:
        tasks = {day: tg.create_task(limited(day)) for day in days}
    return {day: task.result() for day, task in tasks.items()}
