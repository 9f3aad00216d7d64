"""Fake web servers for hidden tests: nothing reaches the internet.

`FakeWeb` answers aiohttp requests to any URL in-process (aioresponses) and
counts how many requests are in flight at once. Overlap is measured by
event-loop turns, not seconds: each answer is held until every request the
test expects has arrived, or until the loop has turned many times with no new
request. A loaded machine slows the turns down but does not change the count.

`LoopbackServer` is a real aiohttp server on 127.0.0.1 for checks that need
the wire (headers and query string as sent, real timeouts).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aioresponses import CallbackResult, aioresponses
from multidict import CIMultiDict
from yarl import URL

HOLD_TURNS = 200  # loop turns an answer waits for more requests before it is given
HOLD_MIN_SECONDS = 0.02  # ...and at least this long, so timers students set (jitter) can fire


@dataclass
class Reply:
    """One canned answer. `json` wins over `body`."""

    status: int = 200
    json: Any = None
    body: str | bytes = ""
    headers: dict[str, str] = field(default_factory=dict)

    def as_callback_result(self) -> CallbackResult:
        # A reason is required: without it raise_for_status() fails with a bare
        # AssertionError inside aiohttp instead of ClientResponseError (field notes).
        reason = _reason(self.status)
        if self.json is not None:
            return CallbackResult(status=self.status, payload=self.json, reason=reason,
                                  headers=self.headers)
        return CallbackResult(status=self.status, body=self.body, reason=reason,
                              headers=self.headers)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


@dataclass
class Request:
    """A request as the fake web saw it."""

    method: str
    url: URL
    headers: CIMultiDict[str]


Handler = Callable[[Request], Reply]


class FakeWeb:
    """In-process fake of the web with an in-flight gauge. Use as a context manager."""

    def __init__(self, expect_in_flight: int = 1) -> None:
        self.expect_in_flight = expect_in_flight
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.first_request_at: float | None = None  # time.perf_counter() readings
        self.last_answer_at: float | None = None
        self._routes: list[tuple[re.Pattern[str], Handler]] = []
        self._mock = aioresponses(passthrough=["http://127.0.0.1", "http://localhost"])

    def route(self, pattern: str | re.Pattern[str], handler: Handler | Reply) -> None:
        """Answer GETs whose full URL matches `pattern` (a regex or an exact URL)."""
        if isinstance(pattern, str):
            pattern = re.compile(re.escape(pattern) + r"(\?.*)?$")
        reply = handler
        self._routes.append((pattern, handler if callable(handler) else lambda _r: reply))

    def __enter__(self) -> FakeWeb:
        self._mock.__enter__()
        any_url = re.compile(r"^https?://(?!127\.0\.0\.1|localhost).*")
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
            self._mock.add(any_url, method=method, callback=self._answerer(method), repeat=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._mock.__exit__(*exc)

    def _answerer(self, method: str) -> Callable[..., Any]:
        async def answer(url: URL, **kwargs: Any) -> CallbackResult:
            return await self._answer(method, url, kwargs)

        return answer

    async def _answer(self, method: str, url: URL, kwargs: dict[str, Any]) -> CallbackResult:
        request = Request(method, URL(url), CIMultiDict(kwargs.get("headers") or {}))
        self.requests.append(request)
        if self.first_request_at is None:
            self.first_request_at = time.perf_counter()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self._hold()
        finally:
            self.in_flight -= 1
            self.last_answer_at = time.perf_counter()
        return self._reply_for(request).as_callback_result()

    async def _hold(self) -> None:
        """Wait until the expected overlap is reached, or the loop has gone quiet."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        seen = len(self.requests)
        turns = 0
        while self.in_flight < self.expect_in_flight:
            await asyncio.sleep(0)
            if len(self.requests) != seen:
                seen, turns = len(self.requests), 0
                continue
            turns += 1
            if turns >= HOLD_TURNS and loop.time() - started >= HOLD_MIN_SECONDS:
                return

    def _reply_for(self, request: Request) -> Reply:
        for pattern, handler in self._routes:
            if pattern.match(str(request.url)):
                return handler(request)
        return Reply(status=404, body="no such page on the fake web")

    @property
    def busy_seconds(self) -> float:
        """From the first request to the last answer: a lower bound on the caller's run time."""
        if self.first_request_at is None or self.last_answer_at is None:
            return 0.0
        return self.last_answer_at - self.first_request_at

    def urls(self) -> list[str]:
        return [str(r.url) for r in self.requests]


class LoopbackServer:
    """A real aiohttp server on 127.0.0.1, started inside the running event loop."""

    def __init__(self, handler: Callable[[web.Request], Any]) -> None:
        self._app = web.Application()
        self._app.router.add_route("*", "/{tail:.*}", handler)
        self._runner = web.AppRunner(self._app, access_log=None)
        self.port = 0

    async def __aenter__(self) -> LoopbackServer:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"
