"""Задание 4: топ-10 статей русской Википедии за каждый день диапазона — асинхронно.

Асинхронный аналог задания 3 из лекции про запросы.
Условие — в statement.ru.md (English: statement.en.md).
Замените каждый `raise NotImplementedError` своим кодом.
"""

import asyncio
import functools
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp  # noqa: F401  (понадобится для запросов)

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
# Wikimedia отказывает запросам без User-Agent, называющего клиента.
HEADERS = {"User-Agent": "AsyncLectureHomework/1.0 (student exercise; python-aiohttp)"}


# Заглушка: замените её своим декоратором из задания 2,
# написав его здесь заново (or: from timing import async_timeit).
def async_timeit(func: Callable) -> Callable:
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        raise NotImplementedError("async_timeit: вставьте сюда декоратор из задания 2")

    return wrapper


def get_date_range(start: str, end: str) -> list[str]:
    """Все дни от `start` до `end` включительно строками 'YYYY-MM-DD'.

    Уже готова (как в лекции про запросы), менять не нужно.
    """
    current = datetime.strptime(start, "%Y-%m-%d")
    last = datetime.strptime(end, "%Y-%m-%d")
    days = []
    while current <= last:
        days.append(current.strftime("%Y-%m-%d"))
        current += timedelta(days=1)
    return days


async def get_top(day: str) -> list[tuple[str, int]]:
    """Топ-10 статей за день `day` ('YYYY-MM-DD').

    Один GET на API, где день записан как YYYY/MM/DD (`day.replace("-", "/")`),
    с заголовками HEADERS. Вернуть 10 статей с наименьшим `rank` списком пар
    (article, views), лучшая первой. Можно добавить необязательные параметры
    (например, общую сессию `session=None`).
    """
    raise NotImplementedError


@async_timeit
async def get_stats(start: str, end: str) -> dict[str, list[tuple[str, int]]]:
    """Для каждого дня от `start` до `end` включительно запустить get_top
    конкурентно (не по очереди!) и вернуть словарь {день: список пар}.

    День, запрос которого не удался (404 или другой статус ошибки), даёт [],
    остальные дни всё равно возвращаются. Все сессии должны быть закрыты.
    """
    raise NotImplementedError


if __name__ == "__main__":
    # Запускается только при `python wiki_stats.py`, не при импорте.
    print(asyncio.run(get_stats("2024-09-01", "2024-09-03")))
