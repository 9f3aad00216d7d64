import asyncio
from datetime import datetime, timedelta

import aiohttp

from timing import async_timeit

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "SmirnovaStudentBot/1.0 (olga.smirnova@example.ru)"}


def get_date_range(start, end):
    current = datetime.strptime(start, "%Y-%m-%d")
    last = datetime.strptime(end, "%Y-%m-%d")
    days = []
    while current <= last:
        days.append(current.strftime("%Y-%m-%d"))
        current += timedelta(days=1)
    return days


async def get_top(day, session=None):
    if session is None:
        async with aiohttp.ClientSession() as own:
            return await get_top(day, own)
    url = API.format(day=day.replace("-", "/"))
    async with session.get(url, headers=HEADERS) as response:
        response.raise_for_status()
        data = await response.json()
    ranked = sorted(data["items"][0]["articles"], key=lambda a: a["rank"])
    return [(a["article"], a["views"]) for a in ranked[:10]]


@async_timeit
async def get_stats(start, end):
    days = get_date_range(start, end)
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(
            *(get_top(day, session) for day in days), return_exceptions=True
        )
    return {
        day: ([] if isinstance(result, aiohttp.ClientError) else result)
        for day, result in zip(days, results)
    }


if __name__ == "__main__":
    print(asyncio.run(get_stats("2024-09-01", "2024-09-03")))
