import asyncio
from datetime import datetime, timedelta

import aiohttp

from timing import async_timeit

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "petrova-anna-homework/1.0"}


def get_date_range(start, end):
    current = datetime.strptime(start, "%Y-%m-%d")
    last = datetime.strptime(end, "%Y-%m-%d")
    days = []
    while current <= last:
        days.append(current.strftime("%Y-%m-%d"))
        current += timedelta(days=1)
    return days


async def get_top(day):
    async with aiohttp.ClientSession() as session:
        url = API.format(day=day.replace("-", "/"))
        async with session.get(url, headers=HEADERS) as response:
            response.raise_for_status()
            data = await response.json()
    articles = sorted(data["items"][0]["articles"], key=lambda a: a["rank"])
    return [(a["article"], a["views"]) for a in articles[:10]]


@async_timeit
async def get_stats(start, end):
    stats = {}
    # Demo flaw: the days are awaited one after another, and a failing
    # day (404) raises out of the loop and loses the whole result
    for day in get_date_range(start, end):
        stats[day] = await get_top(day)
    return stats


if __name__ == "__main__":
    print(asyncio.run(get_stats("2024-09-01", "2024-09-03")))
