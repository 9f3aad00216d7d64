"""Hidden tests for long_func (20 points): the lecture's 15 requests, all at once.

Every check of `main()` runs it in the sandboxed worker against a trusted fake
web (`FakeWeb`) that sees each request on the wire and holds the answers until
all 15 are in flight or the student's event loop has gone quiet (counted in
loop turns), so no verdict depends on machine load.

Attribution. To answer each `long_func(i)` with a status of its own and to
check who printed what, the worker labels each request and each piece of
printed text with the first argument `i` of the innermost `long_func` call on
the stack when it was sent or printed (`label="long_func"`): the test reads it
as `request.caller` and `run.lines_of(i)`. A request made outside any
`long_func` (main sending it itself) is attributed by arrival order. Nothing
reads the student's source.

After `main()` returns, the worker gives the student's tasks still pending
(fire-and-forget) DRAIN_SECONDS to finish, so a main that does not wait loses
the waiting check and what it returns, not the in-flight count.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from grader.suites.feedback import Feedback, expect
from grader.suites.harness import Run, StudentCode
from grader.suites.web import FakeWeb, Reply, Request
from grader.worker.codec import Opaque

URL = "https://www.gosuslugi.ru/"
N = 15
TIMEOUT = 6.0  # s for one run of main(): every answer comes within milliseconds
DRAIN_SECONDS = 2.0  # how long tasks main left running may take to finish afterwards
# One run takes at most TIMEOUT + DRAIN_SECONDS (plus the worker link's grace when the
# loop is blocked); a test makes a second run (long_func alone) only after a first that
# finished, so that it stays within the assignment's time limit for one test.

# Varied answers, one per i: success, client and server errors alike.
VALUE_STATUSES = [200, 404, 201, 500, 503, 202, 403, 410, 502, 203, 429, 418, 504, 206, 400]
# Success codes only (so a raise_for_status() does not change this check), answered
# in reverse order of i: a list built in completion order comes out reversed.
ORDER_STATUSES = [200, 201, 202, 203, 206, 207, 208, 226, 200, 201, 202, 203, 206, 207, 208]
ALL_200 = [200] * N

GATHER_HINT = (
    "start them all before awaiting any: asyncio.gather(*(long_func(i) for i in range(15)))"
)


# ---------------------------------------------------------------- running


def sender(request: Request) -> int:
    """The i of the long_func(i) that sent `request`; outside long_func, its arrival order."""
    return request.caller if request.caller is not None else request.index


def status_for(statuses: list[int], i: int) -> int:
    return statuses[i % N] if i >= 0 else statuses[0]


def run_main(student: StudentCode, statuses: list[int], *,
             reverse: bool = False) -> tuple[Run, FakeWeb]:
    """`await main()` against a web answering long_func(i) with `statuses[i]`.

    With `reverse=True` answers are released one at a time from the highest i
    down, each after the previous one reached the student, so calls finish in
    the reverse order of i.
    """
    student.function("main", is_async=True)
    web = FakeWeb(expect_in_flight=N, reverse=reverse)
    web.route(re.compile(".*"), lambda request: Reply(status_for(statuses, sender(request))))
    run = student.call("main", web=web, label="long_func", drain=DRAIN_SECONDS,
                       timeout=TIMEOUT)
    return run, web


def requests_of(web: FakeWeb, i: int) -> list[Request]:
    return [request for request in web.requests if sender(request) == i]


def printed_lines(run: Run) -> list[str]:
    """Output lines, stripped, as a terminal would show them."""
    return [line.strip() for line in run.stdout.splitlines()]


def run_alone(student: StudentCode, i: int = 3) -> tuple[Run, FakeWeb]:
    """`await long_func(i)` on its own, outside main, every request answered 200."""
    student.function("long_func")
    web = FakeWeb(expect_in_flight=1)
    web.route(re.compile(".*"), Reply(200, body="<html>"))
    run = student.call("long_func", i, web=web, timeout=TIMEOUT)
    return run, web


def hung(run: Run) -> bool:
    """The call never finished (timed out, or the worker died): no time for another run."""
    return run.timed_out or bool(run.crashed)


def raise_student_error(run: Run, what: str = "main()") -> None:
    """Re-raise what the student's code raised, with words for the errors students hit here."""
    exc = run.error
    at = f" ({exc.where})" if exc is not None and exc.where else ""
    if exc is not None and exc.is_a("RuntimeError") \
            and "asyncio.run() cannot be called" in exc.message:
        raise Feedback(
            f"{what} called asyncio.run() while the event loop was already running{at}",
            "async code to await coroutines: asyncio.run starts the program, once",
            "inside async functions write `await long_func(i)` or gather the calls; "
            "keep asyncio.run(main()) only under `if __name__ == \"__main__\":`",
        )
    if exc is not None and exc.is_a("RuntimeError") and "Session is closed" in exc.message:
        raise Feedback(
            f"{what} sent a request through a session that was already closed{at}",
            "every request sent while its aiohttp.ClientSession is open",
            "await the calls (gather) inside the `async with aiohttp.ClientSession()` block: "
            "the session closes as soon as the block ends",
        )
    if exc is not None and exc.is_a("ClientResponseError"):
        raise Feedback(
            f"{what} raised ClientResponseError when the server answered {exc.status}{at}",
            "the status code returned as it is, whatever it is (404 and 500 too)",
            "do not call raise_for_status(); just return response.status",
        )
    if exc is not None and any(exc.is_a(name) for name in (
            "ClientConnectionError", "ConnectionError", "gaierror", "URLError")):
        raise Feedback(
            f"{what} raised {exc.type}: {exc.message}{at}",
            "every request sent with aiohttp to URL (no network is reachable while grading; "
            "the mock answers only aiohttp)",
            "send the GET with an aiohttp.ClientSession (or aiohttp.request), "
            "not requests, urllib or sockets",
        )
    run.value_or_raise()


def fail(run: Run, observed: str, expected: str, hint: str) -> None:
    """A failed check: the student's exception if there was one (it is the cause), else words."""
    if run.failed:
        raise_student_error(run)
    raise Feedback(observed, expected, hint)


def _type_name(value: Any) -> str:
    """The type the student's value had (an Opaque stands for an object of its own type)."""
    return value.type if isinstance(value, Opaque) else type(value).__name__


def _short(values: Any) -> str:
    text = " ".join(repr(values).split())  # reprs such as ClientResponse's span lines
    return text if len(text) <= 160 else text[:157] + "..."


# ---------------------------------------------------------------- long_func


@pytest.mark.points(2)
def test_long_func_works_alone(student):
    """long_func(i) with one argument, outside main, sends its request and returns the code."""
    run, web = run_alone(student, 3)
    exc = run.error
    if exc is not None and exc.is_a("TypeError") and "argument" in exc.message:
        raise Feedback(
            f"await long_func(3), called on its own, raised TypeError: {exc.message}",
            "long_func(i) to work with one argument, outside main()",
            "give extra parameters a default (e.g. session=None) and, when no session is "
            "given, open one: `async with aiohttp.ClientSession() as session:`",
        )
    if run.failed:
        raise_student_error(run, "long_func(3) on its own")
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
    run, _ = run_main(student, ALL_200)
    lines = printed_lines(run)
    wrong = []
    for i in range(N):
        if str(i) in run.lines_of(i) and str(i) in lines:
            continue
        wrong.append(i)
    if not wrong:
        return
    i = wrong[0]
    own = [line for line in run.lines_of(i) if line]
    elsewhere = [line for who, text in run.pieces if who != i
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
    fail(run, observed + missing, "each long_func(i) to print i on a line of its own", hint)


@pytest.mark.points(2)
def test_sends_one_get_to_url(student):
    """URL is the lecture's address, and every long_func(i) sends exactly one GET to it."""
    url = student.value("URL")
    expect(url == URL,
           observed=f"URL is {_short(url)}",
           expected=f"URL = {URL!r}",
           hint="keep the stub's URL line unchanged")
    run, web = run_main(student, ALL_200)
    for request in web.requests:
        sent = request.url
        same = (sent.scheme, sent.host, sent.path or "/", sent.query_string) == (
            "https", "www.gosuslugi.ru", "/", "")
        if request.method != "GET" or not same:
            fail(run,
                 f"long_func({sender(request)}) sent {request.method} {sent}",
                 f"one GET to URL ({URL})",
                 "use session.get(URL) with the URL constant, nothing added to it")
    for i in range(N):
        count = len(requests_of(web, i))
        if count != 1:
            observed = (f"long_func({i}) sent no request" if count == 0
                        else f"long_func({i}) sent {count} requests")
            fail(run, observed,
                 "exactly one GET to URL from each of long_func(0) … long_func(14)",
                 "main should call long_func(i) once for each i in range(15), "
                 "and long_func should send one request")
    extra = sorted({i for i in map(sender, web.requests) if not 0 <= i < N})
    expect(not extra,
           observed=f"requests came from long_func({extra[0] if extra else ''}), "
                    "outside 0 … 14",
           expected="exactly the calls long_func(0) … long_func(14)",
           hint="use range(15): i goes from 0 to 14")


# ---------------------------------------------------------------- main


@pytest.mark.points(5)
def test_all_requests_in_flight(student):
    """main starts all 15 requests before any answer arrives (overlap, not time)."""
    run, web = run_main(student, ALL_200)
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
    fail(run, f"only {web.max_in_flight} of 15 requests were in flight at once",
         "all 15 in flight together", hint)


@pytest.mark.points(2)
def test_main_waits_for_all(student):
    """main returns only after all its requests have been answered and its tasks are done."""
    run, web = run_main(student, ALL_200)
    if run.failed:
        raise_student_error(run)
    total = len(web.requests)
    expect(total > 0,
           observed="main() sent no request at all",
           expected="main to run long_func(0) … long_func(14) and wait for them",
           hint=GATHER_HINT)
    pending = run.pending
    counts = Counter(pending)
    tasks = ("; tasks still running: " + ", ".join(
        f"{n} × {name}" if n > 1 else name for name, n in counts.items())) if pending else ""
    received = run.received_at_return
    expect(received >= total and not pending,
           observed=f"main() returned when {min(received, total)} of its {total} "
                    f"requests had been answered{tasks}",
           expected="main to wait until all 15 calls have finished",
           hint="await the tasks (await asyncio.gather(*tasks)); a task that is created and "
                "never awaited is cancelled when asyncio.run(main()) ends")


@pytest.mark.points(2)
def test_returns_server_statuses(student):
    """main returns a list of the 15 codes the server answered, error codes included."""
    run, _ = run_main(student, VALUE_STATUSES)
    if run.failed:
        raise_student_error(run)
    value = run.value
    served = VALUE_STATUSES
    expected = f"a list of the 15 status codes the server answered: {served} (by i)"
    expect(isinstance(value, list),
           observed=f"main() returned {_type_name(value)} {_short(value)}",
           expected=expected,
           hint="return the list asyncio.gather gives you (or build one from the tasks' results)")
    expect(len(value) == N,
           observed=f"main() returned a list of {len(value)} items: {_short(value)}",
           expected=expected,
           hint="one status code per call of long_func(0) … long_func(14)")
    bad = next((v for v in value if not isinstance(v, int) or isinstance(v, bool)), None)
    expect(bad is None,
           observed=f"main()'s list holds {_type_name(bad)} {_short(bad)}, not a status code",
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
    run, web = run_main(student, ORDER_STATUSES, reverse=True)
    if run.failed:
        raise_student_error(run)
    value = run.value
    got = list(value) if isinstance(value, list | tuple) else value
    if got == ORDER_STATUSES:
        return
    arrival = [status_for(ORDER_STATUSES, sender(request)) for request in web.answered]
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
    run, _ = run_main(student, ALL_200)
    also = [] if hung(run) else run_alone(student, 3)[0].blocking
    blocking = list(dict.fromkeys(run.blocking + also))
    if blocking:
        raise Feedback(
            f"{' and '.join(blocking)} ran inside the event loop",
            "no blocking call: while one request waits, the loop must be free for the others",
            "time.sleep blocks the whole event loop: use await asyncio.sleep(...); "
            "send HTTP with aiohttp, never requests or urllib",
        )
    if run.failed:
        raise_student_error(run)


@pytest.mark.points(1)
def test_sessions_closed(student):
    """Every aiohttp.ClientSession opened by main or by long_func alone is closed."""
    run, _ = run_main(student, ALL_200)
    runs = [(run, "main()")]
    if not hung(run):
        runs.append((run_alone(student, 3)[0], "long_func(3) on its own"))
    for each, what in runs:
        open_ = each.unclosed_sessions
        expect(open_ == 0,
               observed=f"{open_} aiohttp.ClientSession{'s were' if open_ > 1 else ' was'} "
                        f"still open after {what} finished",
               expected="every session you open closed",
               hint="open sessions with `async with aiohttp.ClientSession() as session:`; "
                    "it closes the session when the block ends, even on errors")
    if run.failed:
        raise_student_error(run)
