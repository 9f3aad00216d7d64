"""Задание 1: 15 вызовов long_func одновременно.

Условие — в statement.ru.md (English: statement.en.md).
Замените каждый `raise NotImplementedError` своим кодом.
"""

import asyncio

import aiohttp  # noqa: F401  (понадобится для запроса)

URL = "https://www.gosuslugi.ru/"


async def long_func(i: int) -> int:
    """Напечатать `i` отдельной строкой, отправить один GET на URL через aiohttp
    и вернуть HTTP-код ответа (int), каким бы он ни был.

    Функция должна работать и сама по себе, вне main(). Можно добавить
    необязательные параметры (например, общую сессию `session=None`).
    Каждую открытую aiohttp.ClientSession нужно закрыть (`async with`).
    """
    raise NotImplementedError


async def main() -> list[int]:
    """Запустить long_func(0) … long_func(14) так, чтобы все 15 запросов шли
    одновременно, дождаться всех и вернуть 15 кодов ответа списком по порядку i.

    Подойдут asyncio.gather, asyncio.TaskGroup или create_task + await задач.
    """
    raise NotImplementedError


if __name__ == "__main__":
    # Запускается только при `python long_func.py`, не при импорте.
    print(asyncio.run(main()))
