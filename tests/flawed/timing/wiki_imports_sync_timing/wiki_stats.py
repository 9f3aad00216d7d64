"""Error carried forward: a correct wiki_stats that imports the lecture's sync decorator from timing.py."""

import asyncio
from datetime import datetime, timedelta

import aiohttp

from timing import async_timeit

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "kuznetsov-wiki-stats/1.0"}


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
    async with aiohttp.ClientSession(headers=HEADERS) as session:
        async with session.get(url) as response:
            response.raise_for_status()
            payload = await response.json()
    top = sorted(payload["items"][0]["articles"], key=lambda a: a["rank"])[:10]
    return [(a["article"], a["views"]) for a in top]


async def safe_top(day):
    try:
        return await get_top(day)
    except aiohttp.ClientError:
        return []


@async_timeit
async def get_stats(start, end):
    days = get_date_range(start, end)
    tops = await asyncio.gather(*(safe_top(day) for day in days))
    return dict(zip(days, tops))


if __name__ == "__main__":
    print(asyncio.run(get_stats("2024-09-01", "2024-09-03")))
