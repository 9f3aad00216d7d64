import time
from functools import wraps


def async_timeit(func):
    """Печатает, сколько секунд работала асинхронная функция."""

    @wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return await func(*args, **kwargs)
        finally:
            print(f"Время выполнения {func.__name__}: {time.perf_counter() - start:.4f} секунд")

    return wrapper
