"""Variant: pairs as lists, create_task + awaiting each task, per-day try/except Exception."""

import asyncio
import time
from datetime import datetime, timedelta

import aiohttp

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "Mozilla/5.0 (homework; sidorov@example.ru)"}


def async_timeit(func):
    async def inner(*args, **kwargs):
        t = time.time()
        result = await func(*args, **kwargs)
        print(f"Время выполнения {func.__name__}: {time.time() - t} секунд")
        return result

    return inner


def get_date_range(start, end):
    current = datetime.strptime(start, "%Y-%m-%d")
    last = datetime.strptime(end, "%Y-%m-%d")
    days = []
    while current <= last:
        days.append(current.strftime("%Y-%m-%d"))
        current += timedelta(days=1)
    return days


async def get_top(day):
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        resp = await session.get(API.format(day=day.replace("-", "/")), headers=HEADERS)
        data = await resp.json()
    top = [a for a in data["items"][0]["articles"] if a["rank"] <= 10]
    top.sort(key=lambda a: a["rank"])
    return [[a["article"], a["views"]] for a in top]


async def safe(day):
    try:
        return await get_top(day)
    except Exception as e:
        print("ошибка", day, e)
        return []


@async_timeit
async def get_stats(start, end):
    tasks = {day: asyncio.create_task(safe(day)) for day in get_date_range(start, end)}
    stats = {}
    for day, task in tasks.items():
        stats[day] = await task
    return stats
