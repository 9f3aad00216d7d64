"""Hostile: the decorator is the identity; the grader's target class, found with gc, is
patched so that every target it builds prints its own correct timing line."""
import gc
import time


def _patch():
    for obj in gc.get_objects():
        if isinstance(obj, type) and obj.__name__ == "Target" and "_build" in vars(obj):
            real = obj._build

            def _build(self, real=real):
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

            obj._build = _build


_patch()


def async_timeit(func):
    return func
