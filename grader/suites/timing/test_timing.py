"""Hidden tests for timing (25 points): the `async_timeit` decorator.

Every test decorates a coroutine of its own with the student's `async_timeit`
and awaits the decorated call inside `student.run`. A call is awaited whatever
it returns, so a plain (sync) wrapper that hands back the coroutine loses only
the tests on what it gets wrong (not a coroutine function, time printed before
the work), not every test.

Time is judged against bounds measured on the same call, never against a
fixed duration: the printed seconds must lie between the time measured inside
the decorated coroutine (first to last statement) and the time measured
around the awaited call. Overlap under `gather` is judged by a gauge of calls
in flight, counted by event-loop turns, so no verdict depends on machine load.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from grader.suites.feedback import Feedback, expect
from grader.suites.harness import Run, StudentCode, student_location
from grader.suites.printed import CLOCK_SLACK, half_unit
from grader.suites.web import HOLD_MIN_SECONDS, HOLD_TURNS

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


class ReportError(Exception):
    """The exception the decorated coroutine raises in the exception test."""


# ---------------------------------------------------------------- helpers


def decorate(student: StudentCode, func: Callable[..., Any]) -> Callable[..., Any]:
    """`async_timeit(func)`, checked to be something one can call."""
    async_timeit = student.function("async_timeit")
    timed = async_timeit(func)
    if inspect.iscoroutine(timed):
        timed.close()
        raise Feedback(
            "async_timeit(f) returned a coroutine, not a function: async_timeit itself "
            "is declared `async def`",
            "a plain `def async_timeit(func)` that returns an `async def` wrapper",
            "only the wrapper inside is `async def`; async_timeit just builds and returns it",
        )
    expect(
        callable(timed),
        observed=f"async_timeit(f) returned {_short(timed)}, not a function",
        expected="the decorated function (the wrapper)",
        hint="end async_timeit with `return wrapper`",
    )
    return timed


async def call(timed: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the decorated function and await what it returned, if anything awaitable."""
    result = timed(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def unawaited_hint(run: Run, default: str) -> str:
    """The await hint when a coroutine was left unawaited, else `default`."""
    left = _close_coroutines(run.value)
    return AWAIT_HINT if run.unawaited or left else default


def never_ran(run: Run, what: str) -> Feedback:
    """Feedback for a call after which the wrapped coroutine had not run at all."""
    names = sorted(set(run.unawaited) | set(_close_coroutines(run.value)))
    observed = f"{what}: the wrapped function never ran"
    if names:
        observed += f" (the coroutine {', '.join(names)} was never awaited)"
    return Feedback(observed, "the wrapper to await the function once", AWAIT_HINT)


def _close_coroutines(value: object) -> list[str]:
    """Close coroutines a wrapper handed back un-awaited (so they warn in no later run)."""
    items = value if isinstance(value, list | tuple) else [value]
    names = []
    for item in items:
        if inspect.iscoroutine(item):
            names.append(item.__qualname__)
            item.close()
    return names


def nested_loop(error: BaseException | None) -> bool:
    """asyncio.run (or run_until_complete) called inside the running event loop."""
    return isinstance(error, RuntimeError) and "running event loop" in str(error)


def value_of(student: StudentCode, run: Run) -> Any:
    """`run.value_or_raise()`, with a hint of its own for asyncio.run inside a running loop."""
    error = run.error
    if nested_loop(error):
        where = student_location(error, student.folder)
        raise Feedback(
            f"the decorated call raised RuntimeError: {error}" + (f" ({where})" if where else ""),
            "a decorated function that can be awaited inside a running event loop",
            "asyncio.run starts an event loop of its own and cannot run inside one: make the "
            "wrapper `async def` and `await func(*args, **kwargs)` in it",
        )
    return run.value_or_raise()


def numbers_in(line: str, name: str) -> list[str]:
    """Decimal numbers of a printed line, the function's name left out."""
    return NUMBER.findall(line.replace(name, " "))


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _lines(run: Run, limit: int = 3) -> str:
    shown = "; ".join(repr(line[:100]) for line in run.lines[:limit])
    return shown + ("; ..." if len(run.lines) > limit else "")


class Gauge:
    """Counts calls in flight inside the test's own coroutines.

    A call holds until `expect` calls are in flight together, or until the loop
    has turned HOLD_TURNS times (and HOLD_MIN_SECONDS passed) with no new call:
    overlap is counted in loop turns, so a slow machine does not change it.
    """

    def __init__(self, expect: int) -> None:
        self.expect = expect
        self.now = 0
        self.max = 0
        self.arrived = 0

    async def hold(self) -> None:
        self.arrived += 1
        self.now += 1
        self.max = max(self.max, self.now)
        try:
            loop = asyncio.get_running_loop()
            started, seen, turns = loop.time(), self.arrived, 0
            while self.now < self.expect:
                await asyncio.sleep(0)
                if self.arrived != seen:
                    seen, turns = self.arrived, 0
                    continue
                turns += 1
                if turns >= HOLD_TURNS and loop.time() - started >= HOLD_MIN_SECONDS:
                    return
        finally:
            self.now -= 1


# ---------------------------------------------------------------- tests


@pytest.mark.points(3)
def test_returns_coroutine_function(student):
    async def load_report() -> str:
        return "report"

    timed = decorate(student, load_report)
    if inspect.iscoroutinefunction(timed):
        return
    kind = f"a plain function ({getattr(timed, '__name__', '?')})"
    hint = ("define the wrapper inside async_timeit with `async def wrapper(*args, **kwargs)` "
            "and `await func(*args, **kwargs)` in it (not asyncio.run)")
    dunder_call = vars(type(timed)).get("__call__")
    if not inspect.isfunction(timed) and inspect.iscoroutinefunction(dunder_call):
        kind = (f"an object of class {type(timed).__name__} with an async __call__, which "
                "inspect.iscoroutinefunction does not count")
        hint = ("return an `async def` wrapper function from async_timeit (decorated with "
                "@functools.wraps(func)) instead of a class instance")
    raise Feedback(
        f"inspect.iscoroutinefunction(async_timeit(f)) is False: the decorator returned {kind}",
        "a coroutine function, so that the time is measured while the call is awaited",
        hint,
    )


@pytest.mark.points(3)
def test_passes_arguments(student):
    calls: list[tuple[Any, ...]] = []

    async def collect(a, b, *rest, key, flag=False, **extra):
        calls.append((a, b, rest, key, flag, extra))
        await asyncio.sleep(0)
        return len(calls)

    timed = decorate(student, collect)
    run = student.run(lambda: call(timed, 1, "two", [3], key="k", flag=True, note=None))
    if isinstance(run.error, TypeError) and not calls:
        raise Feedback(
            "calling the decorated function with positional and keyword arguments raised "
            f"TypeError: {str(run.error)[:200]}",
            "every positional and keyword argument passed on to the function",
            "define the wrapper as `async def wrapper(*args, **kwargs)` and call "
            "`await func(*args, **kwargs)`",
        )
    value_of(student, run)
    if not calls:
        raise never_ran(run, "called as f(1, 'two', [3], key='k', flag=True, note=None)")
    expected = (1, "two", ([3],), "k", True, {"note": None})
    expect(
        calls == [expected],
        observed=(f"the function was called {len(calls)} time(s), with "
                  + "; ".join(_describe_call(c) for c in calls[:3])),
        expected=f"one call with {_describe_call(expected)}",
        hint="await func(*args, **kwargs) exactly once and pass on everything the wrapper got",
    )


def _describe_call(c: tuple[Any, ...]) -> str:
    a, b, rest, key, flag, extra = c
    return f"a={a!r}, b={b!r}, *rest={rest!r}, key={key!r}, flag={flag!r}, **extra={extra!r}"


@pytest.mark.points(3)
def test_returns_result_unchanged(student):
    produced: list[object] = []

    async def build_report(size: int) -> dict[str, Any]:
        await asyncio.sleep(0)
        report = {"rows": list(range(size))}
        produced.append(report)
        return report

    timed = decorate(student, build_report)
    run = student.run(lambda: call(timed, 3))
    value = value_of(student, run)
    if not produced:
        returned = "a coroutine object" if inspect.iscoroutine(value) else _short(value)
        raise never_ran(run, f"the decorated call returned {returned}")
    expect(
        value is produced[-1],
        observed=f"the decorated call returned {_short(value)}"
        + (" (an equal copy)" if value == produced[-1] else ""),
        expected=f"the very object the function returned: {_short(produced[-1])}",
        hint=unawaited_hint(run, "end the wrapper with `return result`, where "
                                 "`result = await func(*args, **kwargs)`"),
    )


@pytest.mark.points(3)
def test_exception_propagates_unchanged(student):
    error = ReportError("the report server is down")

    async def load_report() -> str:
        await asyncio.sleep(0)
        raise error

    timed = decorate(student, load_report)
    run = student.run(lambda: call(timed))
    if run.timed_out or nested_loop(run.error):
        value_of(student, run)
    hint = ("do not catch the exception in the wrapper, or re-raise it with a bare `raise`; "
            "to print the time anyway, use try/finally")
    if run.error is None:
        raise Feedback(
            f"the function raised ReportError, but the decorated call returned "
            f"{_short(run.value)} instead",
            "the same ReportError to come out of the decorated call",
            unawaited_hint(run, hint),
        )
    expect(
        run.error is error,
        observed=("the decorated call raised "
                  f"{type(run.error).__name__}: {str(run.error)[:200]}"
                  + (" (another object of the same type)" if type(run.error) is ReportError
                     else "")
                  + " where the function raised ReportError: the report server is down"),
        expected="the very exception object the function raised",
        hint=hint,
    )


async def load_report(day: str) -> str:
    """Load the daily report."""
    await asyncio.sleep(0)
    return day


load_report.__qualname__ = "Reports.load_report"  # a method-like name; not the test's own


@pytest.mark.points(2)
def test_keeps_metadata(student):
    timed = decorate(student, load_report)
    wrong = []
    for attr in ("__name__", "__qualname__", "__doc__"):
        got = getattr(timed, attr, None)
        if got != getattr(load_report, attr):
            wrong.append(f"{attr} is {got!r}")
    wrapped = getattr(timed, "__wrapped__", None)
    if wrapped is not load_report:
        wrong.append("__wrapped__ is missing" if wrapped is None
                     else f"__wrapped__ is {_short(wrapped)}")
    expect(
        not wrong,
        observed="the decorated function's " + ", ".join(wrong),
        expected=(f"__name__ {load_report.__name__!r}, __qualname__ "
                  f"{load_report.__qualname__!r}, __doc__ {load_report.__doc__!r} "
                  "and __wrapped__ set to the original function"),
        hint="put @functools.wraps(func) on the wrapper",
    )


@pytest.mark.points(3)
def test_prints_one_line_with_name(student):
    async def load_report() -> str:
        await asyncio.sleep(0.01)
        return "report"

    timed = decorate(student, load_report)
    run = student.run(lambda: call(timed))
    value_of(student, run)
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
    inside: list[float] = []
    around: list[float] = []

    async def load_report() -> str:
        inside.append(time.perf_counter())
        await asyncio.sleep(seconds)
        inside.append(time.perf_counter())
        return "report"

    timed = decorate(student, load_report)

    async def measured() -> Any:
        started = time.perf_counter()
        try:
            return await call(timed)
        finally:
            around.append(time.perf_counter() - started)

    run = student.run(measured)
    value_of(student, run)
    if len(inside) < 2:
        raise never_ran(run, "the decorated call finished")
    low, high = inside[-1] - inside[0], around[0]
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
    gauge = Gauge(expect=3)

    async def fetch_part(i: int) -> int:
        await gauge.hold()
        return i

    timed = decorate(student, fetch_part)

    async def together() -> list[Any]:
        return await asyncio.gather(*(call(timed, i) for i in range(3)))

    run = student.run(together)
    value_of(student, run)
    if gauge.arrived == 0:
        raise never_ran(run, "three decorated calls awaited together with asyncio.gather")
    expect(
        gauge.max == 3,
        observed=f"of 3 decorated calls awaited together with asyncio.gather, only "
                 f"{gauge.max} ran at once",
        expected="all 3 running at the same time",
        hint="the wrapper must only `await` the call: waiting in a blocking way (time.sleep, "
             "a thread's .result(), asyncio.run, run_until_complete) stops every other "
             "coroutine until it returns",
    )


@pytest.mark.points(2)
def test_no_blocking_calls(student):
    async def load_report() -> str:
        await asyncio.sleep(0.02)
        return "report"

    timed = decorate(student, load_report)
    run = student.run(lambda: call(timed))
    value_of(student, run)
    expect(
        not run.blocking,
        observed=f"the decorated call made a blocking call: {', '.join(run.blocking)}",
        expected="a decorator that never blocks the event loop",
        hint="time.sleep stops the whole event loop, so no other coroutine runs meanwhile: "
             "the wrapper needs no waiting of its own, just `await func(...)` (or use "
             "`await asyncio.sleep(...)`)",
    )
