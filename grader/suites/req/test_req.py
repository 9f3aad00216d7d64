"""Hidden tests for req (25 points).

`req(url, params=None, headers=None, response_type="json")` sends one GET with
aiohttp and returns the parsed JSON or the text. Each check calls req in the
sandboxed worker with its HTTP served by the trusted FakeWeb, which sees every
request on the wire: method, URL, query string and headers (session-level or
request-level alike). A submission that never sends a request through aiohttp
(requests, urllib: nothing else reaches the grading server) is told so plainly.
"""

from __future__ import annotations

from typing import Any

import pytest

from grader.suites.feedback import Feedback, expect
from grader.suites.harness import Run, StudentCode
from grader.suites.web import FakeWeb, Reply
from grader.worker.codec import Opaque

URL = "https://api.example.test/v1/users"
PAGE = "https://news.example.test/today"
SEARCH = "https://api.example.test/v1/search"
PROFILE = "https://api.example.test/v1/profile"
OBJECT = {"город": "Москва", "count": 3, "items": [1, 2, 3], "ok": True, "next": None}
ARRAY = [{"id": 1, "name": "Анна"}, {"id": 2, "name": "Олег"}]
TEXT = "<html><body><h1>Привет, мир!</h1><p>Госуслуги — ёлка, щи</p></body></html>"
TEXT_TYPE = "text/html; charset=utf-8"
PARAMS = {"q": "кот и пёс", "page": "2"}
HEADERS = {"X-Api-Key": "k-42", "Accept-Language": "ru-RU"}
RUN_TIMEOUT = 5.0

NOT_AIOHTTP_HINT = (
    "open a session and send the request with aiohttp: `async with aiohttp.ClientSession() as "
    "session:` then `async with session.get(url, ...) as resp:`; requests and urllib cannot "
    "reach the grading server and block the event loop"
)


# ---------------------------------------------------------------- helpers


def call_text(*args: Any, **kwargs: Any) -> str:
    """How the call looks to the student, e.g. `req('https://…', response_type='text')`."""
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"req({', '.join(parts)})"


def short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kind(value: Any) -> str:
    """`None`, or `a dict {...}`: what a value is, for a message."""
    if value is None:
        return "None"
    name = value.type if isinstance(value, Opaque) else type(value).__name__
    return f"a {name} {short(value)}"


def is_coroutine(value: Any) -> bool:
    return isinstance(value, Opaque) and value.type == "coroutine"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def run_req(student: StudentCode, web: FakeWeb, *args: Any, **kwargs: Any) -> Run:
    student.function("req", is_async=True)
    run = student.call("req", *args, web=web, timeout=RUN_TIMEOUT, **kwargs)
    if run.timed_out or run.crashed:
        run.value_or_raise()  # words the timeout (or the crash) for the student
    return run


def require_aiohttp_request(run: Run, web: FakeWeb, call: str) -> None:
    """A check that needs a request fails plainly when no aiohttp request was made."""
    if web.requests:
        return
    outcome = f"raised {run.error.summary(200)}" if run.error else f"returned {kind(run.value)}"
    raise Feedback(f"{call} sent no request through aiohttp and {outcome}",
                   "one GET request sent with aiohttp", NOT_AIOHTTP_HINT)


def require_value(run: Run, call: str, expected: str, hint: str) -> Any:
    if run.error is not None:
        raise Feedback(f"{call} raised {run.error.summary(200)}", expected, hint)
    return run.value


def check_json(run: Run, call: str, body: Any) -> None:
    expected = f"the parsed JSON body, a {type(body).__name__}: {short(body)}"
    value = require_value(run, call, expected,
                          "for response_type='json' return `await resp.json()` "
                          "(read it inside the `async with session.get(...) as resp:` block)")
    if is_coroutine(value):
        raise Feedback(f"{call} returned a coroutine object, not the data", expected,
                       "`resp.json()` is a coroutine: `return await resp.json()`")
    expect(value == body,
           observed=f"{call} returned {kind(value)}",
           expected=expected,
           hint="return `await resp.json()`: it parses the body into dicts and lists"
           if isinstance(value, str | bytes) else
           "return exactly what `await resp.json()` gives, without changing it")


def fake_call(student: StudentCode, reply: Reply, url: str, **kwargs: Any) -> tuple[Run, FakeWeb]:
    web = FakeWeb()
    web.route(url, reply)
    run = run_req(student, web, url, **kwargs)
    return run, web


# ---------------------------------------------------------------- the request


@pytest.mark.points(2)
def test_one_get_request(student):
    """Exactly one request, a GET, to the URL given."""
    call = call_text(URL, response_type="json")
    run, web = fake_call(student, Reply(json=OBJECT), URL, response_type="json")
    require_aiohttp_request(run, web, call)
    sent = ", ".join(f"{r.method} {r.url.with_query(None)}" for r in web.requests)
    expect(len(web.requests) == 1 and web.requests[0].method == "GET"
           and str(web.requests[0].url.with_query(None)) == URL,
           observed=f"{call} sent {plural(len(web.requests), 'request')}: {sent}",
           expected=f"exactly one GET to {URL}",
           hint="send one request with `session.get(url, params=params, headers=headers)`")


@pytest.mark.points(2)
def test_params_in_query_string(student):
    """params reach the server as the query string, values intact (non-ASCII too)."""
    call = call_text(SEARCH, params=PARAMS, response_type="json")
    run, web = fake_call(student, Reply(json={"ok": True}), SEARCH, params=PARAMS,
                         response_type="json")
    require_aiohttp_request(run, web, call)
    url = web.requests[0].url
    query = {key: url.query.getall(key) for key in url.query}
    wrong = {k: v for k, v in PARAMS.items() if query.get(k) != [v]}
    expect(not wrong,
           observed=f"for {call} the server got the query string {url.query_string!r} "
                    f"(parsed: {short(query, 200)})",
           expected=f"the query string to carry {PARAMS}",
           hint="pass them to aiohttp as they are: `session.get(url, params=params)`; "
                "aiohttp builds and encodes the `?q=…&page=…` part")


@pytest.mark.points(2)
def test_headers_sent(student):
    """headers reach the server as request headers (session-level or per request)."""
    call = call_text(PROFILE, headers=HEADERS, response_type="json")
    run, web = fake_call(student, Reply(json={"ok": True}), PROFILE, headers=HEADERS,
                         response_type="json")
    require_aiohttp_request(run, web, call)
    got = web.requests[0].headers
    wrong = [f"{k}: {got[k]!r}" if k in got else f"no {k}"
             for k, v in HEADERS.items() if got.get(k) != v]
    expect(not wrong,
           observed=f"for {call} the server got {', '.join(wrong)}",
           expected=f"the request to carry the headers {HEADERS}",
           hint="pass them on: `session.get(url, headers=headers)` "
                "(or `aiohttp.ClientSession(headers=headers)`)")


# ---------------------------------------------------------------- what comes back


@pytest.mark.points(2)
def test_json_object(student):
    """response_type='json' returns the parsed JSON object as a dict."""
    run, web = fake_call(student, Reply(json=OBJECT), URL, response_type="json")
    call = call_text(URL, response_type="json")
    require_aiohttp_request(run, web, call)
    check_json(run, call, OBJECT)


@pytest.mark.points(1)
def test_json_list(student):
    """A JSON array comes back as a list, not only objects."""
    run, web = fake_call(student, Reply(json=ARRAY), URL, response_type="json")
    call = call_text(URL, response_type="json")
    require_aiohttp_request(run, web, call)
    check_json(run, call, ARRAY)


@pytest.mark.points(2)
def test_json_is_default(student):
    """Without response_type the JSON is parsed: the default is 'json'."""
    run, web = fake_call(student, Reply(json=OBJECT), URL)
    call = call_text(URL)
    require_aiohttp_request(run, web, call)
    value = run.value
    if run.error is None and isinstance(value, str | bytes):
        raise Feedback(f"{call} returned {kind(value)}",
                       "the parsed JSON body (the default is response_type='json'): "
                       f"{short(OBJECT)}",
                       'keep the signature of the stub: `response_type="json"` by default')
    check_json(run, call, OBJECT)


@pytest.mark.points(3)
def test_text_as_str(student):
    """response_type='text' returns the body decoded to str (Cyrillic intact)."""
    reply = Reply(body=TEXT.encode("utf-8"), headers={"Content-Type": TEXT_TYPE})
    run, web = fake_call(student, reply, PAGE, response_type="text")
    call = call_text(PAGE, response_type="text")
    require_aiohttp_request(run, web, call)
    expected = f"the body as str: {short(TEXT)}"
    value = require_value(run, call, expected,
                          "for response_type='text' return `await resp.text()`; "
                          "resp.json() is only for 'json' (this answer is HTML)")
    if isinstance(value, bytes):
        raise Feedback(f"{call} returned bytes {short(value)}", expected,
                       "resp.read() gives raw bytes; `await resp.text()` decodes them with "
                       "the charset the server sent")
    if is_coroutine(value):
        raise Feedback(f"{call} returned a coroutine object, not the text", expected,
                       "`resp.text()` is a coroutine: `return await resp.text()`")
    expect(value == TEXT,
           observed=f"{call} returned {kind(value)}",
           expected=expected,
           hint="return `await resp.text()` unchanged")


# ---------------------------------------------------------------- response_type checks


def bad_type_call(student: StudentCode, response_type: Any) -> tuple[Run, FakeWeb, str]:
    run, web = fake_call(student, Reply(json=OBJECT), URL, response_type=response_type)
    return run, web, call_text(URL, response_type=response_type)


def expect_value_error(run: Run, call: str, hint: str) -> None:
    expected = "ValueError"
    if run.error is None:
        raise Feedback(f"{call} returned {kind(run.value)} instead of raising", expected, hint)
    expect(run.error.is_a("ValueError"),
           observed=f"{call} raised {run.error.summary(200)}",
           expected=expected,
           hint="raise ValueError yourself: "
                "`raise ValueError(f'unknown response_type: {response_type!r}')`")


@pytest.mark.points(2)
def test_unknown_type_raises_value_error(student):
    """Any response_type other than 'json'/'text' raises ValueError."""
    run, _web, call = bad_type_call(student, "xml")
    expect_value_error(run, call,
                       "only 'json' and 'text' are valid: "
                       "`if response_type not in ('json', 'text'): raise ValueError(...)`")


@pytest.mark.points(2)
def test_unknown_type_sends_no_request(student):
    """The bad response_type is rejected before anything is sent."""
    run, web, call = bad_type_call(student, "xml")
    if run.error is not None and run.error.is_a("NotImplementedError"):
        run.value_or_raise()  # the stub sends nothing because it does nothing: no points
    outcome = f"raised {run.error.summary(200)}" if run.error else f"returned {kind(run.value)}"
    expect(not web.requests,
           observed=f"{call} sent {plural(len(web.requests), 'request')} to the server, "
                    f"then {outcome}",
           expected="no request at all: an unknown response_type is rejected before sending",
           hint="check response_type first thing in req, before opening the session")


@pytest.mark.points(1)
def test_response_type_is_case_sensitive(student):
    """'JSON' is not 'json': only the two exact strings are valid."""
    run, _web, call = bad_type_call(student, "JSON")
    expect_value_error(run, call,
                       "compare response_type exactly, without .lower(): "
                       "only 'json' and 'text' are valid")


# ---------------------------------------------------------------- error statuses


ERROR_CASES: list[tuple[int, Reply, str]] = [
    (404, Reply(404, json={"error": "не найдено"}), "json"),
    (500, Reply(500, body="Внутренняя ошибка", headers={"Content-Type": TEXT_TYPE}), "text"),
]


@pytest.mark.points(3)
def test_error_status_raises(student):
    """Status 404 and 500 raise aiohttp.ClientResponseError with that status."""
    for status, reply, response_type in ERROR_CASES:
        run, web = fake_call(student, reply, URL, response_type=response_type)
        call = call_text(URL, response_type=response_type)
        require_aiohttp_request(run, web, call)
        call += f" on a {status} answer"
        expected = f"aiohttp.ClientResponseError with .status == {status}"
        hint = ("call `resp.raise_for_status()` before reading the body "
                "(or open the session with `raise_for_status=True`), and let the error out")
        if run.error is None:
            raise Feedback(f"{call} returned {kind(run.value)} instead of raising",
                           expected, hint)
        error = run.error
        expect(error.is_a("ClientResponseError"),
               observed=f"{call} raised {error.summary(200)}",
               expected=expected, hint=hint)
        expect(error.status == status,
               observed=f"{call} raised ClientResponseError with .status == {error.status}",
               expected=expected, hint=hint)


# ---------------------------------------------------------------- async hygiene


SESSION_HINT = ("`async with aiohttp.ClientSession() as session:` closes the session even when "
                "an exception leaves the block; a bare `ClientSession()` needs "
                "`await session.close()` in a `finally:`")


def expect_sessions_closed(run: Run, call: str, outcome: str) -> None:
    expect(run.unclosed_sessions == 0,
           observed=f"{call} left {plural(run.unclosed_sessions, 'aiohttp.ClientSession')} "
                    f"open after it {outcome}",
           expected=f"every session closed before req {outcome}",
           hint=SESSION_HINT)


@pytest.mark.points(1)
def test_session_closed_after_success(student):
    """No ClientSession is left open when req returns."""
    run, web = fake_call(student, Reply(json=OBJECT), URL, response_type="json")
    call = call_text(URL, response_type="json")
    require_aiohttp_request(run, web, call)
    expect_sessions_closed(run, call, "returned" if run.error is None else "finished")


@pytest.mark.points(1)
def test_session_closed_after_error(student):
    """No ClientSession is left open when req raises (error status, unknown response_type)."""
    run, web = fake_call(student, Reply(404, json={"error": "не найдено"}), URL,
                         response_type="json")
    call = call_text(URL, response_type="json")
    require_aiohttp_request(run, web, call)
    expect_sessions_closed(run, call + " on a 404 answer",
                           "raised" if run.error is not None else "returned")
    run, _web = fake_call(student, Reply(json=OBJECT), URL, response_type="xml")
    expect_sessions_closed(run, call_text(URL, response_type="xml"),
                           "raised" if run.error is not None else "returned")


@pytest.mark.points(1)
def test_no_blocking(student):
    """req never blocks the event loop (no time.sleep, no blocking sockets)."""
    run, web = fake_call(student, Reply(json=OBJECT), URL, response_type="json")
    call = call_text(URL, response_type="json")
    require_aiohttp_request(run, web, call)
    expect(not run.blocking,
           observed=f"{call} blocked the event loop: {', '.join(run.blocking)}",
           expected="no blocking call inside the coroutine",
           hint="time.sleep stops every other coroutine too: use `await asyncio.sleep(...)`; "
                "send requests with aiohttp, not requests or urllib")
