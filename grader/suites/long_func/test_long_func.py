"""Hidden tests for long_func (20 points): the lecture's 15 requests, all at once.

Every check of `main()` runs it against a fake web (`FakeWeb`) that counts
requests in flight by event-loop turns, so no verdict depends on machine load.

Attribution. To answer each `long_func(i)` with a status of its own and to
check who printed what, each request and each printed line is attributed to
the `long_func(i)` call that made it: the fake's answer runs inside the
student's task and `print` inside the student's frame, so the student's
`long_func` frame is on the stack at that moment and its first argument is
`i`. A request made outside any `long_func` (main sending it itself) is
attributed by arrival order. Nothing reads the student's source.

After `main()` returns, the run waits for the student's tasks still pending
(fire-and-forget), so a main that does not wait loses the waiting check and
what it returns, not the in-flight count.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import io
import re
import socket
import sys
import urllib.error
from collections import Counter
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import aiohttp
import pytest

from grader.suites.feedback import Feedback, expect
from grader.suites.harness import OUTPUT_CAP, Run, StudentCode, student_location
from grader.suites.web import FakeWeb, Reply

URL = "https://www.gosuslugi.ru/"
N = 15
TIMEOUT = 8.0  # s for one run of main(): every answer comes within milliseconds
DRAIN_SECONDS = 3.0  # how long tasks main left running may take to finish afterwards
GAP_TURNS = 20  # loop turns between two answers when answers are released in reverse

# Varied answers, one per i: success, client and server errors alike.
VALUE_STATUSES = [200, 404, 201, 500, 503, 202, 403, 410, 502, 203, 429, 418, 504, 206, 400]
# Success codes only (so a raise_for_status() does not change this check), answered
# in reverse order of i: a list built in completion order comes out reversed.
ORDER_STATUSES = [200, 201, 202, 203, 206, 207, 208, 226, 200, 201, 202, 203, 206, 207, 208]
ALL_200 = [200] * N

GATHER_HINT = (
    "start them all before awaiting any: asyncio.gather(*(long_func(i) for i in range(15)))"
)

_SENDER: contextvars.ContextVar[int] = contextvars.ContextVar("long_func_sender")


# ---------------------------------------------------------------- attribution


class Attribution:
    """Finds which long_func(i) call is running, from the student's frames on the stack."""

    def __init__(self, student: StudentCode) -> None:
        func = student.function("long_func")
        try:
            func = inspect.unwrap(func)
        except ValueError:
            pass
        self.code = getattr(func, "__code__", None)
        self.folder = str(student.folder)

    def _is_long_func(self, frame: FrameType) -> bool:
        code = frame.f_code
        return code is self.code or (
            code.co_name == "long_func" and code.co_filename.startswith(self.folder)
        )

    def current_i(self) -> int | None:
        """The `i` of the innermost long_func frame on the current stack, or None."""
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if self._is_long_func(frame):
                i = _first_argument(frame)
                if i is not None:  # else a wrapper such as (*args): look further out
                    return i
            frame = frame.f_back
        return None


def _first_argument(frame: FrameType) -> int | None:
    code = frame.f_code
    if code.co_argcount + code.co_kwonlyargcount == 0:
        return None
    value = frame.f_locals.get(code.co_varnames[0])
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    with contextlib.suppress(TypeError, ValueError):
        return int(str(value).strip())
    return None


class AttributingWeb(FakeWeb):
    """FakeWeb that answers each long_func(i) with `statuses[i]`.

    With `reverse=True` answers are released from the highest i down, GAP_TURNS
    loop turns apart, so calls finish in the reverse order of i.
    """

    def __init__(self, who: Attribution, statuses: list[int], *, reverse: bool = False) -> None:
        super().__init__(expect_in_flight=N)
        self.who = who
        self.statuses = statuses
        self.reverse = reverse
        self.senders: list[int] = []  # the i of each request, parallel to self.requests
        self.answered: list[int] = []  # the i of each answer given, in order
        self._waiting: set[tuple[int, int]] = set()
        self.route(re.compile(".*"), lambda _request: Reply(self.status_for(_SENDER.get())))

    def status_for(self, i: int) -> int:
        return self.statuses[i % N] if i >= 0 else self.statuses[0]

    async def _answer(self, method: str, url: Any, kwargs: dict[str, Any]) -> Any:
        i = self.who.current_i()
        if i is None:
            i = len(self.requests)  # not sent by long_func: attribute by arrival order
        self.senders.append(i)
        token = _SENDER.set(i)
        try:
            result = await super()._answer(method, url, kwargs)
        finally:
            _SENDER.reset(token)
        self.answered.append(i)
        return result

    async def _hold(self) -> None:
        me = (_SENDER.get(), len(self.requests))
        self._waiting.add(me)
        try:
            await super()._hold()
            while self.reverse:
                if any(other > me for other in self._waiting):
                    await asyncio.sleep(0)
                    continue
                for _ in range(GAP_TURNS):  # let the previous answer reach the student
                    await asyncio.sleep(0)
                if not any(other > me for other in self._waiting):
                    break
        finally:
            self._waiting.discard(me)


class PrintTap(io.TextIOBase):
    """A stdout that remembers which long_func(i) (or None) wrote each piece of text."""

    def __init__(self, who: Attribution) -> None:
        self.who = who
        self.pieces: list[tuple[int | None, str]] = []
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self._size < OUTPUT_CAP:
            self.pieces.append((self.who.current_i(), text))
            self._size += len(text)
        return len(text)

    def lines(self) -> list[str]:
        """Output lines, stripped, as a terminal would show them."""
        return [line.strip() for line in "".join(t for _, t in self.pieces).splitlines()]

    def lines_of(self, i: int) -> list[str]:
        """Lines written from inside long_func(i)."""
        return [line.strip() for line in
                "".join(t for who, t in self.pieces if who == i).splitlines()]


# ---------------------------------------------------------------- running


@dataclass
class MainRun:
    """One run of main() with everything the checks look at."""

    run: Run
    web: AttributingWeb
    tap: PrintTap
    answered_at_return: int = 0
    pending_at_return: list[str] = field(default_factory=list)

    def requests_of(self, i: int) -> list[int]:
        return [k for k, sender in enumerate(self.web.senders) if sender == i]


def _student_tasks(folder: str) -> list[asyncio.Task[Any]]:
    me = asyncio.current_task()
    tasks = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if task is not me and not task.done() and code is not None \
                and code.co_filename.startswith(folder):
            tasks.append(task)
    return tasks


async def _drain(folder: str) -> None:
    """Let tasks main left behind finish, so their requests and sessions count."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DRAIN_SECONDS
    while _student_tasks(folder) and loop.time() < deadline:
        await asyncio.sleep(0.001)


def run_main(student: StudentCode, statuses: list[int], *, reverse: bool = False) -> MainRun:
    main = student.function("main", is_async=True)
    who = Attribution(student)
    folder = str(student.folder)
    with AttributingWeb(who, statuses, reverse=reverse) as web:
        tap = PrintTap(who)
        outcome = MainRun(Run(), web, tap)

        async def make() -> Any:
            with contextlib.redirect_stdout(tap):
                try:
                    return await main()
                finally:
                    outcome.answered_at_return = len(web.answered)
                    outcome.pending_at_return = sorted(
                        t.get_coro().__qualname__ for t in _student_tasks(folder))
                    await _drain(folder)

        outcome.run = student.run(make, timeout=TIMEOUT)
    return outcome


def run_alone(student: StudentCode, i: int = 3) -> tuple[Run, FakeWeb]:
    """`await long_func(i)` on its own, outside main, every request answered 200."""
    long_func = student.function("long_func")

    async def make() -> Any:
        result = long_func(i)
        return await result if inspect.isawaitable(result) else result

    with FakeWeb(expect_in_flight=1) as web:
        web.route(re.compile(".*"), Reply(200, body="<html>"))
        run = student.run(make, timeout=TIMEOUT)
    return run, web


def raise_student_error(run: Run, student: StudentCode, what: str = "main()") -> None:
    """Re-raise what the student's code raised, with words for the errors students hit here."""
    exc = run.error
    where = student_location(exc, student.folder) if exc is not None else ""
    at = f" ({where})" if where else ""
    if isinstance(exc, RuntimeError) and "asyncio.run() cannot be called" in str(exc):
        raise Feedback(
            f"{what} called asyncio.run() while the event loop was already running{at}",
            "async code to await coroutines: asyncio.run starts the program, once",
            "inside async functions write `await long_func(i)` or gather the calls; "
            "keep asyncio.run(main()) only under `if __name__ == \"__main__\":`",
        )
    if isinstance(exc, RuntimeError) and "Session is closed" in str(exc):
        raise Feedback(
            f"{what} sent a request through a session that was already closed{at}",
            "every request sent while its aiohttp.ClientSession is open",
            "await the calls (gather) inside the `async with aiohttp.ClientSession()` block: "
            "the session closes as soon as the block ends",
        )
    if isinstance(exc, aiohttp.ClientResponseError):
        raise Feedback(
            f"{what} raised ClientResponseError when the server answered {exc.status}{at}",
            "the status code returned as it is, whatever it is (404 and 500 too)",
            "do not call raise_for_status(); just return response.status",
        )
    if isinstance(exc, aiohttp.ClientConnectionError | ConnectionError | socket.gaierror
                  | urllib.error.URLError):
        raise Feedback(
            f"{what} raised {type(exc).__name__}: {exc}{at}",
            "every request sent with aiohttp to URL (no network is reachable while grading; "
            "the mock answers only aiohttp)",
            "send the GET with an aiohttp.ClientSession (or aiohttp.request), "
            "not requests, urllib or sockets",
        )
    run.value_or_raise()


def fail(run: Run, student: StudentCode, observed: str, expected: str, hint: str) -> None:
    """A failed check: the student's exception if there was one (it is the cause), else words."""
    if run.error is not None or run.timed_out:
        raise_student_error(run, student)
    raise Feedback(observed, expected, hint)


def _short(values: Any) -> str:
    text = " ".join(repr(values).split())  # reprs such as ClientResponse's span lines
    return text if len(text) <= 160 else text[:157] + "..."


# ---------------------------------------------------------------- long_func


@pytest.mark.points(2)
def test_long_func_works_alone(student):
    """long_func(i) with one argument, outside main, sends its request and returns the code."""
    run, web = run_alone(student, 3)
    exc = run.error
    if isinstance(exc, TypeError) and "argument" in str(exc):
        raise Feedback(
            f"await long_func(3), called on its own, raised TypeError: {exc}",
            "long_func(i) to work with one argument, outside main()",
            "give extra parameters a default (e.g. session=None) and, when no session is "
            "given, open one: `async with aiohttp.ClientSession() as session:`",
        )
    if exc is not None or run.timed_out:
        raise_student_error(run, student, "long_func(3) on its own")
    value = run.value
    expect(web.requests,
           observed=f"await long_func(3) returned {_short(value)} without sending any request",
           expected="one GET to URL and its status code returned",
           hint="send the request with aiohttp inside long_func and return response.status")
    expect(isinstance(value, int) and not isinstance(value, bool) and value == 200,
           observed=f"await long_func(3) returned {_short(value)} when the server answered 200",
           expected="the status code 200 (an int)",
           hint="return response.status, read inside `async with session.get(URL) as response:`")


@pytest.mark.points(2)
def test_prints_i(student):
    """long_func(i) prints i on a line of its own."""
    outcome = run_main(student, ALL_200)
    tap = outcome.tap
    lines = tap.lines()
    wrong = []
    for i in range(N):
        if str(i) in tap.lines_of(i) and str(i) in lines:
            continue
        wrong.append(i)
    if not wrong:
        return
    i = wrong[0]
    own = [line for line in tap.lines_of(i) if line]
    elsewhere = [line for who, text in tap.pieces if who != i
                 for line in text.splitlines() if line.strip() == str(i)]
    if own and str(i) in own:
        observed = (f"long_func({i}) printed {i}, but not on a line of its own: the output "
                    f"line was {_short(next((x for x in lines if str(i) in x), '?'))}")
        hint = "print(i) with the default end='\\n', one number per line"
    elif own:
        observed = f"long_func({i}) printed {_short(own[0])} instead of the line {i}"
        hint = "print(i) exactly, like the lecture: the line must be just the number"
    elif elsewhere:
        observed = f"{i} was printed, but not by long_func({i}) (printed outside long_func)"
        hint = "put print(i) inside long_func, before or after its request"
    else:
        observed = f"long_func({i}) printed nothing"
        hint = "add print(i) inside long_func, like the lecture's version"
    missing = f" ({len(wrong)} of 15 calls affected)" if len(wrong) > 1 else ""
    fail(outcome.run, student, observed + missing,
         "each long_func(i) to print i on a line of its own", hint)


@pytest.mark.points(2)
def test_sends_one_get_to_url(student):
    """URL is the lecture's address, and every long_func(i) sends exactly one GET to it."""
    url = student.value("URL")
    expect(url == URL,
           observed=f"URL is {_short(url)}",
           expected=f"URL = {URL!r}",
           hint="keep the stub's URL line unchanged")
    outcome = run_main(student, ALL_200)
    web = outcome.web
    for k, request in enumerate(web.requests):
        sent = request.url
        same = (sent.scheme, sent.host, sent.path or "/", sent.query_string) == (
            "https", "www.gosuslugi.ru", "/", "")
        if request.method != "GET" or not same:
            fail(outcome.run, student,
                 f"long_func({web.senders[k]}) sent {request.method} {sent}",
                 f"one GET to URL ({URL})",
                 "use session.get(URL) with the URL constant, nothing added to it")
    for i in range(N):
        count = len(outcome.requests_of(i))
        if count != 1:
            observed = (f"long_func({i}) sent no request" if count == 0
                        else f"long_func({i}) sent {count} requests")
            fail(outcome.run, student, observed,
                 "exactly one GET to URL from each of long_func(0) … long_func(14)",
                 "main should call long_func(i) once for each i in range(15), "
                 "and long_func should send one request")
    extra = sorted({i for i in web.senders if not 0 <= i < N})
    expect(not extra,
           observed=f"requests came from long_func({extra[0] if extra else ''}), "
                    "outside 0 … 14",
           expected="exactly the calls long_func(0) … long_func(14)",
           hint="use range(15): i goes from 0 to 14")


# ---------------------------------------------------------------- main


@pytest.mark.points(5)
def test_all_requests_in_flight(student):
    """main starts all 15 requests before any answer arrives (overlap, not time)."""
    outcome = run_main(student, ALL_200)
    run, web = outcome.run, outcome.web
    if web.max_in_flight >= N:
        return
    if web.max_in_flight == 0 and run.unawaited and run.error is None:
        raise Feedback(
            f"no request was sent; never awaited: {', '.join(run.unawaited)}",
            "all 15 in flight together",
            "calling an async function only creates a coroutine; nothing runs until it is "
            "awaited or passed to asyncio.gather / asyncio.create_task",
        )
    hint = GATHER_HINT
    if web.max_in_flight == 1:
        hint = ("each request waited for the previous answer (an await inside the loop); "
                + GATHER_HINT)
    fail(run, student,
         f"only {web.max_in_flight} of 15 requests were in flight at once",
         "all 15 in flight together", hint)


@pytest.mark.points(2)
def test_main_waits_for_all(student):
    """main returns only after all its requests have been answered and its tasks are done."""
    outcome = run_main(student, ALL_200)
    run = outcome.run
    if run.error is not None or run.timed_out:
        raise_student_error(run, student)
    total = len(outcome.web.requests)
    expect(total > 0,
           observed="main() sent no request at all",
           expected="main to run long_func(0) … long_func(14) and wait for them",
           hint=GATHER_HINT)
    pending = outcome.pending_at_return
    counts = Counter(pending)
    tasks = ("; tasks still running: " + ", ".join(
        f"{n} × {name}" if n > 1 else name for name, n in counts.items())) if pending else ""
    expect(outcome.answered_at_return == total and not pending,
           observed=f"main() returned when {outcome.answered_at_return} of its {total} "
                    f"requests had been answered{tasks}",
           expected="main to wait until all 15 calls have finished",
           hint="await the tasks (await asyncio.gather(*tasks)); a task that is created and "
                "never awaited is cancelled when asyncio.run(main()) ends")


@pytest.mark.points(2)
def test_returns_server_statuses(student):
    """main returns a list of the 15 codes the server answered, error codes included."""
    outcome = run_main(student, VALUE_STATUSES)
    run = outcome.run
    if run.error is not None or run.timed_out:
        raise_student_error(run, student)
    value = run.value
    served = VALUE_STATUSES
    expected = f"a list of the 15 status codes the server answered: {served} (by i)"
    expect(isinstance(value, list),
           observed=f"main() returned {type(value).__name__} {_short(value)}",
           expected=expected,
           hint="return the list asyncio.gather gives you (or build one from the tasks' results)")
    expect(len(value) == N,
           observed=f"main() returned a list of {len(value)} items: {_short(value)}",
           expected=expected,
           hint="one status code per call of long_func(0) … long_func(14)")
    bad = next((v for v in value if not isinstance(v, int) or isinstance(v, bool)), None)
    expect(bad is None,
           observed=f"main()'s list holds {type(bad).__name__} {_short(bad)}, not a status code",
           expected=expected,
           hint="long_func should return response.status, an int")
    expect(sorted(value) == sorted(served),
           observed=f"main() returned {value}; the server answered {served}",
           expected="the codes the server actually answered, error codes too",
           hint="return response.status as it is: nothing written by hand, "
                "no raise_for_status(), no replacing error codes")


@pytest.mark.points(2)
def test_statuses_ordered_by_i(student):
    """main's list holds the code of long_func(i) at index i, whatever order answers came in."""
    outcome = run_main(student, ORDER_STATUSES, reverse=True)
    run = outcome.run
    if run.error is not None or run.timed_out:
        raise_student_error(run, student)
    value = run.value
    got = list(value) if isinstance(value, list | tuple) else value
    if got == ORDER_STATUSES:
        return
    arrival = [ORDER_STATUSES[i % N] for i in outcome.web.answered]
    if got == arrival:
        observed = (f"main() returned the codes in the order the answers arrived ({got}); "
                    "the answers came from long_func(14) down to long_func(0)")
    else:
        observed = f"main() returned {_short(got)}"
    raise Feedback(
        observed,
        f"the code of long_func(i) at index i: {ORDER_STATUSES}",
        "asyncio.gather returns results in the order of its arguments; with tasks, read "
        "them in the order you created them ([t.result() for t in tasks]) rather than "
        "appending each result when it finishes",
    )


@pytest.mark.points(2)
def test_no_blocking(student):
    """Nothing blocks the event loop (time.sleep, requests, urllib) in main or long_func."""
    outcome = run_main(student, ALL_200)
    alone, _ = run_alone(student, 3)
    blocking = list(dict.fromkeys(outcome.run.blocking + alone.blocking))
    if blocking:
        raise Feedback(
            f"{' and '.join(blocking)} ran inside the event loop",
            "no blocking call: while one request waits, the loop must be free for the others",
            "time.sleep blocks the whole event loop: use await asyncio.sleep(...); "
            "send HTTP with aiohttp, never requests or urllib",
        )
    if outcome.run.error is not None or outcome.run.timed_out:
        raise_student_error(outcome.run, student)


@pytest.mark.points(1)
def test_sessions_closed(student):
    """Every aiohttp.ClientSession opened by main or by long_func alone is closed."""
    outcome = run_main(student, ALL_200)
    alone, _ = run_alone(student, 3)
    for run, what in ((outcome.run, "main()"), (alone, "long_func(3) on its own")):
        open_ = run.unclosed_sessions
        expect(open_ == 0,
               observed=f"{open_} aiohttp.ClientSession{'s were' if open_ > 1 else ' was'} "
                        f"still open after {what} finished",
               expected="every session you open closed",
               hint="open sessions with `async with aiohttp.ClientSession() as session:`; "
                    "it closes the session when the block ends, even on errors")
    if outcome.run.error is not None or outcome.run.timed_out:
        raise_student_error(outcome.run, student)

