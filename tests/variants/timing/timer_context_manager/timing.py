"""A small Timer class (a context manager) doing the measuring and printing."""

import functools
import time


class Timer:
    """Prints how long the `with` block ran, also when it raised."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = 0

    def __enter__(self) -> "Timer":
        self.started = time.perf_counter_ns()
        return self

    def __exit__(self, *exc_info: object) -> None:
        seconds = (time.perf_counter_ns() - self.started) / 1e9
        print(f"[timer] {self.name}: {seconds:.6f} sec")


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        with Timer(func.__name__):
            return await func(*args, **kwargs)

    return wrapper
