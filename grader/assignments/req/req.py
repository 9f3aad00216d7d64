"""Задание 3: асинхронный GET-запрос, возвращающий JSON или текст.

Условие — в statement.ru.md (English: statement.en.md).
Замените `raise NotImplementedError` своим кодом.
"""

import asyncio

import aiohttp  # noqa: F401  (понадобится для запроса)


async def req(
    url: str,
    params: dict | None = None,
    headers: dict | None = None,
    response_type: str = "json",
):
    """Отправить один GET на `url` через aiohttp: `params` — строка запроса,
    `headers` — заголовки запроса.

    - response_type="json" — вернуть разобранный JSON (`await resp.json()`);
    - response_type="text" — вернуть тело ответа строкой (`await resp.text()`);
    - любой другой response_type — ValueError, причём до отправки запроса;
    - статус 400 и выше — aiohttp.ClientResponseError (`resp.raise_for_status()`);
    - сессия закрыта до того, как req вернёт результат или выбросит исключение.
    """
    raise NotImplementedError


if __name__ == "__main__":
    # Запускается только при `python req.py`, не при импорте.
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
