"""The time logged through a logging handler bound to stdout at import."""

import functools
import logging
import sys
import time

log = logging.getLogger("timing")
handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
log.addHandler(handler)
log.setLevel(logging.INFO)
log.propagate = False


def async_timeit(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        start = time.monotonic()
        result = await func(*args, **kwargs)
        log.info("%s took %.4f s", func.__name__, time.monotonic() - start)
        return result

    return wrapper
