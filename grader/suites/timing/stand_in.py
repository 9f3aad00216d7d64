"""[worker] The timing.py a submission's other files import while graded (error carried forward).

`wiki_stats` may do `from timing import async_timeit`. It is graded as if
that decorator were correct (grading policy, section 4): the runner puts this
file in place of the student's timing.py in the copy `wiki_stats` is graded
on, so a flaw in the decorator costs the timing assignment only, and a
missing or broken timing.py costs wiki_stats nothing.
"""

import functools
import time


def async_timeit(func):
    """Print how long each awaited call of `func` took."""

    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return await func(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - start
            print(f"Время выполнения {func.__name__}: {elapsed:.4f} секунд")

    return wrapper
