def async_timeit(func):
    print(f"Время выполнения {func.__name__}: 0.0000 секунд")
    return func
