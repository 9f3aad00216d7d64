"""Task 2: a decorator that prints how long an asynchronous function ran."""

import asyncio
import functools
import time
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


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


if __name__ == "__main__":

    @async_timeit
    async def nap(seconds: float) -> float:
        await asyncio.sleep(seconds)
        return seconds

    async def demo() -> None:
        # two naps of 1 s awaited together take about 1 s, not 2
        await asyncio.gather(nap(1), nap(1))

    asyncio.run(demo())
