import time


# Demo flaw: the lecture's sync decorator, unchanged. Called on a coroutine
# function it returns the un-awaited coroutine at once, so the time it prints is
# ~0 and the wrapper is not a coroutine function.
def async_timeit(func):
    def wrapper(*args, **kwargs):
        start_time = time.time()
        result = func(*args, **kwargs)
        end_time = time.time()
        print(f"Время выполнения {func.__name__}: {end_time - start_time:.4f} секунд")
        return result

    return wrapper
