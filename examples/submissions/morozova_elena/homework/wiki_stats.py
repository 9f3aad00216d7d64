"""Домашка по асинхронности, задание 4."""

import asyncio
from datetime import datetime, timedelta

import aiohttp

from timing import async_timeit

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "morozova-hw/1.0 (+https://example.org/morozova)"}


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
            response.raise_for_status()
            data = await response.json()
    articles = data["items"][0]["articles"]
    articles.sort(key=lambda a: a["rank"])
    return [(a["article"], a["views"]) for a in articles[:10]]


async def top_or_empty(day):
    try:
        return await get_top(day)
    except aiohttp.ClientError:
        return []


@async_timeit
async def get_stats(start, end):
    days = get_date_range(start, end)
    async with asyncio.TaskGroup() as group:
        tasks = {day: group.create_task(top_or_empty(day)) for day in days}
    return {day: task.result() for day, task in tasks.items()}


if __name__ == "__main__":
    print(asyncio.run(get_stats("2024-09-01", "2024-09-03")))
