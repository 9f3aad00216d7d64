# Correct, but waits a random time before the call and before printing: lines of overlapping calls come in any order.
import asyncio, functools, random, time
def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        await asyncio.sleep(random.random())
        s = time.perf_counter()
        r = await func(*args, **kwargs)
        e = time.perf_counter() - s
        await asyncio.sleep(random.random())
        print(f"Время выполнения {func.__name__}: {e:.4f} секунд")
        return r
    return wrapper
