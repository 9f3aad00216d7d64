"""Variant: sys.stdout.reconfigure(encoding='utf-8') at import."""

import sys

sys.stdout.reconfigure(encoding="utf-8")


import asyncio
import functools
import time
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import aiohttp

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
# Wikimedia refuses requests without a User-Agent that names the client.
HEADERS = {"User-Agent": "AsyncLectureHomework/1.0 (student exercise; python-aiohttp)"}

TOP = 10

P = ParamSpec("P")
R = TypeVar("R")


# The decorator of task 2, written again so that this file stands on its own
# (or: from timing import async_timeit).
def async_timeit(
    func: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Wrap a coroutine function so that each call prints its wall time."""

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        elapsed = time.perf_counter() - start
        print(f"Время выполнения {func.__name__}: {elapsed:.4f} секунд")
        return result

    return wrapper


def get_date_range(start: str, end: str) -> list[str]:
    """Every day from `start` to `end`, both included, as 'YYYY-MM-DD' strings."""
    current = datetime.strptime(start, "%Y-%m-%d")
    last = datetime.strptime(end, "%Y-%m-%d")
    days = []
    while current <= last:
        days.append(current.strftime("%Y-%m-%d"))
        current += timedelta(days=1)
    return days


async def get_top(day: str, session: aiohttp.ClientSession | None = None) -> list[tuple[str, int]]:
    """The 10 most viewed articles of `day` ('YYYY-MM-DD') as (article, views), best first.

    Raises aiohttp.ClientResponseError when Wikimedia answers with an error status.
    """
    if session is None:
        async with aiohttp.ClientSession() as own_session:
            return await get_top(day, own_session)
    url = API.format(day=day.replace("-", "/"))
    async with session.get(url, headers=HEADERS) as response:
        response.raise_for_status()
        data = await response.json()
    articles = sorted(data["items"][0]["articles"], key=lambda a: a["rank"])
    return [(a["article"], a["views"]) for a in articles[:TOP]]


async def _top_or_empty(day: str, session: aiohttp.ClientSession) -> list[tuple[str, int]]:
    """get_top, with a failed request (error status, network failure) turned into []."""
    try:
        return await get_top(day, session)
    except aiohttp.ClientError:
        return []


@async_timeit
async def get_stats(start: str, end: str) -> dict[str, list[tuple[str, int]]]:
    """The top-10 of every day from `start` to `end` inclusive, requested concurrently."""
    days = get_date_range(start, end)
    async with aiohttp.ClientSession() as session:
        tops = await asyncio.gather(*(_top_or_empty(day, session) for day in days))
    return dict(zip(days, tops, strict=True))


if __name__ == "__main__":
    for day, top in asyncio.run(get_stats("2024-09-01", "2024-09-03")).items():
        print(day, top[:3])
