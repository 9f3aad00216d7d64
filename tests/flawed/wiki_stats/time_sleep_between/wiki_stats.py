import asyncio
import time
from datetime import datetime, timedelta

import aiohttp

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "AsyncLectureHomework/1.0 (ivanov@example.com)"}


def async_timeit(func):
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        print(f"Время выполнения {func.__name__}: {time.perf_counter() - start:.4f} секунд")
        return result

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
        async with session.get(url, headers=HEADERS) as resp:
            resp.raise_for_status()
            data = await resp.json()
    articles = sorted(data["items"][0]["articles"], key=lambda a: a["rank"])
    return [(a["article"], a["views"]) for a in articles[:10]]


async def safe_top(day):
    try:
        return await get_top(day)
    except aiohttp.ClientError:
        return []


@async_timeit
async def get_stats(start, end):
    days = get_date_range(start, end)
    tasks = []
    for day in days:
        tasks.append(asyncio.create_task(safe_top(day)))
        await asyncio.sleep(0.01)  # пусть запрос уйдёт
        time.sleep(0.3)  # чтобы не долбить API слишком часто
    tops = await asyncio.gather(*tasks)
    return dict(zip(days, tops))


if __name__ == "__main__":
    print(asyncio.run(get_stats("2024-09-01", "2024-09-03")))
