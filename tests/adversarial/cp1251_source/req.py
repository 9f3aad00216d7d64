# ruff: noqa
"""Задание 3: один асинхронный GET-запрос, ответ в виде JSON или текста."""

import aiohttp

# Допустимые значения response_type
ТИПЫ = ("json", "text")


async def req(url, params=None, headers=None, response_type="json"):
    """Отправляет GET на url и возвращает JSON или текст ответа."""
    if response_type not in ТИПЫ:
        raise ValueError(f"неизвестный response_type: {response_type!r}")
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as response:
            response.raise_for_status()
            if response_type == "json":
                return await response.json()
            return await response.text()
