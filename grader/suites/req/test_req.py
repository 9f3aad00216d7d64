"""[test process] Hidden tests for req (25 points).

`req(url, params=None, headers=None, response_type="json")` sends one GET with
aiohttp and returns the parsed JSON or the text. Every verdict comes from what
the trusted side saw (grading policy, section 1):

- the request on the trusted FakeWeb's wire: method, URL, the DECODED query
  multimap, headers, and whether its connection was still open when req
  returned (a session left open keeps it open);
- the value or exception that came back, compared with tokens this test chose
  at random (`secrets.token_hex`), so no hard-coded answer can pass.

The worker's own reports (blocking calls, unclosed sessions) only shape the
wording of a test that already failed.

Weights: the essence (one GET with the params and headers, JSON or text
returned) carries 15 of 25 points. Only the bare "one GET to the URL" (2 points,
8%: within the 10% a constant may score, section 2) is judged on the wire alone.
Every other test pays only when a valid call returned the answer the server
sent (`answer_works`: the JSON body, or failing that the text body, with fresh
tokens): the params and headers are judged on the request whose answer came
back, "no request for an unknown type", "raises ValueError", "raises for an
error status" and "closes its session" only after that gate. A req that sends
the right request and returns a constant thus scores 2 of 25.

Blocking (time.sleep, requests, urllib) is judged only by trusted observation:
requests and urllib cannot reach the fake web at all, so they fail the essence
tests; two req calls awaited together must both be in flight on the wire at
once (`runs_alongside_another_call`). A short time.sleep before the request
delays both calls alike and leaves no trace on the wire, so it is not charged.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

from grader.i18n import N_, _, ngettext
from grader.suites.checks import describe_call, short, type_name
from grader.suites.feedback import Feedback, expect
from grader.suites.harness import Run, StudentCode
from grader.suites.web import FakeWeb, Reply, Request
from grader.worker.codec import Opaque

RUN_TIMEOUT = 5.0
API = "https://api.example.ru/v2"
HTML = "text/html; charset=utf-8"

NOT_AIOHTTP_HINT = N_(
    "open a session and send the request with aiohttp: `async with aiohttp.ClientSession() as "
    "session:` then `async with session.get(url, params=params, headers=headers) as resp:`; "
    "requests and urllib cannot reach the grading server and block the event loop"
)
SESSION_HINT = N_("`async with aiohttp.ClientSession() as session:` closes the session even "
                  "when an exception leaves the block; a bare `ClientSession()` needs "
                  "`await session.close()` in a `finally:`")
STATUS_HINT = N_("call `resp.raise_for_status()` before reading the body (or open the session "
                 "with `raise_for_status=True`), and let the error out")


# ---------------------------------------------------------------- helpers


def token() -> str:
    return secrets.token_hex(8)


def url_of(path: str) -> str:
    """A fresh URL per call, so no answer can be remembered from an earlier test."""
    return f"{API}/{path}/{token()[:6]}"


def call_text(*args: Any, **kwargs: Any) -> str:
    return describe_call("req", args, kwargs)


def kind(value: Any) -> str:
    """`None`, or `a dict {...}`: what a value is, for a message."""
    if value is None:
        return "None"
    return _("a {type} {value}").format(type=type_name(value), value=short(value))


def outcome(run: Run) -> str:
    """What the call did, as a clause: `raised ...` or `returned ...`."""
    if run.error:
        return _("raised {error}").format(error=run.error.summary(200))
    return _("returned {value}").format(value=kind(run.value))


def run_req(student: StudentCode, web: FakeWeb, *args: Any, **kwargs: Any) -> Run:
    student.function("req", is_async=True)
    run = student.call("req", *args, web=web, timeout=RUN_TIMEOUT, **kwargs)
    if run.timed_out or run.crashed:
        run.value_or_raise()  # words the timeout (or the crash) for the student
    return run


def served(reply: Reply, url: str, *args: Any, student: StudentCode,
           **kwargs: Any) -> tuple[Run, FakeWeb]:
    """req(url, ...) against a web that serves `reply` at `url` (and an HTML 404 elsewhere)."""
    web = FakeWeb()
    web.route(url, reply)
    return run_req(student, web, url, *args, **kwargs), web


def the_request(run: Run, web: FakeWeb, call: str) -> Request:
    """The request req sent to the URL it was given (the served one); none is feedback.

    Requests to other URLs get an ordinary 404 page and count for nothing.
    """
    if web.served:
        return web.served[0]
    if not web.requests:
        raise Feedback(_("{call} sent no request through aiohttp and {outcome}").format(
                           call=call, outcome=outcome(run)),
                       _("one GET request sent with aiohttp"), _(NOT_AIOHTTP_HINT))
    elsewhere = ", ".join(short(str(r.url.with_query(None)), 80) for r in web.requests[:3])
    raise Feedback(_("{call} sent no request to the URL it was given (only to {elsewhere}) and "
                     "{outcome}").format(call=call, elsewhere=elsewhere, outcome=outcome(run)),
                   _("one GET to the URL given"), _("send the request to `url`"))


def json_reply(body: Any, status: int = 200) -> Reply:
    return Reply(status, json=body)


def text_reply(text: str, status: int = 200) -> Reply:
    return Reply(status, body=text.encode("utf-8"), headers={"Content-Type": HTML})


def json_body() -> dict[str, Any]:
    return {"id": token(), "город": "Москва", "теги": [token(), 1, 2.5, None, True],
            "next": None, "вложено": {"ключ": token()}}


def text_body() -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"ru\"><head><title>Новости</title></head>\n"
            f"<body><h1>Привет, мир! {token()}</h1><p>ёлка, щи — «{token()}»</p></body></html>\n")


def expect_value(run: Run, call: str, body: Any, expected: str, hint: str) -> None:
    """req returned exactly `body` (the tokens the test chose)."""
    if run.error is not None:
        raise Feedback(_("{call} raised {error}").format(call=call,
                                                          error=run.error.summary(200)),
                       expected, hint)
    value = run.value
    if isinstance(value, Opaque) and value.coroutine:
        raise Feedback(_("{call} returned a coroutine object, not the data").format(call=call),
                       expected, _("`resp.json()` and `resp.text()` are coroutines: "
                                   "`return await resp.json()`"))
    if isinstance(body, str) and isinstance(value, bytes):
        raise Feedback(_("{call} returned bytes {value}").format(call=call, value=short(value)),
                       expected, _("resp.read() gives raw bytes; `await resp.text()` decodes "
                                   "them with the charset the server sent"))
    expect(value == body and type(value) is type(body),
           observed=_("{call} returned {value}").format(call=call, value=kind(value)),
           expected=expected, hint=hint)


JSON_HINT = N_("for response_type='json' return `await resp.json()` (read it inside the "
               "`async with session.get(...) as resp:` block), without changing it")
TEXT_HINT = N_("for response_type='text' return `await resp.text()` unchanged; resp.json() is "
               "only for 'json' (this answer is HTML)")


GATE_EXPECTED = N_("the parsed JSON body (or, for response_type='text', the text) first: this "
                   "check counts only when a valid call returns the answer the server sent")


def answer_works(student: StudentCode, params: Any = None,
                 headers: Any = None) -> tuple[Run, FakeWeb, str]:
    """The gate of everything but the bare GET: a valid call returns the body the test chose.

    First a 'json' call; if it does not return the JSON, a 'text' call (a req whose JSON path
    alone is broken is charged in the JSON tests, not here). Returns the call that worked, so a
    test can judge the request whose answer came back. A req that sends the right request and
    returns a constant gets no further than this.
    """
    attempts: tuple[tuple[str, Callable[[], Any], Callable[[Any], Reply]], ...] = (
        ("json", json_body, json_reply), ("text", text_body, text_reply))
    first: Feedback | None = None
    for response_type, make_body, make_reply in attempts:
        body = make_body()
        url = url_of("items")
        extra = {k: v for k, v in (("params", params), ("headers", headers)) if v is not None}
        run, web = served(make_reply(body), url, student=student, response_type=response_type,
                          **extra)
        call = call_text(url, **extra, response_type=response_type)
        try:
            the_request(run, web, call)
            expect_value(run, call, body, _(GATE_EXPECTED),
                         _(JSON_HINT) if response_type == "json" else _(TEXT_HINT))
        except Feedback as failed:
            first = first or failed
            continue
        return run, web, call
    assert first is not None
    raise first


# ---------------------------------------------------------------- the request (essence)

# Values a hand-made query string gets wrong: &, =, +, #, spaces, Cyrillic.
def tricky_params() -> dict[str, str]:
    return {"q": "кот & пёс = друзья", "expr": "1+1=2", "tag": "#async io",
            "id": token(), "page": "2"}


def headers_with_tokens() -> dict[str, str]:
    return {"Authorization": f"Bearer {token()}", "X-Request-Id": token(),
            "Accept-Language": "ru-RU"}


def together_call(student: StudentCode) -> tuple[FakeWeb, str, str]:
    """req(url, params=..., headers=...) with both given, as the lecture's task has them."""
    url = url_of("search")
    params, headers = tricky_params(), headers_with_tokens()
    _run, web = served(json_reply({"ok": True, "n": token()}), url, student=student,
                       params=params, headers=headers, response_type="json")
    return web, url, call_text(url, params=params, headers=headers, response_type="json")


def answered_with(student: StudentCode) -> tuple[Request, dict, dict]:
    """The request of a valid call with params and headers whose answer req returned."""
    params, headers = tricky_params(), headers_with_tokens()
    run, web, call = answer_works(student, params=params, headers=headers)
    return the_request(run, web, call), params, headers


@pytest.mark.points(2)
def test_one_get_to_the_url(student):
    """req sends exactly one GET to the URL it was given"""
    web, url, call = together_call(student)
    sent = ", ".join(f"{r.method} {r.url.with_query(None)}" for r in web.requests)
    expect(len(web.requests) == 1 and web.requests[0].method == "GET"
           and str(web.requests[0].url.with_query(None)) == url,
           observed=ngettext("{call} sent {n} request: {sent}", "{call} sent {n} requests: {sent}",
                             len(web.requests)).format(call=call, n=len(web.requests), sent=sent),
           expected=_("exactly one GET to {url}").format(url=url),
           hint=_("send one request with `session.get(url, params=params, headers=headers)`"))


@pytest.mark.points(3)
def test_params_in_query_string(student):
    """params reach the server as the query string, values intact (&, =, +, #, spaces, Cyrillic)"""
    request, params, _headers = answered_with(student)
    got = sorted(request.url.query.items())
    expect(got == sorted(params.items()),
           observed=_("req(url, params={params}, headers=...) reached the server with a query "
                      "that decodes to {decoded} (as sent: {raw})").format(
                          params=short(params, 200), decoded=short(dict(got), 200),
                          raw=short(request.url.raw_query_string, 160)),
           expected=_("the query to decode to exactly {params}").format(params=params),
           hint=_("pass them to aiohttp as they are: `session.get(url, params=params)`; aiohttp "
                  "encodes &, =, +, # and spaces, which a hand-made `?k=v&...` string breaks"))


@pytest.mark.points(2)
def test_headers_sent(student):
    """headers reach the server as request headers, also when params are given too"""
    request, _params, headers = answered_with(student)
    got = request.headers
    wrong = [f"{k}: {got[k]!r}" if k in got else _("no {header}").format(header=k)
             for k, v in headers.items() if got.get(k) != v]
    expect(not wrong,
           observed=_("req(url, params=..., headers={headers}) reached the server with "
                      "{wrong}").format(headers=short(headers, 200), wrong=", ".join(wrong)),
           expected=_("the request to carry the headers {headers}").format(headers=headers),
           hint=_("pass them on: `session.get(url, params=params, headers=headers)` "
                  "(or `aiohttp.ClientSession(headers=headers)`)"))


# ---------------------------------------------------------------- what comes back (essence)


@pytest.mark.points(4)
def test_json_returned(student):
    """response_type='json' returns the parsed JSON body (a dict or a list, as it came)"""
    for body in (json_body(), [{"id": token(), "name": "Анна"}, {"id": token(), "name": "Олег"}]):
        url = url_of("users")
        run, web = served(json_reply(body), url, student=student, response_type="json")
        call = call_text(url, response_type="json")
        the_request(run, web, call)
        expect_value(run, call, body,
                     _("the parsed JSON body, a {type}: {body}").format(
                         type=type(body).__name__, body=short(body)),
                     _("return `await resp.json()`: it parses the body into dicts and lists")
                     if isinstance(run.value, str | bytes) else _(JSON_HINT))


@pytest.mark.points(3)
def test_text_returned(student):
    """response_type='text' returns the body as str, Cyrillic intact"""
    body = text_body()
    url = url_of("news")
    run, web = served(text_reply(body), url, student=student, response_type="text")
    call = call_text(url, response_type="text")
    the_request(run, web, call)
    expect_value(run, call, body, _("the body as str: {body}").format(body=short(body)),
                 _(TEXT_HINT))


@pytest.mark.points(1)
def test_json_is_default(student):
    """Without response_type req returns the parsed JSON: the default is 'json'"""
    body = json_body()
    url = url_of("profile")
    run, web = served(json_reply(body), url, student=student)
    call = call_text(url)
    the_request(run, web, call)
    hint = (_('keep the signature of the stub: `response_type="json"` by default')
            if run.error is None and isinstance(run.value, str | bytes) else _(JSON_HINT))
    expect_value(run, call, body,
                 _("the parsed JSON body (the default is 'json'): {body}").format(body=short(body)),
                 hint)


# ---------------------------------------------------------------- statuses


@pytest.mark.points(1)
def test_other_2xx_answered_normally(student):
    """A 2xx answer other than 200 (201, 203) is returned like a 200"""
    for status in (201, 203):
        body = json_body()
        url = url_of("orders")
        run, web = served(json_reply(body, status), url, student=student, response_type="json")
        call = on_answer(call_text(url, response_type="json"), status)
        the_request(run, web, call)
        expect_value(run, call, body, _("the parsed JSON body: {body}").format(body=short(body)),
                     _("every status below 400 is a success: let `raise_for_status()` decide "
                       "instead of comparing with 200"))


def on_answer(call: str, status: int) -> str:
    """`req(...) on a 404 answer`: a call and the status the server answered it with."""
    return _("{call} on a {status} answer").format(call=call, status=status)


ERRORS: list[tuple[int, str]] = [(404, "json"), (500, "text")]


def not_raised(call: str, run: Run) -> str:
    return _("{call} returned {value} instead of raising").format(call=call,
                                                                 value=kind(run.value))


def error_reply(status: int) -> Reply:
    if status == 404:
        return json_reply({"detail": "Не найдено", "request": token()}, 404)
    return text_reply("<html><body><h1>500 Internal Server Error</h1><hr>nginx</body></html>",
                      500)


@pytest.mark.points(2)
def test_error_status_raises(student):
    """A 404 or 500 answer raises aiohttp.ClientResponseError with that status"""
    answer_works(student)
    for status, response_type in ERRORS:
        url = url_of("missing" if status == 404 else "broken")
        run, web = served(error_reply(status), url, student=student, response_type=response_type)
        call = call_text(url, response_type=response_type)
        the_request(run, web, call)
        call = on_answer(call, status)
        expected = _("aiohttp.ClientResponseError with .status == {status}").format(status=status)
        if run.error is None:
            raise Feedback(not_raised(call, run), expected, _(STATUS_HINT))
        expect(run.error.is_a("ClientResponseError") and run.error.status == status,
               observed=_("{call} raised {error}").format(call=call,
                                                          error=run.error.summary(200))
                        + (_(" with .status == {status}").format(status=run.error.status)
                           if run.error.is_a("ClientResponseError") else ""),
               expected=expected, hint=_(STATUS_HINT))


# ---------------------------------------------------------------- response_type checks

BAD_TYPES: list[Any] = ["xml", None]  # "JSON" has a test of its own: one mistake, one charge
VE_HINT = N_("only 'json' and 'text' are valid: `if response_type not in ('json', 'text'): "
             "raise ValueError(...)` first thing in req")


def bad_type(student: StudentCode, response_type: Any) -> tuple[Run, FakeWeb, str]:
    url = url_of("items")
    run, web = served(json_reply(json_body()), url, student=student,
                      response_type=response_type)
    return run, web, call_text(url, response_type=response_type)


def expect_value_error(run: Run, call: str, hint: str) -> None:
    if run.error is None:
        raise Feedback(not_raised(call, run), "ValueError", hint)
    expect(run.error.is_a("ValueError"),
           observed=_("{call} raised {error}").format(call=call, error=run.error.summary(200)),
           expected="ValueError",
           # the braces are the student's own f-string: this text is never .format()-ed
           hint=_("raise ValueError yourself: "
                  "`raise ValueError(f'unknown response_type: {response_type!r}')`"))


@pytest.mark.points(2)
def test_unknown_type_raises_value_error(student):
    """Any response_type other than 'json' and 'text' ('xml', None) raises ValueError"""
    answer_works(student)
    for response_type in BAD_TYPES:
        run, _web, call = bad_type(student, response_type)
        expect_value_error(run, call, _(VE_HINT))


@pytest.mark.points(1)
def test_unknown_type_sends_no_request(student):
    """An unknown response_type is rejected before any request is sent"""
    answer_works(student)
    for response_type in BAD_TYPES:
        run, web, call = bad_type(student, response_type)
        expect(not web.requests,
               observed=ngettext("{call} sent {n} request to the server, then {outcome}",
                                 "{call} sent {n} requests to the server, then {outcome}",
                                 len(web.requests)).format(call=call, n=len(web.requests),
                                                           outcome=outcome(run)),
               expected=_("no request at all: an unknown response_type is rejected before "
                          "sending"),
               hint=_("check response_type first thing in req, before opening the session"))


@pytest.mark.points(1)
def test_response_type_is_case_sensitive(student):
    """'JSON' is not 'json': response_type is case-sensitive and 'JSON' raises ValueError"""
    answer_works(student)
    run, _web, call = bad_type(student, "JSON")
    expect_value_error(run, call, _("compare response_type exactly, without .lower(): "
                                    "only 'json' and 'text' are valid"))


# ---------------------------------------------------------------- async hygiene


def expect_closed(run: Run, web: FakeWeb, call: str, raised: bool) -> None:
    """The session is closed: no connection of this call is still open on the wire."""
    request = the_request(run, web, call)
    if request.answered_at is None:
        raise Feedback(_("{call} got no answer").format(call=call),
                       _("a request answered by the server"), _(NOT_AIOHTTP_HINT))
    sessions = run.reported.unclosed_sessions
    extra = ngettext(" (the worker also reports {n} session left open)",
                     " (the worker also reports {n} sessions left open)",
                     sessions).format(n=sessions) if sessions else ""
    n = run.open_connections
    if raised:
        observed = ngettext("{call} raised with {n} connection to the server still open{extra}",
                            "{call} raised with {n} connections to the server still open{extra}",
                            n)
        expected = _("the session closed before req raised")
    else:
        observed = ngettext("{call} returned with {n} connection to the server still open{extra}",
                            "{call} returned with {n} connections to the server still "
                            "open{extra}", n)
        expected = _("the session closed before req returned")
    expect(n == 0, observed=observed.format(call=call, n=n, extra=extra), expected=expected,
           hint=_(SESSION_HINT))


@pytest.mark.points(1)
def test_session_closed_after_success(student):
    """The session is closed when req returns"""
    run, web, call = answer_works(student)
    expect_closed(run, web, call, raised=False)


@pytest.mark.points(1)
def test_session_closed_after_error(student):
    """The session is closed when req raises for an error status"""
    answer_works(student)
    url = url_of("missing")
    run, web = served(error_reply(404), url, student=student, response_type="json")
    expect_closed(run, web, on_answer(call_text(url, response_type="json"), 404),
                  raised=run.error is not None)


@pytest.mark.points(1)
def test_runs_alongside_another_call(student):
    """Two req calls awaited together are both in flight at once (req does not block the loop)"""
    student.function("req", is_async=True)
    bodies = [json_body(), json_body()]
    urls = [url_of("first"), url_of("second")]
    web = FakeWeb(expect_in_flight=2)
    for url, body in zip(urls, bodies, strict=True):
        web.route(url, json_reply(body))
    calls = [((url,), {"response_type": "json"}) for url in urls]
    run = student.call("req", web=web, timeout=RUN_TIMEOUT, together=calls)
    if run.timed_out or run.crashed:
        run.value_or_raise()
    call = f"asyncio.gather({call_text(urls[0])}, {call_text(urls[1])})"
    if len(web.served) < 2:
        raise Feedback(ngettext("{call} sent {n} request to those URLs and {outcome}",
                                "{call} sent {n} requests to those URLs and {outcome}",
                                len(web.served)).format(call=call, n=len(web.served),
                                                        outcome=outcome(run)),
                       _("one GET per call"), _(NOT_AIOHTTP_HINT))
    expect_value(run, call, bodies,
                 _("both parsed bodies, in call order: {bodies}").format(bodies=short(bodies)),
                 _(JSON_HINT))
    blocking = run.reported.blocking
    expect(web.max_in_flight == 2,
           observed=_("{call}: the server never had both requests in flight at once").format(
                        call=call)
                    + (_(" (the worker saw {calls})").format(calls=", ".join(blocking))
                       if blocking else ""),
           expected=_("the two requests in flight together"),
           hint=_("nothing in req may wait without `await`: no time.sleep, no blocking I/O, "
                  "no lock shared by all calls"))
