"""The trusted fake web: a real aiohttp server that the student's requests reach.

`WebServer` runs in a thread of the trusted test process and listens on two
Unix sockets (`http.sock`, `https.sock`) in a folder the sandbox can see.
The worker routes every aiohttp connection there, whatever host the URL
names, so what a test knows about HTTP (requests in flight, URLs, query
strings, headers) is observed here, on the wire, never inside the worker.

A test describes the web it wants with a `FakeWeb` (routes, how many requests
it expects in flight) and passes it to a student call. Answers are held
until the expected number of requests is in flight, or until the worker
reports that the student's event loop went quiet (HOLD_TURNS loop turns with
nothing new sent or received): overlap is counted in loop turns, not in
seconds, so a loaded machine does not change a verdict.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from grader.worker.agent import CALLER_HEADER  # the worker sets it, the server reads it

MAX_HOLD_SECONDS = 5.0  # a held answer goes out after this even without word from the worker


@dataclass
class Reply:
    """One canned answer. `json` wins over `body`."""

    status: int = 200
    json: Any = None
    body: str | bytes = ""
    headers: dict[str, str] = field(default_factory=dict)

    def as_response(self) -> web.Response:
        reason = _reason(self.status)  # aiohttp needs one for raise_for_status to work
        headers = dict(self.headers)
        if self.json is not None:
            return web.json_response(self.json, status=self.status, reason=reason,
                                     headers=headers)
        body = self.body.encode() if isinstance(self.body, str) else self.body
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return web.Response(status=self.status, reason=reason, body=body, headers=headers)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


@dataclass
class Request:
    """A request as it arrived on the wire."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    caller: int | None = None  # the i of long_func(i) that sent it, when the test asked
    index: int = 0  # arrival order, from 0


Handler = Callable[[Request], Reply]


class FakeWeb:
    """The web one student call sees: routes, an in-flight gauge, the requests it got."""

    def __init__(self, expect_in_flight: int = 1, *, reverse: bool = False) -> None:
        self.expect_in_flight = expect_in_flight
        self.reverse = reverse  # answer one at a time, highest caller first
        self.requests: list[Request] = []
        self.answered: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.first_request_at: float | None = None  # time.perf_counter() readings
        self.last_answer_at: float | None = None
        self._routes: list[tuple[re.Pattern[str], Handler]] = []
        self._held: dict[int, tuple[Request, asyncio.Future[None]]] = {}
        self._worker_received = 0
        self._released = 0

    def route(self, pattern: str | re.Pattern[str], handler: Handler | Reply) -> None:
        """Answer requests whose full URL matches `pattern` (a regex, or an exact URL)."""
        if isinstance(pattern, str):
            pattern = re.compile(re.escape(pattern) + r"(\?.*)?$")
        reply = handler
        self._routes.append((pattern, handler if callable(handler) else lambda _r: reply))

    def urls(self) -> list[str]:
        return [str(r.url) for r in self.requests]

    @property
    def busy_seconds(self) -> float:
        """From the first request to the last answer: a lower bound on the caller's run time."""
        if self.first_request_at is None or self.last_answer_at is None:
            return 0.0
        return self.last_answer_at - self.first_request_at

    # ------------------------------------------------------------ in the server's loop

    async def answer(self, scheme: str, raw: web.Request) -> web.StreamResponse:
        request = _request_of(scheme, raw, len(self.requests))
        self.requests.append(request)
        if self.first_request_at is None:
            self.first_request_at = time.perf_counter()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self._hold(request)
        finally:
            self.in_flight -= 1
            self.last_answer_at = time.perf_counter()
        self.answered.append(request)
        return self._reply_for(request).as_response()

    async def _hold(self, request: Request) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._held[request.index] = (request, future)
        timer = asyncio.get_running_loop().call_later(MAX_HOLD_SECONDS, self._free,
                                                      request.index)
        self._release(quiet=False)
        try:
            await future
        finally:
            timer.cancel()
            self._held.pop(request.index, None)

    def quiet(self, sent: int, received: int) -> None:
        """The worker's loop turned idle with `sent` requests out and `received` answers in."""
        if sent != len(self.requests):
            return  # a request is still on its way to us
        self._worker_received = received
        self._release(quiet=True)

    def _release(self, quiet: bool) -> None:
        if not self._held or not (quiet or self.in_flight >= self.expect_in_flight):
            return
        if not self.reverse:
            for index in list(self._held):
                self._free(index)
            return
        if self._worker_received < self._released:
            return  # the last answer has not reached the student yet
        request = max((r for r, _ in self._held.values()),
                      key=lambda r: (r.caller if r.caller is not None else -1, -r.index))
        self._free(request.index)

    def _free(self, index: int) -> None:
        entry = self._held.pop(index, None)
        if entry is not None and not entry[1].done():
            entry[1].set_result(None)
            self._released += 1

    def _reply_for(self, request: Request) -> Reply:
        for pattern, handler in self._routes:
            if pattern.match(str(request.url)):
                return handler(request)
        return Reply(status=404, body="no such page on the fake web")


def _request_of(scheme: str, raw: web.Request, index: int) -> Request:
    headers = CIMultiDict(raw.headers)
    label = headers.popall(CALLER_HEADER, [])
    caller = int(label[0]) if label and label[0].lstrip("-").isdigit() else None
    host = raw.headers.get("Host", "unknown")
    try:
        url = URL(f"{scheme}://{host}{raw.raw_path}", encoded=True)
    except ValueError:
        url = URL.build(scheme=scheme, host="invalid", path="/")
    return Request(raw.method, url, headers, caller, index)


class WebServer:
    """The trusted server thread; one per test process, serving one FakeWeb at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o755)
        self.current: FakeWeb | None = None
        self._loop = asyncio.new_event_loop()
        self._runners: list[web.AppRunner] = []
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True,
                                        name="grader-web")
        self._thread.start()
        ready.wait(30)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        for scheme in ("http", "https"):
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._handler(scheme))
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            path = self.folder / f"{scheme}.sock"
            await web.UnixSite(runner, str(path)).start()
            os.chmod(path, 0o777)  # the worker's uid must be able to connect
            self._runners.append(runner)

    def _handler(self, scheme: str) -> Callable[[web.Request], Any]:
        async def handle(raw: web.Request) -> web.StreamResponse:
            fake = self.current
            if fake is None:
                return web.Response(status=503, reason="Service Unavailable")
            return await fake.answer(scheme, raw)

        return handle

    def on_worker_event(self, event: dict[str, Any]) -> None:
        """From the worker link's thread: pass a "quiet" notice to the current FakeWeb."""
        fake = self.current
        if fake is not None and event.get("event") == "quiet":
            self._loop.call_soon_threadsafe(fake.quiet, int(event.get("sent", -1)),
                                            int(event.get("received", -1)))

    def close(self) -> None:
        async def stop() -> None:
            for runner in self._runners:
                await runner.cleanup()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
