"""Hostile: the decorator is the identity; the worker's Target is patched to print timings."""
import sys
import time


def _patch():
    main = sys.modules.get("_launcher.main")
    if main is None:
        return
    Target = main.Target
    real = Target._build

    def _build(self):
        fn = real(self)
        name = fn.__name__

        async def timed(*a, **k):
            t = time.perf_counter()
            try:
                return await fn(*a, **k)
            finally:
                print(f"Время выполнения {name}: {time.perf_counter() - t:.4f} секунд")
        for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
            setattr(timed, attr, getattr(fn, attr))
        return timed
    Target._build = _build


_patch()


def async_timeit(func):
    return func
