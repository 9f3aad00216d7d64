"""Hidden tests for timing (25 points): the `async_timeit` decorator.

Every test has the student's `async_timeit` wrap a grader target in the
worker (`student.decorate`: a small coroutine function the worker builds from
a spec, see worker/main.py `Target`), then calls the decorated function there
(`student.call`), which awaits whatever the call returns. So a plain (sync)
wrapper that hands back the coroutine loses only the tests on what it gets
wrong (not a coroutine function, time printed before the work), not every
test. The target reports what it saw: its calls, the time it ran, and
whether the call returned (or raised) the very object it returned (raised).

Time is judged against bounds measured on the same call, never against a
fixed duration: the printed seconds must lie between the time measured inside
the target (first to last statement) and the time measured around the awaited
call. Overlap under `gather` is judged by the trusted fake web: each target
fetches a page, and answers are held until all calls are in flight or the
student's loop goes quiet (counted in loop turns), so no verdict depends on
machine load.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from grader.suites.feedback import Feedback, expect
from grader.suites.harness import Decorated, Run, StudentCode
from grader.suites.printed import CLOCK_SLACK, half_unit
from grader.suites.web import FakeWeb, Reply
from grader.worker.codec import Opaque, decode, encode

# A decimal number as printed: 0.1234, 12.5, 1.5e-01 (accepted, though the
# statement asks for plain notation). Integers ("0") are not a number of seconds.
NUMBER = re.compile(r"\d+\.\d+(?:[eE][-+]?\d+)?")
AWAIT_HINT = (
    "inside the wrapper write `result = await func(*args, **kwargs)`: calling func "
    "without await only creates a coroutine, nothing in it runs"
)
PRINT_HINT = (
    'after the await print one line: print(f"Время выполнения {func.__name__}: '
    '{elapsed:.4f} секунд")'
)
PART_URL = "https://reports.example.test/part"
GATHERED = 3  # decorated calls awaited together in the overlap test
# The overlap test's time limit. A wrapper that blocks the loop until its call is
# done gets no "quiet" word from it, so each held answer waits for the fake web's
# MAX_HOLD_SECONDS: such a run is cut off here, and judged by what the web saw.
GATHER_TIMEOUT = 6.0

# The target of the metadata test: a method-like qualified name, a docstring.
REPORT = {"name": "load_report", "qualname": "Reports.load_report",
          "doc": "Load the daily report.", "module": "reports"}


# ---------------------------------------------------------------- helpers


def decorate(student: StudentCode, **spec: Any) -> Decorated:
    """`async_timeit(target)` for a target named load_report, checked to be callable."""
    timed = student.decorate("async_timeit", {"name": "load_report", **spec})
    if timed.kind == "coroutine":
        raise Feedback(
            "async_timeit(f) returned a coroutine, not a function: async_timeit itself "
            "is declared `async def`",
            "a plain `def async_timeit(func)` that returns an `async def` wrapper",
            "only the wrapper inside is `async def`; async_timeit just builds and returns it",
        )
    expect(
        timed.kind == "callable",
        observed=f"async_timeit(f) returned {_short(timed.value)}, not a function",
        expected="the decorated function (the wrapper)",
        hint="end async_timeit with `return wrapper`",
    )
    return timed


def calls_of(run: Run) -> list[tuple[list[Any], dict[str, Any]]]:
    """The target's calls as (args, kwargs)."""
    return [(decode(c["args"]), decode(c["kwargs"])) for c in run.target.get("calls", [])]


def left_unawaited(run: Run) -> list[str]:
    """Coroutines the call never awaited: warned about, or handed back and closed."""
    return sorted(set(run.unawaited) | set(run.coroutines))


def unawaited_hint(run: Run, default: str) -> str:
    """The await hint when a coroutine was left unawaited, else `default`."""
    return AWAIT_HINT if left_unawaited(run) else default


def never_ran(run: Run, what: str) -> Feedback:
    """Feedback for a call after which the wrapped coroutine had not run at all."""
    names = left_unawaited(run)
    observed = f"{what}: the wrapped function never ran"
    if names:
        observed += f" (the coroutine {', '.join(names)} was never awaited)"
    return Feedback(observed, "the wrapper to await the function once", AWAIT_HINT)


def nested_loop(run: Run) -> bool:
    """asyncio.run (or run_until_complete) called inside the running event loop."""
    error = run.error
    return error is not None and error.is_a("RuntimeError") \
        and "running event loop" in error.message


def value_of(run: Run) -> Any:
    """`run.value_or_raise()`, with a hint of its own for asyncio.run inside a running loop."""
    error = run.error
    if error is not None and nested_loop(run):
        where = f" ({error.where})" if error.where else ""
        raise Feedback(
            f"the decorated call raised RuntimeError: {error.message[:200]}{where}",
            "a decorated function that can be awaited inside a running event loop",
            "asyncio.run starts an event loop of its own and cannot run inside one: make the "
            "wrapper `async def` and `await func(*args, **kwargs)` in it",
        )
    return run.value_or_raise()


def numbers_in(line: str, name: str) -> list[str]:
    """Decimal numbers of a printed line, the function's name left out."""
    return NUMBER.findall(line.replace(name, " "))


def _short(value: object, limit: int = 80) -> str:
    if isinstance(value, Opaque) and value.coroutine:
        return "a coroutine object"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _lines(run: Run, limit: int = 3) -> str:
    shown = "; ".join(repr(line[:100]) for line in run.lines[:limit])
    return shown + ("; ..." if len(run.lines) > limit else "")


def _describe_call(args: list[Any], kwargs: dict[str, Any]) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"f({', '.join(parts)})"


# ---------------------------------------------------------------- tests


@pytest.mark.points(3)
def test_returns_coroutine_function(student):
    timed = decorate(student, returns="report")
    if timed.coroutine_function:
        return
    kind = f"a plain function ({timed.name or '?'})"
    hint = ("define the wrapper inside async_timeit with `async def wrapper(*args, **kwargs)` "
            "and `await func(*args, **kwargs)` in it (not asyncio.run)")
    if not timed.is_function and timed.async_call:
        kind = (f"an object of class {timed.type} with an async __call__, which "
                "inspect.iscoroutinefunction does not count")
        hint = ("return an `async def` wrapper function from async_timeit (decorated with "
                "@functools.wraps(func)) instead of a class instance")
    elif not timed.is_function:
        kind = f"an object of class {timed.type}"
    raise Feedback(
        f"inspect.iscoroutinefunction(async_timeit(f)) is False: the decorator returned {kind}",
        "a coroutine function, so that the time is measured while the call is awaited",
        hint,
    )


@pytest.mark.points(3)
def test_passes_arguments(student):
    timed = decorate(student, name="collect", echo_call=True)
    args, kwargs = [1, "two", [3]], {"key": "k", "flag": True, "note": None}
    run = student.call(timed.handle, *args, **kwargs)
    calls = calls_of(run)
    if run.error is not None and run.error.is_a("TypeError") and not calls:
        raise Feedback(
            "calling the decorated function with positional and keyword arguments raised "
            f"TypeError: {run.error.message[:200]}",
            "every positional and keyword argument passed on to the function",
            "define the wrapper as `async def wrapper(*args, **kwargs)` and call "
            "`await func(*args, **kwargs)`",
        )
    value_of(run)
    if not calls:
        raise never_ran(run, f"called as {_describe_call(args, kwargs)}")
    expect(
        calls == [(args, kwargs)],
        observed=(f"the function was called {len(calls)} time(s), as "
                  + "; ".join(_describe_call(a, k) for a, k in calls[:3])),
        expected=f"one call, as {_describe_call(args, kwargs)}",
        hint="await func(*args, **kwargs) exactly once and pass on everything the wrapper got",
    )


@pytest.mark.points(3)
def test_returns_result_unchanged(student):
    report = {"rows": [0, 1, 2]}
    timed = decorate(student, name="build_report", returns=encode(report))
    run = student.call(timed.handle, 3)
    value = value_of(run)
    if not run.target.get("calls"):
        raise never_ran(run, f"the decorated call returned {_short(value)}")
    expect(
        run.target.get("same_value"),
        observed=f"the decorated call returned {_short(value)}"
        + (" (an equal copy)" if value == report else ""),
        expected=f"the very object the function returned: {_short(report)}",
        hint=unawaited_hint(run, "end the wrapper with `return result`, where "
                                 "`result = await func(*args, **kwargs)`"),
    )


@pytest.mark.points(3)
def test_exception_propagates_unchanged(student):
    message = "the report server is down"
    timed = decorate(student, raises=message, error_class="ReportError")
    run = student.call(timed.handle)
    if run.timed_out or run.crashed or nested_loop(run):
        value_of(run)
    hint = ("do not catch the exception in the wrapper, or re-raise it with a bare `raise`; "
            "to print the time anyway, use try/finally")
    error = run.error
    if error is None:
        raise Feedback(
            f"the function raised ReportError, but the decorated call returned "
            f"{_short(run.value)} instead",
            "the same ReportError to come out of the decorated call",
            unawaited_hint(run, hint),
        )
    expect(
        run.target.get("same_error"),
        observed=("the decorated call raised "
                  f"{error.type}: {error.message[:200]}"
                  + (" (another object of the same type)" if error.is_a("ReportError") else "")
                  + f" where the function raised ReportError: {message}"),
        expected="the very exception object the function raised",
        hint=hint,
    )


@pytest.mark.points(2)
def test_keeps_metadata(student):
    timed = decorate(student, **REPORT, returns="report")
    wrong = [f"{attr} is {got!r}" for attr, got, want in (
        ("__name__", timed.name, REPORT["name"]),
        ("__qualname__", timed.qualname, REPORT["qualname"]),
        ("__doc__", timed.doc, REPORT["doc"]),
    ) if got != want]
    if not timed.wrapped_is_target:
        wrong.append("__wrapped__ is missing or is not the original function")
    expect(
        not wrong,
        observed="the decorated function's " + ", ".join(wrong),
        expected=(f"__name__ {REPORT['name']!r}, __qualname__ {REPORT['qualname']!r}, "
                  f"__doc__ {REPORT['doc']!r} and __wrapped__ set to the original function"),
        hint="put @functools.wraps(func) on the wrapper",
    )


@pytest.mark.points(3)
def test_prints_one_line_with_name(student):
    timed = decorate(student, sleep=0.01, returns="report")
    run = student.call(timed.handle)
    value_of(run)
    name = "load_report"
    expect(run.lines, observed="the call printed nothing",
           expected="one line with the function's name and the seconds", hint=PRINT_HINT)
    expect(
        len(run.lines) == 1,
        observed=f"one call printed {len(run.lines)} lines: {_lines(run)}",
        expected="exactly one line per call",
        hint="print once, after the await; leave out extra prints such as 'start'",
    )
    line = run.lines[0]
    expect(
        name in line,
        observed=f"the printed line {line[:120]!r} does not hold the function's name {name!r}",
        expected="the name of the called function in the line",
        hint="use func.__name__ in the message",
    )
    found = numbers_in(line, name)
    expect(
        len(found) == 1,
        observed=(f"the printed line {line[:120]!r} holds {len(found)} decimal numbers"
                  + (f" ({', '.join(found[:4])})" if found else "")),
        expected="one decimal number, the seconds, such as 0.0102",
        hint="format the seconds with a dot and digits after it, e.g. {elapsed:.4f}, and "
             "print no other number with a dot",
    )


@pytest.mark.points(4)
def test_elapsed_matches_call(student):
    """Two calls of different length, each checked against its own bounds."""
    for seconds in (0.03, 0.12):
        _elapsed_case(student, seconds)


def _elapsed_case(student: StudentCode, seconds: float) -> None:
    """The printed seconds lie between the time inside the function and around the call."""
    timed = decorate(student, sleep=seconds, returns="report")
    run = student.call(timed.handle)
    value_of(run)
    inner = run.target.get("inner", [])
    if not inner:
        raise never_ran(run, "the decorated call finished")
    low, high = max(inner), run.call_seconds
    found = [n for line in run.lines for n in numbers_in(line, "load_report")]
    expect(
        found,
        observed=("the call printed no decimal number"
                  + (f": {_lines(run)}" if run.lines else " (nothing at all)")),
        expected="the elapsed seconds printed as a decimal number, such as 0.1203",
        hint=PRINT_HINT,
    )
    for text in found:
        tolerance = half_unit(text) + CLOCK_SLACK
        if low - tolerance <= float(text) <= high + tolerance:
            return
    printed = float(found[-1])
    if printed < low:
        hint = ("the time must cover the awaited call: start = time.perf_counter(); "
                "result = await func(*args, **kwargs); elapsed = time.perf_counter() - start. "
                "Calling func(...) without await only creates a coroutine: its work runs later")
    elif low > 0 and printed / low > 100:
        hint = "the number looks like milliseconds: print seconds (do not multiply by 1000)"
    else:
        hint = ("measure exactly the awaited call: start = time.perf_counter() right before "
                "`await func(...)`, elapsed = time.perf_counter() - start right after")
    raise Feedback(
        f"a call that took between {low:.4f} and {high:.4f} s (measured inside the function "
        f"and around the call) printed {', '.join(found[:3])}",
        "the elapsed seconds of that call",
        hint,
    )


@pytest.mark.points(2)
def test_gather_calls_overlap(student):
    timed = decorate(student, name="fetch_part", fetch=PART_URL, echo_call=True)
    web = FakeWeb(expect_in_flight=GATHERED)
    web.route(PART_URL, Reply(200, body="part"))
    run = student.call(timed.handle, together=[((i,), {}) for i in range(GATHERED)],
                       web=web, timeout=GATHER_TIMEOUT)
    what = f"of {GATHERED} decorated calls awaited together with asyncio.gather"
    hint = ("the wrapper must only `await` the call: waiting in a blocking way (time.sleep, "
            "a thread's .result(), asyncio.run, run_until_complete) stops every other "
            "coroutine until it returns")
    if run.timed_out and web.requests and web.max_in_flight < GATHERED:
        raise Feedback(
            f"{what}, only {web.max_in_flight} ran at once, and together they did not "
            f"finish within {GATHER_TIMEOUT:.0f} s",
            f"all {GATHERED} running at the same time", hint)
    value_of(run)
    if not web.requests:
        if not run.target.get("calls"):
            raise never_ran(run, f"{GATHERED} decorated calls awaited together with "
                                 "asyncio.gather")
        raise Feedback(f"{what}, none reached the function's request",
                       "each call to run the function to its end", AWAIT_HINT)
    expect(
        web.max_in_flight == GATHERED,
        observed=f"{what}, only {web.max_in_flight} ran at once",
        expected=f"all {GATHERED} running at the same time",
        hint=hint,
    )


@pytest.mark.points(2)
def test_no_blocking_calls(student):
    timed = decorate(student, sleep=0.02, returns="report")
    run = student.call(timed.handle)
    value_of(run)
    expect(
        not run.blocking,
        observed=f"the decorated call made a blocking call: {', '.join(run.blocking)}",
        expected="a decorator that never blocks the event loop",
        hint="time.sleep stops the whole event loop, so no other coroutine runs meanwhile: "
             "the wrapper needs no waiting of its own, just `await func(...)` (or use "
             "`await asyncio.sleep(...)`)",
    )
