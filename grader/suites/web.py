"""[test process] The trusted fake web: a real aiohttp server that the student's requests reach.

`WebServer` runs in a thread of the trusted test process and listens on two
Unix sockets (`http.sock`, `https.sock`) in a folder the sandbox can see (at
the `process` level, where Windows has none, on two loopback ports named in
`http.port` and `https.port` there).
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
import functools
import os
import re
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from grader import sandbox
from grader.i18n import _
from grader.worker import sockpath
from grader.worker.agent import CALLER_HEADER  # the worker sets it, the server reads it
from grader.worker.protocol import Notice, Quiet

MAX_HOLD_SECONDS = 5.0  # a held answer goes out after this even without word from the worker
# What one connection may cost the trusted process (student code can open them at will):
# a request line of MAX_LINE bytes, MAX_HEADERS header lines of MAX_FIELD bytes each.
MAX_LINE = 8190  # aiohttp's default (and nginx's 8k buffer): URLs with long queries fit
MAX_FIELD = 4096
MAX_HEADERS = 32  # an aiohttp request sends about six
MAX_CONNECTIONS = 64  # open at once, both sockets together; an honest call needs at most 16
REQUEST_SECONDS = 5.0  # for a request's head to arrive whole, from the connection or its 1st byte
TIMELINE_LIMIT = 100  # requests a timeline keeps (the first sent): an honest call sends 15


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
    """A request as it arrived on the wire, and when the trusted side answered it."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    caller: int | None = None  # the worker's label (long_func(i) -> i): picks an answer, no more
    index: int = 0  # arrival order, from 0
    served: bool = False  # it matched a route (unmatched ones get a 404 at once, never held)
    key: Hashable = None  # the resource it asked for, when the route names one (a day)
    arrived_at: float = 0.0  # time.perf_counter() of the trusted side
    answered_at: float | None = None
    hold: float = 0.0  # the least time the test chose to hold its answer (wording: it is exact)
    printed_before: int = 0  # bytes the worker had printed during the call when it arrived
    printed_before_answer: int | None = None  # ...and when its answer was released
    transport: Any = field(default=None, repr=False)


Handler = Callable[[Request], Reply]
KeyOf = Callable[[Request], Hashable]


class FakeWeb:
    """The web one student call sees: routes, an in-flight gauge, the requests it got.

    Only requests that match a route are held and counted in flight, and a
    route that names its resources (`key`) counts each resource once: extra
    requests to a page nobody serves, or the same day asked twice, add no
    overlap. Answers are held until `expect_in_flight` resources are in flight
    or the student's loop has gone quiet (`hold`), and each at least `delay`
    seconds after it arrived (a number, or a function of the request); then
    they go all at once, or one at a time in the order of `order` (caller
    labels, or a function ranking a request, lowest first: neither ascending
    nor descending, so code that lists results as they complete gets them out
    of order).
    """

    def __init__(self, expect_in_flight: int = 1, *,
                 order: Sequence[int] | Callable[[Request], int] | None = None,
                 delay: float | Callable[[Request], float] = 0.0, hold: bool = True,
                 server: str = "nginx") -> None:
        self.expect_in_flight = expect_in_flight
        self.order: list[int] | Callable[[Request], int] | None = (
            order if order is None or callable(order) else list(order))
        self.delay = delay
        self.hold = hold
        self.server = server
        self.requests: list[Request] = []
        self.answered: list[Request] = []
        self.max_in_flight = 0
        self.output_base = 0  # the worker's stdout mark when the call began
        self.started_at: float | None = None  # time.perf_counter() when the call began
        # reads the worker's stdout to the end and counts it (set by the harness)
        self.output_mark: Callable[[], int] = lambda: self.output_base
        self._routes: list[tuple[re.Pattern[str], Handler, KeyOf | None]] = []
        self._held: dict[int, tuple[Request, asyncio.Future[None]]] = {}
        self._ready: set[int] = set()  # held requests whose delay has passed
        self._worker_received = 0
        self._released = 0
        self.connections_refused = 0  # closed at once: MAX_CONNECTIONS were open
        self.connections_cut = 0  # closed with a request unfinished after REQUEST_SECONDS

    def route(self, pattern: str | re.Pattern[str], handler: Handler | Reply, *,
              key: KeyOf | None = None) -> None:
        """Serve requests whose full URL matches `pattern` (a regex, or an exact URL)."""
        if isinstance(pattern, str):
            pattern = re.compile(re.escape(pattern) + r"(\?.*)?$")
        if callable(handler):
            self._routes.append((pattern, handler, key))
        else:
            reply = handler
            self._routes.append((pattern, lambda _r: reply, key))

    @property
    def flooded(self) -> str:
        """Why this call's web was not an ordinary one, in words; "" when it was."""
        what = []
        if self.connections_refused:
            what.append(_("{refused} connection(s) refused because {limit} were already "
                          "open").format(refused=self.connections_refused,
                                         limit=MAX_CONNECTIONS))
        if self.connections_cut:
            what.append(_("{cut} connection(s) closed because a request's head did not arrive "
                          "whole within {seconds:.0f} s").format(cut=self.connections_cut,
                                                                  seconds=REQUEST_SECONDS))
        return "; ".join(what)

    def urls(self) -> list[str]:
        return [str(r.url) for r in self.requests]

    @property
    def served(self) -> list[Request]:
        return [r for r in self.requests if r.served]

    @property
    def in_flight(self) -> int:
        """Distinct resources whose requests are held now."""
        return len({_resource(r) for r, _ in self._held.values()})

    @property
    def busy_seconds(self) -> float:
        """From the first served request to the last answer: a lower bound on the run time."""
        served = [r for r in self.served if r.answered_at is not None]
        if not served:
            return 0.0
        return max(r.answered_at or 0.0 for r in served) - min(r.arrived_at for r in served)

    def timeline(self) -> list[list[float | None]]:
        """[sent, answered] of each request, in seconds from the call's start, for the report.

        The trusted clock's times (what a teacher's timeline picture shows), the
        first TIMELINE_LIMIT requests only; answered is None for one never answered.
        """
        requests = sorted(self.requests, key=lambda r: r.arrived_at)[:TIMELINE_LIMIT]
        if not requests:
            return []
        zero = self.started_at if self.started_at is not None else requests[0].arrived_at
        zero = min(zero, requests[0].arrived_at)
        return [[round(r.arrived_at - zero, 6),
                 None if r.answered_at is None else round(r.answered_at - zero, 6)]
                for r in requests]

    # ------------------------------------------------------------ in the server's loop

    async def answer(self, scheme: str, raw: web.Request) -> web.StreamResponse:
        request = _request_of(scheme, raw, len(self.requests))
        request.arrived_at = time.perf_counter()
        request.printed_before = self.output_mark() - self.output_base
        self.requests.append(request)
        route = self._route_for(request)
        if route is None:
            request.answered_at = time.perf_counter()
            return self._finish(Reply(status=404, body=NOT_FOUND_PAGE, headers=_HTML))
        handler, key = route
        request.served = True
        request.key = key(request) if key is not None else None
        try:
            await self._hold(request)
        finally:
            request.answered_at = time.perf_counter()
            request.printed_before_answer = self.output_mark() - self.output_base
        self.answered.append(request)
        return self._finish(handler(request))

    def _finish(self, reply: Reply) -> web.StreamResponse:
        response = reply.as_response()
        response.headers.setdefault("Server", self.server)
        return response

    def _route_for(self, request: Request) -> tuple[Handler, KeyOf | None] | None:
        for pattern, handler, key in self._routes:
            if pattern.match(str(request.url)):
                return handler, key
        return None

    async def _hold(self, request: Request) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._held[request.index] = (request, future)
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        seconds = self.delay(request) if callable(self.delay) else self.delay
        request.hold = seconds
        delay = loop.call_later(seconds, self._delay_passed, request.index)
        timer = loop.call_later(seconds + MAX_HOLD_SECONDS, self._free, request.index)
        self._release(quiet=False)
        try:
            await future
        finally:
            delay.cancel()
            timer.cancel()
            self._held.pop(request.index, None)
            self._ready.discard(request.index)

    def _delay_passed(self, index: int) -> None:
        self._ready.add(index)
        self._release(quiet=False)

    def quiet(self, sent: int, received: int) -> None:
        """The worker's loop turned idle with `sent` requests out and `received` answers in.

        The worker's word can only make answers come sooner (less overlap for
        the student) or later (slower): it never adds a request in flight.
        """
        if sent != len(self.requests):
            return  # a request is still on its way to us
        self._worker_received = received
        self._release(quiet=True)

    def _release(self, quiet: bool) -> None:
        held = self._ready if callable(self.delay) or self.delay > 0 else set(self._held)
        if not held:
            return
        if self.hold and not (quiet or self.in_flight >= self.expect_in_flight):
            return
        if self.order is None:
            for index in sorted(held):
                self._free(index)
            return
        if self._worker_received < self._released:
            return  # the last answer has not reached the student yet
        request = min((self._held[i][0] for i in held if i in self._held),
                      key=self._rank, default=None)
        if request is not None:
            self._free(request.index)

    def _rank(self, request: Request) -> tuple[int, int]:
        """Which held answer goes next: by `order` (a rank function, or caller labels)."""
        if callable(self.order):
            return self.order(request), request.index
        order = self.order or []
        position = order.index(request.caller) if request.caller in order else len(order)
        return position, request.index

    def _free(self, index: int) -> None:
        entry = self._held.get(index)
        if entry is not None and not entry[1].done():
            entry[1].set_result(None)
            self._released += 1


def _resource(request: Request) -> Hashable:
    return ("key", request.key) if request.key is not None else ("request", request.index)


NOT_FOUND_PAGE = ("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
                  "<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p>"
                  "</body></html>\n")
_HTML = {"Content-Type": "text/html; charset=utf-8"}


def _request_of(scheme: str, raw: web.Request, index: int) -> Request:
    headers = CIMultiDict(raw.headers)
    label = headers.popall(CALLER_HEADER, [])
    caller = int(label[0]) if label and label[0].lstrip("-").isdigit() else None
    host = raw.headers.get("Host", "unknown")
    try:
        url = URL(f"{scheme}://{host}{raw.raw_path}", encoded=True)
    except ValueError:
        url = URL.build(scheme=scheme, host="invalid", path="/")
    return Request(raw.method, url, headers, caller, index, transport=raw.transport)


class _Guard(asyncio.Protocol):
    """aiohttp's protocol for one connection, behind a doorman that bounds what it costs.

    A connection beyond MAX_CONNECTIONS is closed at once; one whose request
    head (request line and headers) does not arrive whole within
    REQUEST_SECONDS, counted from the connection or from the first byte of
    its next request, is closed (slowloris). A connection idle between
    requests is left alone: a session kept open is something the tests
    observe, and the cap bounds how many there can be.
    """

    def __init__(self, inner: asyncio.Protocol, server: WebServer) -> None:
        self.inner = inner
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.admitted = False
        self.in_request = False  # the handler has the request's head and has not answered
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if len(self.server.connections) >= MAX_CONNECTIONS:
            self.server.note("connections_refused")
            transport.abort()
            return
        self.admitted = True
        self.server.connections[transport] = self
        self.inner.connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self.timer is None and not self.in_request:
            loop = asyncio.get_running_loop()
            self.timer = loop.call_later(REQUEST_SECONDS, self._too_slow)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _too_slow(self) -> None:
        self.timer = None
        if self.transport is not None and not self.transport.is_closing():
            self.server.note("connections_cut")
            self.transport.abort()

    def head_arrived(self) -> None:
        self.in_request = True
        self._disarm()

    def answered(self) -> None:
        self.in_request = False

    def data_received(self, data: bytes) -> None:
        if self.admitted:
            self._arm()  # the first bytes of a next request start its clock
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.admitted else None

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.admitted:
            self.server.connections.pop(self.transport, None)  # type: ignore[arg-type]
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.admitted:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.admitted:
            self.inner.resume_writing()


class WebServer:
    """The trusted server thread; one per test process, serving one FakeWeb at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o755)
        self.current: FakeWeb | None = None
        self.connections: dict[asyncio.Transport, _Guard] = {}  # open and admitted
        self.connections_refused = 0  # in the whole run, calls or not (see FakeWeb's)
        self.connections_cut = 0
        self._loop = asyncio.new_event_loop()
        self._runners: list[web.AppRunner] = []
        self._servers: list[asyncio.AbstractServer] = []
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

    def _guarded(self, protocol: web.Server) -> _Guard:
        """A new connection's protocol, behind its doorman."""
        return _Guard(protocol(), self)

    async def _start(self) -> None:
        for scheme in ("http", "https"):
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._handler(scheme))
            runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                   max_line_size=MAX_LINE, max_field_size=MAX_FIELD,
                                   max_headers=MAX_HEADERS)
            await runner.setup()
            protocol = runner.server
            assert protocol is not None
            factory = functools.partial(self._guarded, protocol)
            if sandbox.portable():  # no Unix sockets (Windows): a loopback port, in a file
                server = await self._loop.create_server(factory, "127.0.0.1", 0)
                port = server.sockets[0].getsockname()[1]
                (self.folder / f"{scheme}.port").write_text(str(port), encoding="ascii")
            else:
                path = sockpath.address(self.folder, f"{scheme}.sock")  # may be deep
                server = await self._loop.create_unix_server(factory, path)
                os.chmod(path, 0o777)  # the worker's uid must be able to connect
            self._runners.append(runner)
            self._servers.append(server)

    @property
    def flooded(self) -> str:
        """Why this run's web was flooded, in words for the student; "" when it was not."""
        if not (self.connections_refused or self.connections_cut):
            return ""
        return _("your code flooded the grader's web server ({refused} connection(s) refused "
                 "because {limit} were already open, {cut} closed because a request's head did "
                 "not arrive whole within {seconds:.0f} s): what it observed of your requests "
                 "cannot be trusted, so this assignment is not graded").format(
            refused=self.connections_refused, limit=MAX_CONNECTIONS, cut=self.connections_cut,
            seconds=REQUEST_SECONDS)

    def note(self, what: str) -> None:
        """`what` (connections_refused or _cut) happened: counted for the run and the call."""
        setattr(self, what, getattr(self, what) + 1)
        fake = self.current
        if fake is not None:
            setattr(fake, what, getattr(fake, what) + 1)

    def _handler(self, scheme: str) -> Callable[[web.Request], Any]:
        async def handle(raw: web.Request) -> web.StreamResponse:
            guard = self.connections.get(raw.transport)  # type: ignore[arg-type]
            if guard is not None:
                guard.head_arrived()
            try:
                fake = self.current
                if fake is None:
                    return web.Response(status=503, reason="Service Unavailable")
                return await fake.answer(scheme, raw)
            finally:
                if guard is not None:
                    guard.answered()

        return handle

    def open_connections(self, fake: FakeWeb) -> int:
        """Connections `fake`'s requests came on that the client has not closed.

        Asked after the worker replied: a session the student closed has closed
        its sockets before that, so once this loop has read the end of each
        stream (a few turns, then a short grace) only unclosed ones remain.
        """
        async def count() -> int:
            transports = {id(r.transport): r.transport for r in fake.requests
                          if r.transport is not None}.values()
            for turn in range(40):
                still = sum(1 for t in transports if not t.is_closing())
                if still == 0:
                    return 0
                await asyncio.sleep(0 if turn < 20 else 0.005)
            return still

        if not self._thread.is_alive():
            return 0
        return asyncio.run_coroutine_threadsafe(count(), self._loop).result(10)

    def on_worker_event(self, notice: Notice) -> None:
        """From the worker link's thread: pass a Quiet notice to the current FakeWeb."""
        fake = self.current
        if fake is not None and isinstance(notice, Quiet):
            self._loop.call_soon_threadsafe(fake.quiet, notice.sent, notice.received)

    def close(self) -> None:
        async def stop() -> None:
            for server in self._servers:
                server.close()
            for guard in list(self.connections.values()):
                if guard.transport is not None:
                    guard.transport.abort()
            for runner in self._runners:
                await runner.cleanup()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
