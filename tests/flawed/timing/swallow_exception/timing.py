import functools
import time


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.time()
        try:
            result = await func(*args, **kwargs)
        except Exception as e:
            print(f"Ошибка в {func.__name__}: {e}")
            return None
        print(f"Время выполнения {func.__name__}: {time.time() - start:.4f} секунд")
        return result
    return wrapper
