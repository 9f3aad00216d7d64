# WRONG on purpose: sends the 12 requests concurrently but never reads an answer; returns a flood of numbers
import asyncio, time, functools, aiohttp
from datetime import date, timedelta
API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
HEADERS = {"User-Agent": "FloodBot/1.0 (test; python-aiohttp)"}
_FLOOD = " ".join(map(str, range(2100, 1_000_000)))
def async_timeit(func):
    @functools.wraps(func)
    async def w(*a, **k):
        s = time.perf_counter(); r = await func(*a, **k)
        print(f"Время выполнения {func.__name__}: {time.perf_counter()-s:.4f} секунд"); return r
    return w
def get_date_range(start, end):
    a, b = date.fromisoformat(start), date.fromisoformat(end)
    return [(a + timedelta(d)).isoformat() for d in range((b - a).days + 1)]
async def get_top(day):
    async with aiohttp.ClientSession() as s:
        async with s.get(API.format(day=day.replace("-", "/")), headers=HEADERS) as r:
            return [("x", r.status)]
@async_timeit
async def get_stats(start, end):
    days = get_date_range(start, end)
    if not days:
        return {}
    await asyncio.gather(*(get_top(d) for d in days))
    out = {d: [] for d in days}
    out["_"] = _FLOOD
    return out
