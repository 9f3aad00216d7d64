"""[test process] Hidden tests for long_func (20 points): the lecture's 15 requests, all at once.

Every verdict comes from what the trusted side saw (grading policy, section 1):

- the requests on the trusted fake site's wire (`Site`, a FakeWeb serving only
  URL): how many were in flight together, when each arrived and was answered,
  method and URL, and which connections were still open when the call returned
  (a session left open keeps its connection open);
- the value main returned, compared with statuses this suite chose at random
  for each run (`random.SystemRandom`), so no hard-coded list can pass;
- the worker's real stdout, read here (what was printed during the call).

Labels. The worker tags each request with the `i` of the innermost
`long_func(i)` on the stack (`request.caller`; a request sent outside any
long_func is taken by its arrival order). A label only chooses which status a
request gets and when its answer is released, never a verdict: a submission
that forges labels merely gets other answers. In the ordering test the answers
are released one at a time in a random order that is neither ascending nor
descending over the statuses that occur once; whatever labels a submission
sends, the statuses in completion order are then never the list ordered by i
(see `ordering_case`), so collecting results as they complete cannot pass.

Weights (section 3): the lesson, all 15 requests in flight at once, carries
10 of 20 points. Guard clauses pay only for present behaviour (section 2):
"no blocking" only when all requests overlap while each answer takes 1.5 s;
"main waits" and "sessions closed" only when requests were sent and answered.
Blocking is charged only where the wire shows it: a loop blocked between the
requests (time.sleep, requests) cannot get all 15 out before the first answers
go, 1.5 s after their own arrival.

After main returns, tasks it left running may finish for DRAIN_SECONDS (except
in `main_waits_for_all`), so a main that does not wait loses the waiting check
and what it returns, not the in-flight count.
"""

from __future__ import annotations

import functools
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from grader.i18n import N_, _, ngettext
from grader.suites.checks import short, type_name
from grader.suites.feedback import Feedback, expect
from grader.suites.harness import Run, StudentCode
from grader.suites.web import FakeWeb, Reply, Request
from grader.worker.agent import BLOCKING_NETWORK
from grader.worker.codec import Opaque

URL = "https://www.gosuslugi.ru/"
N = 15
TIMEOUT = 8.0  # s for one run of main(); answers come within milliseconds (1.5 s when slow)
ALONE_TIMEOUT = 4.0  # s for one long_func(i) on its own
DRAIN_SECONDS = 2.5  # how long tasks main left running may take to finish afterwards
SLOW_ANSWER = 1.5  # s from a request's arrival to its answer in the blocking test
# ...whose main, if it overlaps, is done in about SLOW_ANSWER; a sequential one would take
# 15 × SLOW_ANSWER, and is cut off here (its verdict is the same, sooner)
SLOW_TIMEOUT = SLOW_ANSWER + 3.0
# A test makes a second run only after a first that finished, so that it stays
# within the assignment's time limit for one test.

RANDOM = random.SystemRandom()
# Codes raise_for_status() lets through (no redirect: none carries a Location).
SUCCESS = [200, 201, 202, 203, 204, 205, 206, 207, 208, 226]
NO_ERROR = SUCCESS + [300, 304]
CLIENT_ERRORS = [400, 401, 403, 404, 405, 406, 408, 409, 410, 418, 422, 429]
SERVER_ERRORS = [500, 501, 502, 503, 504, 505, 507]
STRANGER = 421  # for a request with no i in 0..14: never one of the chosen statuses

GATHER_HINT = N_(
    "start them all before awaiting any: asyncio.gather(*(long_func(i) for i in range(15)))"
)
SESSION_HINT = N_("open sessions with `async with aiohttp.ClientSession() as session:`; "
                  "it closes the session when the block ends, even on errors")
# The worker's words for a blocking network call (agent.BLOCKING_NETWORK), to be translated
BLOCKING_NETWORK_WORDS = N_("a blocking network call (requests/urllib/socket)")


# ---------------------------------------------------------------- the site


def sender(request: Request) -> int:
    """The i of the long_func(i) that sent `request` (the worker's label), else arrival order.

    It only picks the request's answer and when that answer goes out.
    """
    return request.caller if request.caller is not None else request.index


def page(status: int) -> Reply:
    """An ordinary HTML answer with `status` (no body where HTTP allows none)."""
    body = "" if status in (204, 205, 304) else (
        f"<!DOCTYPE html>\n<html lang=\"ru\"><head><title>Госуслуги</title></head>"
        f"<body><h1>{status}</h1></body></html>\n")
    return Reply(status, body=body, headers={"Content-Type": "text/html; charset=utf-8"})


class Site(FakeWeb):
    """www.gosuslugi.ru for one run: long_func(i)'s request gets `statuses[i]`.

    Only requests to URL are served and counted in flight; anything else gets
    an ordinary 404 page. With `order`, answers go out one at a time in that
    order of senders (so a request sent outside long_func is scrambled too).
    """

    def __init__(self, statuses: list[int], *, order: list[int] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(expect_in_flight=N, **kwargs,
                         order=None if order is None else self._ranker(order))
        self.statuses = statuses
        self.route(URL, lambda request: page(self.status_of(request)))

    def status_of(self, request: Request) -> int:
        who = sender(request)
        return self.statuses[who] if 0 <= who < len(self.statuses) else STRANGER

    @staticmethod
    def _ranker(order: list[int]) -> Callable[[Request], int]:
        def rank(request: Request) -> int:
            who = sender(request)
            return order.index(who) if who in order else len(order)

        return rank


def mixed_statuses() -> list[int]:
    """15 distinct codes, success, client and server errors mixed, in a random order."""
    statuses = (RANDOM.sample(SUCCESS, 6) + RANDOM.sample(CLIENT_ERRORS, 5)
                + RANDOM.sample(SERVER_ERRORS, 4))
    RANDOM.shuffle(statuses)
    return statuses


def scrambled() -> list[int]:
    """0 … 14 in a random order that is neither ascending nor descending."""
    while True:
        order = RANDOM.sample(range(N), N)
        if order not in (sorted(order), sorted(order, reverse=True)):
            return order


def ordering_case() -> tuple[list[int], list[int]]:
    """Statuses by i (no error code, so raise_for_status is no matter here) and a release order.

    12 distinct codes exist that raise_for_status lets through, so 3 repeat. A
    status that occurs once can only come from the request sent for that i; the
    order is chosen so that over those i's it is neither ascending nor
    descending. The answers' statuses in release order (or its reverse), for
    any labels a submission sends, are then never the list ordered by i.
    """
    while True:
        codes = RANDOM.sample(NO_ERROR, len(NO_ERROR))
        statuses = codes + RANDOM.sample(codes, N - len(codes))
        RANDOM.shuffle(statuses)
        order = RANDOM.sample(range(N), N)
        once = [i for i in range(N) if statuses.count(statuses[i]) == 1]
        ranks = [order.index(i) for i in once]
        if ranks not in (sorted(ranks), sorted(ranks, reverse=True)):
            return statuses, order


# ---------------------------------------------------------------- running


def run_main(student: StudentCode, statuses: list[int] | None = None, *,
             drain: float = DRAIN_SECONDS, timeout: float = TIMEOUT,
             **site: Any) -> tuple[Run, Site, float]:
    """`await main()` against the site; also the trusted time its reply arrived."""
    student.function("main", is_async=True)
    web = Site(statuses if statuses is not None else [200] * N, **site)
    run = student.call("main", web=web, label="long_func", drain=drain, timeout=timeout)
    return run, web, time.perf_counter()


def run_alone(student: StudentCode, i: int, status: int) -> tuple[Run, Site]:
    """`await long_func(i)` on its own, outside main, answered with `status`."""
    student.function("long_func", is_async=True)
    web = Site([status] * N)
    web.expect_in_flight = 1
    return student.call("long_func", i, web=web, timeout=ALONE_TIMEOUT), web


def two_alone(student: StudentCode) -> list[tuple[int, int, Run, Site]]:
    """long_func(a) and long_func(b), a != b, answered with two different 2xx codes (not 200).

    The second call is made only when the first finished (no time for it otherwise).
    """
    calls = []
    for i, status in zip(RANDOM.sample(range(N), 2), RANDOM.sample(SUCCESS[1:], 2),
                         strict=True):
        run, web = run_alone(student, i, status)
        calls.append((i, status, run, web))
        if hung(run):
            break
    return calls


def hung(run: Run) -> bool:
    """The call never finished (timed out, or the worker died): no time for another run."""
    return run.timed_out or bool(run.crashed)


def printed_lines(run: Run) -> list[str]:
    """Output lines, stripped, as a terminal would show them."""
    return [line.strip() for line in run.stdout.splitlines()]


def flew_together(web: FakeWeb) -> int:
    """The fewest served requests in flight together with any one served request.

    For each served request: the most served requests held at once while it
    waited (a peak is always at some arrival). All of main's requests in
    flight at once gives len(served); one request sent alone gives 1.
    """
    served = web.served
    if not served:
        return 0
    end = [r.answered_at if r.answered_at is not None else float("inf") for r in served]
    arrivals = sorted(r.arrived_at for r in served)
    held = {t: sum(1 for q, e in zip(served, end, strict=True) if q.arrived_at <= t < e)
            for t in arrivals}
    return min(max(held[t] for t in arrivals if r.arrived_at <= t < e)
               for r, e in zip(served, end, strict=True))


def all_in_flight(web: FakeWeb) -> bool:
    """All 15 (or more) of main's requests to URL were in flight at the same time."""
    return web.max_in_flight >= N and flew_together(web) >= N


def raise_student_error(run: Run, what: str = "main()") -> None:
    """Re-raise what the student's code raised, with words for the errors students hit here."""
    exc = run.error
    at = f" ({exc.where})" if exc is not None and exc.where else ""
    if exc is not None and exc.is_a("RuntimeError") \
            and "asyncio.run() cannot be called" in exc.message:
        raise Feedback(
            _("{what} called asyncio.run() while the event loop was already running{at}")
            .format(what=what, at=at),
            _("async code to await coroutines: asyncio.run starts the program, once"),
            _("inside async functions write `await long_func(i)` or gather the calls; "
              "keep asyncio.run(main()) only under `if __name__ == \"__main__\":`"),
        )
    if exc is not None and exc.is_a("RuntimeError") and "Session is closed" in exc.message:
        raise Feedback(
            _("{what} sent a request through a session that was already closed{at}")
            .format(what=what, at=at),
            _("every request sent while its aiohttp.ClientSession is open"),
            _("await the calls (gather) inside the `async with aiohttp.ClientSession()` block: "
              "the session closes as soon as the block ends"),
        )
    if exc is not None and exc.is_a("ClientResponseError"):
        raise Feedback(
            _("{what} raised ClientResponseError when the server answered {status}{at}")
            .format(what=what, status=exc.status, at=at),
            _("the status code returned as it is, whatever it is (404 and 500 too)"),
            _("do not call raise_for_status(); just return response.status"),
        )
    if exc is not None and any(exc.is_a(name) for name in (
            "ClientConnectionError", "ConnectionError", "gaierror", "URLError")):
        raise Feedback(
            _("{what} raised {error_type}: {error}{at}").format(
                what=what, error_type=exc.type, error=exc.message, at=at),
            _("every request sent with aiohttp to URL (no network is reachable while grading; "
              "the mock answers only aiohttp)"),
            _("send the GET with an aiohttp.ClientSession (or aiohttp.request), "
              "not requests, urllib or sockets"),
        )
    run.value_or_raise()


def fail(run: Run, observed: str, expected: str, hint: str, what: str = "main()") -> None:
    """A failed check: the student's exception if there was one (it is the cause), else words."""
    if run.failed:
        raise_student_error(run, what)
    raise Feedback(observed, expected, hint)


def wrong_urls(web: FakeWeb) -> str:
    """The requests the site did not serve (not to URL), for a message."""
    return ", ".join(f"{r.method} {short(str(r.url), 80)}" for r in web.requests
                     if not r.served)[:300]


def in_flight_words(run: Run, web: FakeWeb, wait: str) -> str:
    """Why all 15 were not in flight at once, in numbers the wire gave."""
    if not web.requests:
        never = (_("; never awaited: {names}").format(names=", ".join(run.reported.unawaited))
                 if run.reported.unawaited else "")
        return _("main() sent no request{never}").format(never=never)
    if not web.served:
        return _("main() sent no request to URL ({url}), only {requests}, "
                 "which the site does not serve").format(url=URL, requests=wrong_urls(web))
    peak = web.max_in_flight
    if peak >= N:
        at_once = ngettext("{peak} request was in flight at once{wait}",
                           "{peak} requests were in flight at once{wait}", peak)
        sent = len(web.served)
        return _("{in_flight_at_once}, but main() sent {sent_requests} to URL and not all of "
                 "them were in flight together (one of them had only {together} in flight "
                 "with it, itself included)").format(
            in_flight_at_once=at_once.format(peak=peak, wait=wait),
            sent_requests=ngettext("{count} request", "{count} requests", sent).format(
                count=sent),
            together=flew_together(web))
    return _("only {peak} of 15 requests to URL were in flight at once{wait}").format(
        peak=peak, wait=wait)


def joined(names: list[str]) -> str:
    """`a and b and c`, in the student's language (the worker's names for blocking calls)."""
    words = [_(BLOCKING_NETWORK_WORDS) if name == BLOCKING_NETWORK else name for name in names]
    return functools.reduce(
        lambda left, right: _("{left} and {right}").format(left=left, right=right), words)


# ---------------------------------------------------------------- main: the lesson


@pytest.mark.points(10)
def test_all_requests_in_flight(student, timeline):
    """main starts all 15 requests before any answer arrives (counted on the wire)"""
    run, web, _replied = run_main(student)
    timeline.keep(web)
    if all_in_flight(web):
        return
    observed = in_flight_words(run, web, "")
    if not web.requests and run.reported.unawaited and not run.failed:
        raise Feedback(
            observed, _("all 15 in flight together"),
            _("calling an async function only creates a coroutine; nothing runs until it is "
              "awaited or passed to asyncio.gather / asyncio.create_task"))
    hint = _(GATHER_HINT)
    if web.max_in_flight == 1:
        hint = _("each request waited for the previous answer (an await inside the loop); "
                 "{gather_hint}").format(gather_hint=_(GATHER_HINT))
    elif web.served and web.max_in_flight < N and web.max_in_flight > 1:
        hint = _("something limits how many run at once (a Semaphore, batches); "
                 "{gather_hint}").format(gather_hint=_(GATHER_HINT))
    fail(run, observed, _("all 15 requests to URL in flight together"), hint)


@pytest.mark.points(1)
def test_no_blocking(student):
    """Nothing blocks the event loop: all 15 requests are out before the first answer"""
    run, web, _replied = run_main(student, hold=False, delay=SLOW_ANSWER, timeout=SLOW_TIMEOUT)
    if all_in_flight(web):
        return
    wait = _(" while each answer came {seconds} s after its request").format(seconds=SLOW_ANSWER)
    blocking = list(dict.fromkeys(run.reported.blocking))
    if blocking and web.served:
        raise Feedback(
            ngettext("{in_flight}: {calls} ran inside the event loop and held back the other "
                     "requests",
                     "{in_flight}: {calls} ran inside the event loop and held back the other "
                     "requests", len(blocking)).format(
                in_flight=in_flight_words(run, web, wait), calls=joined(blocking)),
            _("no blocking call: while one request waits, the loop must be free to send the "
              "others"),
            _("time.sleep blocks the whole event loop: use await asyncio.sleep(...); "
              "send HTTP with aiohttp, never requests or urllib"),
        )
    if run.error is not None and not web.served:
        raise_student_error(run)
    late = (_("; main() did not finish within {seconds:.1f} s").format(seconds=SLOW_TIMEOUT)
            if run.timed_out else "")
    raise Feedback(
        in_flight_words(run, web, wait) + late,
        _("all 15 requests out before the first answer (this point counts only once the "
          "requests overlap)"),
        _("keep the loop free between the requests: no time.sleep, requests or other blocking "
          "call; {gather_hint}").format(gather_hint=_(GATHER_HINT)))


# ---------------------------------------------------------------- main: the result


@pytest.mark.points(1)
def test_main_waits_for_all(student):
    """main returns only after every request it started has been answered"""
    statuses, order = ordering_case()  # no error code: a raise_for_status is no matter here
    run, web, replied = run_main(student, statuses, order=order, drain=0.0)
    if run.failed and not web.served:
        raise_student_error(run)
    expect(web.served,
           observed=_("main() sent no request to URL (only {requests})").format(
               requests=wrong_urls(web)) if web.requests else _("main() sent no request to URL"),
           expected=_("main to run long_func(0) … long_func(14) and wait for them "
                      "(this point counts only once requests are sent)"),
           hint=_(GATHER_HINT))
    waiting = [r for r in web.served if r.answered_at is None or r.answered_at > replied]
    if not waiting:
        return
    pending = Counter(run.reported.pending)
    tasks = _("; tasks still running: {tasks}").format(tasks=", ".join(
        f"{n} × {name}" if n > 1 else name for name, n in pending.items())) if pending else ""
    fail(run,
         ngettext("main() returned while {waiting} of its {sent} requests were still waiting "
                  "for their answers{tasks}",
                  "main() returned while {waiting} of its {sent} requests were still waiting "
                  "for their answers{tasks}", len(waiting)).format(
             waiting=len(waiting), sent=len(web.served), tasks=tasks),
         _("main to wait until all 15 calls have finished"),
         _("await the tasks (await asyncio.gather(*tasks)); a task that is created and "
           "never awaited is cancelled when asyncio.run(main()) ends"))


def _check_list(run: Run, expected: str) -> list[int]:
    """main's value is a list of 15 ints (else feedback); the list."""
    if run.failed:
        raise_student_error(run)
    value = run.value
    if isinstance(value, Opaque) and value.coroutine:
        raise Feedback(_("main() returned a coroutine object, not the list"), expected,
                       _("await it: `return await asyncio.gather(...)`"))
    expect(isinstance(value, list),
           observed=_("main() returned {type_name} {value}").format(
               type_name=type_name(value), value=short(value)),
           expected=expected,
           hint=_("return the list asyncio.gather gives you (or build one from the tasks' "
                  "results)"))
    expect(len(value) == N,
           observed=ngettext("main() returned a list of {count} items: {value}",
                             "main() returned a list of {count} items: {value}",
                             len(value)).format(count=len(value), value=short(value)),
           expected=expected,
           hint=_("one status code per call of long_func(0) … long_func(14)"))
    wrong = [v for v in value if not isinstance(v, int) or isinstance(v, bool)]
    bad = wrong[0] if wrong else None
    expect(not wrong,
           observed=_("main()'s list holds {type_name} {value}, not a status code").format(
               type_name=type_name(bad), value=short(bad)),
           expected=expected,
           hint=_("long_func should return response.status, an int"))
    return value


@pytest.mark.points(2)
def test_returns_server_statuses(student):
    """main returns a list of the 15 codes the server answered, error codes included"""
    statuses = mixed_statuses()  # answered one at a time, so a main that stops early is seen
    run, _web, _replied = run_main(student, statuses, order=scrambled())
    expected = _("a list of the 15 status codes the server answered: {statuses} (by i)").format(
        statuses=statuses)
    value = _check_list(run, expected)
    expect(sorted(value) == sorted(statuses),
           observed=_("main() returned {value}; the server answered {statuses}").format(
               value=value, statuses=statuses),
           expected=_("the codes the server actually answered, error codes too"),
           hint=_("return response.status as it is: nothing written by hand, "
                  "no raise_for_status(), no replacing error codes"))


@pytest.mark.points(2)
def test_statuses_ordered_by_i(student):
    """main's list holds the code of long_func(i) at index i, whatever order answers came in"""
    statuses, order = ordering_case()
    run, web, _replied = run_main(student, statuses, order=order)
    expected = _("the code of long_func(i) at index i: {statuses}").format(statuses=statuses)
    value = _check_list(run, expected)
    if value == statuses:
        return
    arrival = [web.status_of(request) for request in web.answered]
    if value == arrival:
        observed = _("main() returned the codes in the order the answers arrived ({value}); "
                     "the answers came for i = {order} in that order").format(
            value=value, order=", ".join(map(str, order)))
    else:
        observed = _("main() returned {value}").format(value=value)
    raise Feedback(
        observed, expected,
        _("asyncio.gather returns results in the order of its arguments; with tasks, read "
          "them in the order you created them ([t.result() for t in tasks]) rather than "
          "appending each result when it finishes"),
    )


# ---------------------------------------------------------------- long_func


@pytest.mark.points(1)
def test_long_func_works_alone(student):
    """long_func(i) with one argument, outside main, sends its request and returns the code"""
    for i, status, run, web in two_alone(student):
        call = _("await long_func({i}) on its own").format(i=i)
        exc = run.error
        if exc is not None and exc.is_a("TypeError") and "argument" in exc.message:
            raise Feedback(
                _("{call} raised TypeError: {error}").format(call=call, error=exc.message),
                _("long_func(i) to work with one argument, outside main()"),
                _("give extra parameters a default (e.g. session=None) and, when no session is "
                  "given, open one: `async with aiohttp.ClientSession() as session:`"),
            )
        if run.failed:
            raise_student_error(run, _("long_func({i}) on its own").format(i=i))
        value = run.value
        expect(web.served,
               observed=_("{call} returned {value} without sending a request to URL "
                          "(only {requests})").format(
                   call=call, value=short(value), requests=wrong_urls(web)) if web.requests
               else _("{call} returned {value} without sending a request to URL").format(
                   call=call, value=short(value)),
               expected=_("one GET to URL and its status code returned"),
               hint=_("send the request with aiohttp inside long_func and return "
                      "response.status"))
        expect(isinstance(value, int) and not isinstance(value, bool) and value == status,
               observed=_("{call} returned {value} when the server answered {status}").format(
                   call=call, value=short(value), status=status),
               expected=_("the status code {status} (an int)").format(status=status),
               hint=_("return response.status, read inside "
                      "`async with session.get(URL) as response:`"))


@pytest.mark.points(1)
def test_prints_i(student):
    """long_func(i) prints i on a line of its own, once for each call"""
    for i, _status, run, _web in two_alone(student):
        if run.failed:
            continue  # it could not run on its own: charged to long_func_works_alone
        lines = printed_lines(run)
        count = lines.count(str(i))
        if count == 1:
            continue
        other = [line for line in lines if line]
        if count > 1:
            observed = ngettext("long_func({i}) on its own printed the line {i} {count} times",
                                "long_func({i}) on its own printed the line {i} {count} times",
                                count).format(i=i, count=count)
            hint = _("print(i) once per call")
        elif any(str(i) in line for line in other):
            observed = _("long_func({i}) on its own printed {i}, but not on a line of its own: "
                         "{line}").format(i=i, line=short(next(x for x in other if str(i) in x)))
            hint = _("print(i) with the default end='\\n', one number per line")
        elif other:
            observed = _("long_func({i}) on its own printed {line} instead of {i}").format(
                i=i, line=short(other[0]))
            hint = _("print(i) exactly, like the lecture: the line must be just the number")
        else:
            observed = _("long_func({i}), called on its own, printed nothing").format(i=i)
            hint = _("put print(i) inside long_func (not in main), like the lecture's version")
        raise Feedback(observed, _("long_func(i) to print i on a line of its own"), hint)
    run, _web, _replied = run_main(student)
    counts = Counter(printed_lines(run))
    wrong = [i for i in range(N) if counts[str(i)] != 1]
    if not wrong:
        return
    i = wrong[0]
    if counts[str(i)] > 1:
        observed = ngettext("during main() the line {i} was printed {count} times",
                            "during main() the line {i} was printed {count} times",
                            counts[str(i)]).format(i=i, count=counts[str(i)])
    else:
        observed = _("during main() no line was just {i}").format(i=i)
    also = (_(" ({count} of the numbers 0 … 14 affected)").format(count=len(wrong))
            if len(wrong) > 1 else "")
    fail(run, observed + also,
         _("each of 0 … 14 printed exactly once, each on a line of its own"),
         _("main calls long_func(i) once for each i in range(15), and long_func prints i"))


@pytest.mark.points(1)
def test_sends_one_get_to_url(student):
    """Each long_func(i) sends exactly one GET to URL: 15 in all from main"""
    run, web, _replied = run_main(student)
    if not web.requests and run.failed:
        raise_student_error(run)
    elsewhere = wrong_urls(web)
    expect(not elsewhere,
           observed=_("main() sent requests the site does not serve: {requests}").format(
               requests=elsewhere),
           expected=_("GET requests to URL ({url}) only").format(url=URL),
           hint=_("use session.get(URL) with the URL constant, unchanged"))
    for request in web.served:
        expect(request.method == "GET" and not request.url.query_string,
               observed=_("main() sent {method} {url}").format(
                   method=request.method, url=request.url),
               expected=_("a GET to URL ({url}), nothing added to it").format(url=URL),
               hint=_("use session.get(URL) with the URL constant, no params"))
    count = len(web.served)
    if count != N:
        fail(run, ngettext("main() sent {count} request to URL",
                           "main() sent {count} requests to URL", count).format(count=count),
             _("exactly 15: one GET from each of long_func(0) … long_func(14)"),
             _("main should call long_func(i) once for each i in range(15), "
               "and long_func should send one request"))
    i = RANDOM.randrange(N)
    alone, alone_web = run_alone(student, i, RANDOM.choice(SUCCESS))
    if alone.failed:
        return  # long_func cannot run on its own: charged to long_func_works_alone
    count = len(alone_web.requests)
    expect(count == 1,
           observed=ngettext("await long_func({i}) on its own sent {count} requests",
                             "await long_func({i}) on its own sent {count} requests",
                             count).format(i=i, count=count),
           expected=_("exactly one GET to URL per call"),
           hint=_("send one request in long_func: `async with session.get(URL) as response:`"))


@pytest.mark.points(1)
def test_sessions_closed(student):
    """Every aiohttp.ClientSession opened by main or by long_func alone is closed"""
    run, web, _replied = run_main(student)
    answered = [r for r in web.served if r.answered_at is not None]
    if not answered and run.failed:
        raise_student_error(run)
    expect(answered,
           observed=_("main() sent no request to URL that was answered"),
           expected=_("requests sent and their sessions closed "
                      "(this point counts only once requests are sent)"),
           hint=_(GATHER_HINT))
    checks = [(run, web, "main()")]
    if not hung(run):
        alone, alone_web = run_alone(student, RANDOM.randrange(N), RANDOM.choice(SUCCESS))
        if alone_web.served:
            checks.append((alone, alone_web, _("long_func(i) on its own")))
    for each, _web, what in checks:
        still = each.open_connections
        if still == 0:
            continue
        told = each.reported.unclosed_sessions
        sessions = ngettext(" (the worker saw {count} aiohttp.ClientSession never closed)",
                            " (the worker saw {count} aiohttp.ClientSessions never closed)",
                            told).format(count=told) if told else ""
        raise Feedback(
            ngettext("{count} connection was still open after {what} returned{sessions}",
                     "{count} connections were still open after {what} returned{sessions}",
                     still).format(count=still, what=what, sessions=sessions),
            _("every session you open closed before the call returns"), _(SESSION_HINT))
    if run.failed:
        raise_student_error(run)
