"""Задание 2: декоратор, печатающий время работы асинхронной функции.

Условие — в statement.ru.md (English: statement.en.md).
Замените `raise NotImplementedError` своим кодом.
"""

import asyncio
from collections.abc import Callable


def async_timeit(func: Callable) -> Callable:
    """Принять корутинную функцию (`async def`) и вернуть корутинную функцию,
    которая:

    - передаёт все позиционные и именованные аргументы в `func`;
    - возвращает результат `await func(...)` без изменений, а исключение
      пропускает наружу как есть;
    - сохраняет __name__, __qualname__, __doc__ и ставит __wrapped__
      (`functools.wraps`);
    - после вызова печатает одну строку с именем функции и временем в секундах,
      как в лекции: f"Время выполнения {func.__name__}: {seconds:.4f} секунд".

    Не блокируйте цикл событий: никакого time.sleep.
    """
    raise NotImplementedError


if __name__ == "__main__":
    # Запускается только при `python timing.py`, не при импорте.

    async def nap(seconds: float) -> float:
        await asyncio.sleep(seconds)
        return seconds

    async def demo() -> None:
        timed_nap = async_timeit(nap)
        # две паузы по 1 с вместе должны занять около 1 с, а не 2
        await asyncio.gather(timed_nap(1), timed_nap(1))

    asyncio.run(demo())
