import asyncio
import time
from datetime import datetime, timedelta
from functools import wraps

import aiohttp

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "SidorovBot/1.0 (sidorov@example.ru)"}


def async_timeit(func):
    @wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        print(f"Время выполнения {func.__name__}: {time.perf_counter() - start:.4f} секунд")
        return result

    return wrapper


def get_date_range(start, end):
    start_date = datetime.strptime(start, "%Y-%m-%d")
    end_date = datetime.strptime(end, "%Y-%m-%d")
    return [
        (start_date + timedelta(days=n)).strftime("%Y-%m-%d")
        for n in range((end_date - start_date).days + 1)
    ]


async def get_top(day, session=None):
    if session is None:
        async with aiohttp.ClientSession(headers=HEADERS) as session:
            return await get_top(day, session)
    url = API.format(day=day.replace("-", "/"))
    async with session.get(url, headers=HEADERS) as response:
        if response.status >= 400:
            return []
        data = await response.json()
    articles = sorted(data["items"][0]["articles"], key=lambda a: a["rank"])
    return [(a["article"], a["views"]) for a in articles[:10]]


@async_timeit
async def get_stats(start, end):
    days = get_date_range(start, end)
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(get_top(day, session)) for day in days]
        tops = [await task for task in tasks]
    return dict(zip(days, tops))


if __name__ == "__main__":
    print(asyncio.run(get_stats("2024-09-01", "2024-09-03")))
