import asyncio
from datetime import datetime, timedelta

import aiohttp

from timing import async_timeit

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "IvanovHomework/0.1 (ivanov@example.com)"}


def get_date_range(start, end):
    start_date = datetime.strptime(start, "%Y-%m-%d")
    end_date = datetime.strptime(end, "%Y-%m-%d")
    dates = []
    while start_date <= end_date:
        dates.append(start_date.strftime("%Y-%m-%d"))
        start_date += timedelta(days=1)
    return dates


async def get_top(day):
    url = API.format(day=day.replace("-", "/"))
    async with aiohttp.ClientSession(headers=HEADERS) as session:
        async with session.get(url) as resp:
            resp.raise_for_status()
            data = await resp.json()
    articles = data["items"][0]["articles"]
    best = sorted(articles, key=lambda art: art["rank"])[:10]
    return [[art["article"], art["views"]] for art in best]


@async_timeit
async def get_stats(start, end):
    limit = asyncio.Semaphore(3)  # be polite to Wikimedia: at most 3 requests at once

    async def limited(day):
        async with limit:
            return await get_top(day)

    days = get_date_range(start, end)
    results = await asyncio.gather(*[limited(d) for d in days], return_exceptions=True)
    stats = {}
    for day, res in zip(days, results):
        stats[day] = [] if isinstance(res, Exception) else res
    return stats


if __name__ == "__main__":
    print(asyncio.run(get_stats("2024-09-01", "2024-09-07")))
