"""[test process] Hidden tests for timing (25 points): the `async_timeit` decorator.

Each test has the student's `async_timeit` wrap a grader target built in the
worker (`student.decorate`, worker/main.py `Target`) and calls it there. The
target GETs a page of the trusted fake web with its arguments in the query
(`?call=N&args=JSON`), and the web holds the answer a few hundred ms (`delay`),
so everything a test judges was seen by trusted code: the request on the wire
(arguments, when it arrived, when its answer was released), the bytes of the
worker's real stdout (what was printed, and whether before or after that
answer), the call's duration measured here (`run.seconds`), and values and
exceptions compared with tokens the test chose.

Weights (grading policy §3): the essence, "the awaited call is timed", carries
13 of the 25 points in three tests. Each reads the seconds printed after the
target's answer was released and requires them to lie between that answer's
hold (the call lasted at least that long) and the call's trusted duration.
Printed lines carry no identity, so overlapping calls pass when some assignment
of their time lines to them fits every call (each line printed after that
call's answer, its number within that call's bounds).
Every call comes at least PAUSE seconds after decorating (or after the last
call), so a clock started at decoration or at the first call cannot pass; a
number read as milliseconds (a decimal number, or an integer with a millisecond
unit after it: `412 ms`, `412 мс`) is accepted here and charged once, by the
print format test. A bare integer is no reading.

Gates (§2). "Passes every argument", "returns the result", "lets exceptions
out", "is a coroutine function", "keeps metadata" and "gathered calls overlap"
are free for `return func`, so each pays only when, in that test, a decorated
call was really timed: after the target's answer was released, a line with a
number was printed (`require_timed`). The gate is deliberately loose (any
number, right or wrong, in any format): a flaw in the timing itself (time
printed before the work, or not printed at all) fails every gate, while a flaw
elsewhere (a wrong number, no return, dropped kwargs) fails only its own test.
So `return func`, a sync wrapper and code that times the creation of the
coroutine score at most the print format's 2 points; a clock started at
decoration scores the 12 gated points and none of the essence.

A control (`unwrapped_prints`, once per run): a grader target the decorator
never wrapped (`student.plain`) is called like the others. Honest code prints
nothing then; if it printed a line with a number, the program prints times for
functions it never decorated (a patch of the grader's targets), so every test
gated by `require_timed` or `check_time` fails.

Introspection (iscoroutinefunction, __name__ ...) is the worker's word and is
scored only together with such a trusted observation of a call.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import pytest

from grader.i18n import N_, _, ngettext
from grader.suites.checks import describe_call, printed_seconds, seconds_fit, short
from grader.suites.feedback import Feedback, expect
from grader.suites.harness import Decorated, Run, StudentCode
from grader.suites.web import FakeWeb, Reply, Request
from grader.worker.codec import decode
from grader.worker.protocol import TargetSpec

URL = "https://reports.example.test/daily"
NAME = "load_report"
PAUSE = 0.5  # s between decorating (or the last call) and a timed call
GATE_DELAY = 0.3  # s an answer is held in the gated tests
GATHERED = 3
# A wrapper that blocks the loop until its call is done gives the web no "quiet"
# word, so each held answer waits MAX_HOLD_SECONDS: such a run is cut off here.
GATHER_TIMEOUT = 6.0
# Time lines of the overlapping calls tried in assigning them to the calls.
MAX_TIME_LINES = 12
# Overlapping calls f(t0), f(t1), f(t2) (unguessable tokens, so a decoy request cannot
# pose as a call not yet made): each answer held its own delay, so the calls end in an
# order neither ascending nor descending.
STAGGERED = (0.7, 0.3, 0.75)
# ...and the moments they start, so that they overlap without starting together. They end
# at 0.7, 0.5 and 1.05 s: 200 ms apart at least, neither ascending nor descending. A clock
# shared by the calls fails whatever line each call takes: one `start` overwritten by each
# call reads 0.2, 0.4 and 0.75 s, but two calls were held 0.7 s or more; one started at the
# first call reads 0.3 s too much for the call started last, and only its own line (the
# last) was printed after its answer.
STARTS = (0.0, 0.2, 0.3)

AWAIT_HINT = N_(
    "inside the wrapper write `result = await func(*args, **kwargs)`: calling func "
    "without await only creates a coroutine, nothing in it runs"
)
PRINT_HINT = N_(
    'after the await print one line: print(f"Время выполнения {func.__name__}: '
    '{elapsed:.4f} секунд")'
)
TIMER_HINT = N_(
    "take the start time inside the wrapper, right before `await func(*args, **kwargs)`, "
    "and the end right after it: start = time.perf_counter(); result = await func(...); "
    "elapsed = time.perf_counter() - start"
)
REPORT = {"name": NAME, "qualname": "Reports.load_report", "doc": "Load the daily report.",
          "module": "reports"}


# ---------------------------------------------------------------- the trusted web


def paced_web(delays: dict[str, float], expect_in_flight: int) -> FakeWeb:
    """A fake web holding each call's answer its own time (`delays` by its first argument).

    The argument only picks how long an answer waits; what a test judges is the
    hold measured here (arrival to release), whatever a request carried.
    """
    longest = max(delays.values())
    return serve(FakeWeb(expect_in_flight=expect_in_flight, hold=False,
                         delay=lambda request: delays.get(first_argument(request), longest)))


def page_web(delay: float = GATE_DELAY, expect_in_flight: int = 1) -> FakeWeb:
    web = FakeWeb(expect_in_flight=expect_in_flight, delay=delay)
    serve(web)
    return web


def serve(web: FakeWeb) -> FakeWeb:
    # Each call is one resource: the same call asked twice counts once in flight.
    web.route(URL, Reply(200, body="report ready"), key=call_key)
    return web


def call_key(request: Request) -> str:
    """The call a request belongs to: its arguments as sent (gathered calls differ in them)."""
    return request.url.query.get("args", "")


def first_argument(request: Request) -> Any:
    call = wire_call(request)
    return call[0][0] if call and call[0] else None


def wire_call(request: Request) -> tuple[Any, Any] | None:
    """The (args, kwargs) a target's request carried on the wire."""
    try:
        data = json.loads(request.url.query.get("args", ""))
        return decode(data["args"]), decode(data["kwargs"])
    except (ValueError, KeyError, TypeError):
        return None


# ---------------------------------------------------------------- what was printed


@dataclass
class Printed:
    """One non-empty line of the call's stdout, and where it starts (a byte offset)."""

    text: str
    offset: int


def printed_lines(run: Run) -> list[Printed]:
    raw = run.stdout.encode()
    lines, offset = [], 0
    for chunk in raw.splitlines(keepends=True):
        text = chunk.decode("utf-8", errors="replace").strip()
        if text:
            lines.append(Printed(text, offset))
        offset += len(chunk)
    return lines


def after(run: Run, request: Request) -> list[Printed]:
    """Lines printed after `request`'s answer was released."""
    mark = request.printed_before_answer
    if mark is None:
        return []
    return [line for line in printed_lines(run) if line.offset >= mark]


def show(lines: list[Printed], limit: int = 3) -> str:
    shown = "; ".join(repr(line.text[:100]) for line in lines[:limit])
    return shown + ("; ..." if len(lines) > limit else "")


# An integer followed by a millisecond unit: `412 ms`, `412ms`, `412 msec`, `412 мс`,
# `412 миллисекунд`. A bare integer is no reading ("0" passes nothing).
INT_MS = re.compile(
    r"(?<![\d.,])(\d+)(?![.,]\d)\s*(?:ms|msecs?|milli-?sec\w*|мс|мсек|милл?и-?сек\w*)(?!\w)",
    re.IGNORECASE,
)


def whole_milliseconds(text: str) -> list[str]:
    """The integers of a line that a millisecond unit follows, as written."""
    return INT_MS.findall(text.replace(NAME, " "))


def readings(text: str) -> list[tuple[str, float]]:
    """The numbers of a line with their scale: as seconds, and as milliseconds.

    A decimal number may be either; an integer only with a millisecond unit after it.
    """
    return ([(n, scale) for n in printed_seconds(text, NAME) for scale in (1.0, 1000.0)]
            + [(n, 1000.0) for n in whole_milliseconds(text)])


def fits(text: str, low: float, high: float) -> bool:
    """The line holds a number that reads as a duration in [low, high], in s or ms."""
    return any(seconds_fit(n, low * scale, high * scale) for n, scale in readings(text))


# ---------------------------------------------------------------- helpers


def decorate(student: StudentCode, **spec: Any) -> Decorated:
    """`async_timeit(target)`, checked to be something that can be called."""
    timed = student.decorate("async_timeit", TargetSpec(**{"name": NAME, **spec}))
    if timed.kind == "coroutine":
        raise Feedback(
            _("async_timeit(f) returned a coroutine, not a function: async_timeit itself "
              "is declared `async def`"),
            _("a plain `def async_timeit(func)` that returns an `async def` wrapper"),
            _("only the wrapper inside is `async def`; async_timeit just builds and returns it"),
        )
    expect(
        timed.kind == "callable",
        observed=_("async_timeit(f) returned {value}, not a function").format(
            value=short(timed.value)),
        expected=_("the decorated function (the wrapper)"),
        hint=_("end async_timeit with `return wrapper`"),
    )
    return timed


def fetching(student: StudentCode, **spec: Any) -> Decorated:
    """A decorated target that fetches URL on each call; PAUSE seconds pass before it is used."""
    timed = decorate(student, fetch=URL, **spec)
    time.sleep(PAUSE)
    return timed


def answered(run: Run, web: FakeWeb, what: str) -> list[Request]:
    """The target's answered requests; a call that failed or never ran the target is feedback."""
    value_or_raise(run)
    done = [r for r in web.served if r.answered_at is not None]
    if not done:
        names = sorted(set(run.reported.unawaited) | set(run.reported.coroutines))
        observed = _("{what}: the decorated function never ran (it sent no request)").format(
            what=what)
        if names:
            observed += _("; the coroutine {names} was never awaited").format(
                names=", ".join(names))
        raise Feedback(observed, _("the wrapper to await the function once"), _(AWAIT_HINT))
    return done


def value_or_raise(run: Run) -> Any:
    """`run.value_or_raise()`, with words of its own for asyncio.run inside a running loop."""
    error = run.error
    if error is not None and error.is_a("RuntimeError") and "running event loop" in error.message:
        where = f" ({error.where})" if error.where else ""
        raise Feedback(
            _("the decorated call raised RuntimeError: {error}").format(
                error=error.message[:200]) + where,
            _("a decorated function that can be awaited inside a running event loop"),
            _("asyncio.run starts an event loop of its own and cannot run inside one: make the "
              "wrapper `async def` and `await func(*args, **kwargs)` in it"),
        )
    return run.value_or_raise()


def require_timed(student: StudentCode, run: Run, web: FakeWeb, clause: str) -> None:
    """The gate: after the target's answer was released, a line with a number was printed.

    A clause that `return func` gets for free pays only when the call was timed.
    """
    done = [r for r in web.served if r.answered_at is not None]
    if done:
        first = min(done, key=lambda r: r.answered_at or 0.0)
        if any(any(c.isdigit() for c in line.text) for line in after(run, first)):
            refuse_unwrapped_timing(student)
            return
    lines = printed_lines(run)
    if not done:
        observed = _("the decorated call never ran the function (no request reached the web)")
    elif lines:
        observed = _("the call printed only before the function's work had finished "
                     "({lines}): the time was taken before the call was awaited").format(
            lines=show(lines))
    else:
        observed = _("the decorated call printed nothing")
    raise Feedback(
        _("{observed}, so it was not timed, and '{clause}' earns points only for a "
          "decorator that times the call").format(observed=observed, clause=clause),
        _("a line with the elapsed seconds printed after the awaited call"),
        _(AWAIT_HINT if not done or lines else PRINT_HINT),
    )


def check_time(student: StudentCode, run: Run, request: Request, high: float, what: str,
               lines: list[Printed] | None = None) -> None:
    """A line printed after `request`'s answer holds seconds between its hold and `high`."""
    low = (request.answered_at or 0.0) - request.arrived_at
    later = after(run, request) if lines is None else lines
    if any(fits(line.text, low, high) for line in later):
        refuse_unwrapped_timing(student)
        return
    everything = printed_lines(run)
    if not later:
        if everything:
            raise Feedback(
                _("{what} printed {lines} before its work had finished (its page "
                  "was held {hold:.2f} s), and nothing after it").format(
                    what=what, lines=show(everything), hold=request.hold),
                _("the elapsed seconds printed after the awaited call"),
                _("print after `await func(*args, **kwargs)`: calling func(...) without await "
                  "only creates the coroutine, and its work runs later"),
            )
        raise Feedback(_("{what} printed nothing").format(what=what),
                       _("one line with the elapsed seconds"), _(PRINT_HINT))
    found = [(n, scale) for line in later for n, scale in readings(line.text)]
    if not found:
        raise Feedback(
            _("{what} printed {lines}, with no decimal number in it").format(
                what=what, lines=show(later)),
            _("the elapsed seconds as a decimal number, such as 0.4012"), _(PRINT_HINT))
    shown = ", ".join(dict.fromkeys(n for n, _scale in found[:6]))
    if all(float(number.replace(",", ".")) / scale < low for number, scale in found):
        hint = _("the time must cover the whole awaited call: {advice}")
    else:
        hint = _("the clock started before this call (when the function was decorated, or "
                 "at an earlier call): {advice}")
    raise Feedback(
        _("{what} lasted between {low:.3f} and {high:.3f} s (measured by the grader) but "
          "printed {numbers}").format(what=what, low=low, high=high, numbers=shown),
        _("the elapsed seconds of that call"),
        hint.format(advice=_(TIMER_HINT)),
    )


# Per student: what a grader target the decorator never wrapped printed, after its work,
# when it was called ("" for honest code). Asked once per run (the worker lives as long).
_UNWRAPPED: dict[int, str] = {}


def unwrapped_prints(student: StudentCode) -> str:
    """The lines with a number that a call of a target async_timeit never wrapped printed.

    A control against a submission that patches the grader's targets so that they
    time themselves: an honest program prints nothing while such a function runs.
    The target looks the same as the decorated ones (name, page, a held answer).
    """
    key = id(student)
    if key not in _UNWRAPPED:
        handle = student.plain(TargetSpec(name=NAME, fetch=URL, returns=token()))
        web = page_web(GATE_DELAY)
        run = student.call(handle, web=web)
        done = [r for r in web.served if r.answered_at is not None]
        first = min(done, key=lambda r: r.answered_at or 0.0) if done else None
        lines = after(run, first) if first is not None else []
        _UNWRAPPED[key] = show([line for line in lines if any(c.isdigit() for c in line.text)])
    return _UNWRAPPED[key]


def refuse_unwrapped_timing(student: StudentCode) -> None:
    """A timed call counts only if functions the decorator never wrapped print no time."""
    shown = unwrapped_prints(student)
    if shown:
        raise Feedback(
            _("lines with seconds were printed for a function your decorator never wrapped "
              "({lines}): the time must come from async_timeit").format(lines=shown),
            _("a time line only from the wrapper that async_timeit returns, and nothing "
              "printed by functions it never wrapped"),
            _("time the call inside the wrapper: start = time.perf_counter(); "
              "result = await func(*args, **kwargs); print the elapsed seconds; leave the "
              "grader's own code alone"),
        )


def timed_call(student: StudentCode, timed: Decorated, clause: str, *args: Any,
               delay: float = GATE_DELAY, **kwargs: Any) -> tuple[Run, FakeWeb]:
    """Call a fetching target and require that the call was timed (the gate)."""
    web = page_web(delay)
    run = student.call(timed.handle, *args, web=web, **kwargs)
    answered(run, web, _("the decorated call {call}").format(
        call=describe_call(NAME, args, kwargs)))
    require_timed(student, run, web, clause)
    return run, web


def token() -> str:
    return secrets.token_hex(8)


def together_words() -> str:
    """The GATHERED calls of a test, named for the student (in the chosen language)."""
    return ngettext("{count} decorated call awaited together",
                    "{count} decorated calls awaited together", GATHERED).format(count=GATHERED)


# ---------------------------------------------------------------- the essence: 13 points


@pytest.mark.points(5)
def test_prints_time_of_awaited_call(student):
    """Prints the seconds the awaited call took"""
    timed = fetching(student, returns=token())
    web = page_web(0.4)
    run = student.call(timed.handle, web=web)
    request = answered(run, web, _("the decorated call"))[-1]
    check_time(student, run, request, run.seconds, _("a call decorated 0.5 s earlier"))


@pytest.mark.points(4)
def test_times_each_call_again(student):
    """Times every call on its own, also one made later"""
    timed = fetching(student, returns=token())
    for number, delay in ((1, 0.25), (2, 0.55)):
        if number == 2:
            time.sleep(PAUSE)
        web = page_web(delay)
        run = student.call(timed.handle, number, web=web)
        request = answered(run, web, _("call {number} of the same decorated function").format(
            number=number))[-1]
        check_time(student, run, request, run.seconds,
                   _("call {number} of the same decorated function (0.5 s after the last)")
                   .format(number=number))


@pytest.mark.points(4)
def test_times_overlapping_calls_separately(student):
    """Times overlapping calls each on its own"""
    timed = fetching(student, returns=token())
    tokens = [token() for _hold in STAGGERED]
    web = paced_web(dict(zip(tokens, STAGGERED, strict=True)), GATHERED)
    starts = dict(zip(tokens, STARTS, strict=True))
    started = time.perf_counter()
    run = student.call(timed.handle, together=[((t,), {}, starts[t]) for t in tokens], web=web,
                       timeout=GATHER_TIMEOUT)
    done = sorted(answered(run, web, together_words()), key=lambda r: r.answered_at or 0.0)
    expect(
        len(done) == GATHERED,
        observed=_("of {count} decorated calls awaited together, {reached} reached the "
                   "function's request").format(count=GATHERED, reached=len(done)),
        expected=_("all {count} to run the function").format(count=GATHERED),
        hint=_(AWAIT_HINT),
    )
    lines = [line for line in printed_lines(run) if readings(line.text)]
    held = ", ".join(f"{s:.2f}" for s in STAGGERED)
    begun = ", ".join(f"{s:.2f}" for s in STARTS)

    def read_by(line: Printed) -> float:
        # A line was read here before any answer released after it was printed, or
        # else by the reply.
        releases = [r.answered_at or 0.0 for r in done
                    if (r.printed_before_answer or 0) > line.offset]
        return min(releases) if releases else started + run.seconds

    def bounds(request: Request, line: Printed) -> tuple[float, float]:
        # Its page was held `low` s; it started starts[...] s into the gather, and
        # its time counts from there to when the line was read.
        low = (request.answered_at or 0.0) - request.arrived_at
        begun = starts.get(first_argument(request), 0.0)
        return low, read_by(line) - started - begun

    def mine(request: Request, line: Printed) -> bool:
        """The line may be this call's time: printed after its answer, and it fits."""
        mark = request.printed_before_answer
        return (mark is not None and line.offset >= mark
                and fits(line.text, *bounds(request, line)))

    # Printed lines carry no identity: the calls are timed each on its own when SOME
    # assignment of distinct time lines to them gives each call a line printed after
    # its own answer's release with a number within its bounds. A clock shared by the
    # calls reads too little for the ones held longest, whatever line they take.
    first_mark = min(r.printed_before_answer or 0 for r in done)
    candidates = [line for line in lines if line.offset >= first_mark][:MAX_TIME_LINES]
    fit = {(i, j): mine(r, line) for i, r in enumerate(done)
           for j, line in enumerate(candidates)}
    later = {(i, j): line.offset >= (r.printed_before_answer or 0) for i, r in enumerate(done)
             for j, line in enumerate(candidates)}
    best: tuple[tuple[int, int], list[Printed | None]] | None = None
    options = [*range(len(candidates)), *[None] * GATHERED]
    for chosen in itertools.permutations(options, GATHERED):
        pairs = list(enumerate(chosen))
        score = (sum(j is not None and fit[i, j] for i, j in pairs),
                 sum(j is not None and later[i, j] for i, j in pairs))
        if best is None or score > best[0]:
            best = (score, [None if j is None else candidates[j] for j in chosen])
    assert best is not None
    if best[0][0] == GATHERED:
        refuse_unwrapped_timing(student)
        return
    # Feedback from the closest assignment: its first call without a fitting line.
    for request, line in zip(done, best[1], strict=True):
        if line is not None and mine(request, line):
            continue
        about = _("of {count} decorated calls awaited together (started {starts} s in, answers "
                  "held {holds} s), the one held {hold:.2f} s").format(
            count=GATHERED, starts=begun, holds=held, hold=request.hold)
        if line is not None:
            check_time(student, run, request, bounds(request, line)[1], about, lines=[line])
        own = [other for other in lines
               if other.offset >= (request.printed_before_answer or 0)]
        if not own:
            check_time(student, run, request, run.seconds, about, lines=[])
        raise Feedback(
            _("{what} had no time line of its own: the lines printed after its answer "
              "({lines}) are the times of the other calls").format(what=about, lines=show(own)),
            _("one line with the elapsed seconds for each call"),
            _(PRINT_HINT),
        )
    raise AssertionError("unreachable: some call lacks a fitting line")


# ---------------------------------------------------------------- overlap: 2 points


@pytest.mark.points(2)
def test_gathered_calls_overlap(student):
    """Decorated calls awaited together run at the same time"""
    timed = decorate(student, fetch=URL, returns=token())
    web = serve(FakeWeb(expect_in_flight=GATHERED))
    run = student.call(timed.handle, together=[((token(),), {}) for _call in range(GATHERED)],
                       web=web,
                       timeout=GATHER_TIMEOUT)
    hint = _("the wrapper must only `await` the call: waiting in a blocking way (time.sleep, "
             "a thread's .result(), asyncio.run, run_until_complete, a lock held across the "
             "await) stops the other calls until it returns")
    if not (run.timed_out and web.served):
        answered(run, web, together_words())
    expect(
        web.max_in_flight == GATHERED,
        observed=_("of {count} decorated calls awaited together with asyncio.gather, only "
                   "{in_flight} had its request out at once").format(
            count=GATHERED, in_flight=web.max_in_flight)
        + (_(", and together they did not finish within {timeout:.0f} s").format(
            timeout=GATHER_TIMEOUT) if run.timed_out else ""),
        expected=ngettext("all {count} request out at the same time",
                          "all {count} requests out at the same time", GATHERED).format(
            count=GATHERED),
        hint=hint,
    )
    require_timed(student, run, web, _("gathered calls overlap"))


# ---------------------------------------------------------------- gated clauses: 10 points


@pytest.mark.points(2)
def test_passes_every_argument(student):
    """Passes every positional and keyword argument to the function"""
    timed = decorate(student, fetch=URL, returns=token())
    args = [token(), 7, [token(), None]]
    kwargs = {"key": token(), "flag": True, "note": None}
    web = page_web()
    run = student.call(timed.handle, *args, web=web, **kwargs)
    shown = describe_call(NAME, args, kwargs)
    if run.error is not None and run.error.is_a("TypeError") and not web.served:
        raise Feedback(
            _("calling the decorated function as {call} raised TypeError: {error}").format(
                call=shown, error=run.error.message[:200]),
            _("every positional and keyword argument passed on to the function"),
            _("define the wrapper as `async def wrapper(*args, **kwargs)` and call "
              "`await func(*args, **kwargs)`"),
        )
    answered(run, web, _("the decorated call {call}").format(call=shown))
    require_timed(student, run, web, _("passes every argument"))
    calls = [wire_call(r) for r in web.served]
    expect(
        calls == [(args, kwargs)],
        observed=ngettext("called as {call}, the function ran {count} time(s), as {calls}",
                          "called as {call}, the function ran {count} time(s), as {calls}",
                          len(calls)).format(
            call=shown, count=len(calls),
            calls="; ".join(describe_call(NAME, *c) if c else "?" for c in calls[:3])),
        expected=_("one call, as {call}").format(call=shown),
        hint=_("await func(*args, **kwargs) exactly once and pass on everything the wrapper "
               "got"),
    )


@pytest.mark.points(2)
def test_returns_result(student):
    """Returns the function's result unchanged"""
    result = {"report": token(), "rows": [0, 1, 2]}
    timed = decorate(student, fetch=URL, returns=result)
    run, _web = timed_call(student, timed, _("returns the result"))
    value = run.value
    expect(
        value == result,
        observed=_("the function returned {result}, the decorated call returned "
                   "{value}").format(result=short(result), value=short(value)),
        expected=_("the function's result, unchanged"),
        hint=_("end the wrapper with `return result`, where "
               "`result = await func(*args, **kwargs)`"),
    )


@pytest.mark.points(2)
def test_lets_exceptions_out(student):
    """Lets the function's exception out unchanged"""
    timed_call(student, decorate(student, fetch=URL, returns=token()),
               _("lets exceptions out"))
    message, error_class = token(), f"ReportError{secrets.token_hex(3)}"
    failing = decorate(student, raises=message, error_class=error_class)
    run = student.call(failing.handle)
    if run.timed_out or run.crashed:
        value_or_raise(run)
    hint = _("do not catch the exception in the wrapper, or re-raise it with a bare `raise`; "
             "to print the time anyway, use try/finally")
    error = run.error
    if error is None:
        raise Feedback(
            _("the function raised {error_class}, but the decorated call returned "
              "{value} instead").format(error_class=error_class, value=short(run.value)),
            _("the same {error_class} to come out of the decorated call").format(
                error_class=error_class),
            hint,
        )
    expect(
        error.type == error_class and error.message == message,
        observed=_("the function raised {error_class}: {message}, the decorated call raised "
                   "{got_class}: {got_message}").format(
            error_class=error_class, message=message, got_class=error.type,
            got_message=error.message[:200]),
        expected=_("the same exception to come out"),
        hint=hint,
    )


@pytest.mark.points(2)
def test_prints_one_line_with_name_and_seconds(student):
    """Prints one line with the function's name and the seconds"""
    timed = decorate(student, fetch=URL, returns=token())
    web = page_web()
    run = student.call(timed.handle, web=web)
    request = answered(run, web, _("the decorated call"))[-1]
    lines = printed_lines(run)
    expect(lines, observed=_("the call printed nothing"),
           expected=_("one line with the function's name and the seconds"), hint=_(PRINT_HINT))
    expect(
        len(lines) == 1,
        observed=ngettext("one call printed {count} line: {lines}",
                          "one call printed {count} lines: {lines}", len(lines)).format(
            count=len(lines), lines=show(lines)),
        expected=_("exactly one line per call"),
        hint=_("print once, after the await; leave out extra prints such as 'start'"),
    )
    line = lines[0].text
    printed = repr(line[:120])
    expect(
        NAME in line,
        observed=_("the printed line {line} does not hold the function's name {name}").format(
            line=printed, name=repr(NAME)),
        expected=_("the name of the called function in the line"),
        hint=_("use func.__name__ in the message"),
    )
    found = printed_seconds(line, NAME)
    whole = whole_milliseconds(line)
    if whole and not found:
        raise Feedback(
            _("the printed line {line} gives the time as {number} milliseconds").format(
                line=printed, number=whole[0]),
            _("the time in seconds, as a decimal number such as 0.3012"),
            _("print seconds, not milliseconds: do not multiply by 1000, format with "
              "{elapsed:.4f}"),
        )
    expect(
        len(found) == 1,
        observed=(_("the printed line {line} holds {count} decimal numbers").format(
            line=printed, count=len(found)) + (f" ({', '.join(found[:4])})" if found else "")),
        expected=_("one decimal number, the seconds, such as 0.3012"),
        hint=_("format the seconds with a dot and digits after it, e.g. {elapsed:.4f}, and "
               "print no other number with a dot"),
    )
    low = (request.answered_at or 0.0) - request.arrived_at
    in_ms = seconds_fit(found[0], low * 1000, run.seconds * 1000)
    expect(
        not in_ms or seconds_fit(found[0], low, run.seconds),
        observed=_("a call of {low:.3f}-{high:.3f} s printed {number}: milliseconds").format(
            low=low, high=run.seconds, number=found[0]),
        expected=_("the time in seconds"),
        hint=_("print seconds: do not multiply by 1000"),
    )


@pytest.mark.points(1)
def test_is_coroutine_function(student):
    """The decorated function is a coroutine function"""
    timed = decorate(student, fetch=URL, returns=token())
    timed_call(student, timed, _("is a coroutine function"))
    if timed.coroutine_function:
        return
    observed = _("inspect.iscoroutinefunction(async_timeit(f)) is False: the decorator "
                 "returned a plain function ({name})")
    hint = _("define the wrapper inside async_timeit with `async def wrapper(*args, **kwargs)` "
             "and `await func(*args, **kwargs)` in it")
    if not timed.is_function and timed.async_call:
        observed = _("inspect.iscoroutinefunction(async_timeit(f)) is False: the decorator "
                     "returned an object of class {type} with an async __call__, which "
                     "inspect.iscoroutinefunction does not count")
        hint = _("return an `async def` wrapper function from async_timeit (decorated with "
                 "@functools.wraps(func)) instead of a class instance")
    elif not timed.is_function:
        observed = _("inspect.iscoroutinefunction(async_timeit(f)) is False: the decorator "
                     "returned an object of class {type}")
    raise Feedback(
        observed.format(name=timed.name or "?", type=timed.type),
        _("a coroutine function, as the function it wraps"),
        hint,
    )


@pytest.mark.points(1)
def test_keeps_metadata(student):
    """Keeps the function's name, qualified name and docstring (functools.wraps)"""
    timed = decorate(student, fetch=URL, returns=token(), **REPORT)
    timed_call(student, timed, _("keeps metadata"))
    wrong = [_("{attribute} is {value}").format(attribute=attr, value=repr(got))
             for attr, got, want in (
        ("__name__", timed.name, REPORT["name"]),
        ("__qualname__", timed.qualname, REPORT["qualname"]),
        ("__doc__", timed.doc, REPORT["doc"]),
    ) if got != want]
    if not timed.wrapped_is_target:
        wrong.append(_("__wrapped__ is missing or is not the original function"))
    expect(
        not wrong,
        observed=_("the decorated function's {problems}").format(problems=", ".join(wrong)),
        expected=_("__name__ {name}, __qualname__ {qualname}, __doc__ {doc} and __wrapped__ "
                   "set to the original function").format(
            name=repr(REPORT["name"]), qualname=repr(REPORT["qualname"]),
            doc=repr(REPORT["doc"])),
        hint=_("put @functools.wraps(func) on the wrapper"),
    )
