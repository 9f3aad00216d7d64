"""[worker] What the worker installs around student code before importing it.

- Routing: every aiohttp connection goes to the trusted web server over a
  Unix socket (`http.sock` or `https.sock` by the URL's scheme), whatever
  host the URL names (at the `process` level, to the loopback port that
  `http.port` or `https.port` names: Windows has no Unix sockets). The
  trusted side sees each request on the wire and judges from that; nothing
  here is trusted for a verdict.
- Labels: each request carries `X-Grader-Caller`, the first argument of the
  innermost call of the function the test names (long_func(i) -> i), so the
  server can answer each call with an answer of its own.
- Pace: while requests are unanswered, a task in the student's event loop
  counts loop turns; when the loop has turned HOLD_TURNS times with nothing
  new sent or received, it tells the trusted side ("quiet"), which then
  releases held answers. Overlap is thus judged by loop turns, not seconds.
- Watch: blocking calls inside the loop (seen by an audit hook, so no
  builtin is replaced) and aiohttp sessions left open. These are the
  worker's word: they shape feedback, never a verdict. Sessions opened during
  a call are kept referenced until the next call, so a session the student
  never closed keeps its connection open where the trusted web can see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import aiohttp
from aiohttp import client_reqrep, connector

from . import sockpath
from .protocol import Blocking, Quiet

CALLER_HEADER = "X-Grader-Caller"
HOLD_TURNS = 200  # loop turns with nothing sent or received before saying "quiet"
HOLD_MIN_SECONDS = 0.02  # ...and at least this long
# ...and no timer of the student's due within this many seconds: a call that
# sleeps a random while before its request is waiting, not quiet.
QUIET_HORIZON = 3.0
THREADED_HOLD_SECONDS = 0.5  # ...when the student's code runs threads of its own
RENOTIFY_SECONDS = (0.05, 0.1, 0.2, 0.4)  # between repeated quiet notices for one state
BLOCKING_NETWORK = "a blocking network call (requests/urllib/socket)"


class Labeller:
    """Finds the `i` of the innermost call of a named student function on the stack."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.name = ""
        self.code: Any = None
        self.by_task: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()

    def follow(self, name: str, func: Any) -> None:
        self.name = name
        with contextlib.suppress(Exception):  # a student's __wrapped__ chain may be odd
            func = inspect.unwrap(func)
        self.code = getattr(func, "__code__", None)

    def task_factory(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        """Make tasks as asyncio does, remembering the label of the code that made each.

        A task's stack starts afresh, so a request sent from a task that
        long_func(i) created (create_task, wait_for, a TaskGroup inside it) is
        labelled by its creator's label.
        """
        task = asyncio.Task(coro, loop=loop, **kwargs)
        label = self.current(sys._getframe(1))
        if label is not None:
            self.by_task[task] = label
        return task

    def current(self, start: FrameType | None = None) -> int | None:
        if not self.name:
            return None
        found = self._on_stack(start or sys._getframe(1))
        if found is not None:
            return found
        task = asyncio.current_task() if asyncio._get_running_loop() is not None else None
        return self.by_task.get(task) if task is not None else None

    def _on_stack(self, frame: FrameType | None) -> int | None:
        while frame is not None:
            code = frame.f_code
            if code is self.code or (code.co_name == self.name
                                     and code.co_filename.startswith(self.folder)):
                value = _first_argument(frame)
                if value is not None:  # else a wrapper such as (*args): look further out
                    return value
            frame = frame.f_back
        return None


_BLOCKING_EVENTS = frozenset({"time.sleep", "socket.getaddrinfo", "socket.connect"})


def _blocking(sock: Any) -> bool:
    try:
        return bool(sock.gettimeout() != 0.0)
    except Exception:  # noqa: BLE001 - a closed or odd socket
        return False


def _hold_min() -> float:
    """How long the loop must stay idle: longer while other threads run, which may be
    about to send a request that this loop's idleness says nothing about."""
    return HOLD_MIN_SECONDS if threading.active_count() <= 1 else THREADED_HOLD_SECONDS


def _student_timer(loop: asyncio.AbstractEventLoop, horizon: float, mine: object) -> float | None:
    """When the first live timer of the student's (an asyncio.sleep, a jitter) fires, if
    within `horizon` seconds; the pacer's own wake-ups (set `mine`) do not count."""
    limit = loop.time() + horizon
    due = [handle.when() for handle in getattr(loop, "_scheduled", [])
           if not handle.cancelled() and handle.when() <= limit and _students(handle, mine)]
    return min(due) if due else None


def _students(handle: Any, mine: object) -> bool:
    """Not ours, not a deadline (the call's own, aiohttp's timeouts), not aiohttp's housekeeping."""
    callback = getattr(handle, "_callback", None)
    owner = getattr(callback, "__self__", None)
    if owner is mine or isinstance(owner, asyncio.Timeout):
        return False
    return not str(getattr(callback, "__module__", "") or "").startswith("aiohttp")


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


class Agent:
    """Routing, labels, pace and watch for one worker process."""

    def __init__(self, folder: str, web_dir: str,
                 notify: Callable[[dict[str, Any]], None]) -> None:
        """`notify` writes a notice's wire form on the channel (Worker.send)."""
        self.folder = folder
        self.web_dir = Path(web_dir)
        self.notify = notify
        self.labels = Labeller(folder)
        self.sent = 0
        self.received = 0
        self.blocking: list[str] = []
        self.sessions: list[aiohttp.ClientSession] = []
        self.watching = False
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ports: dict[str, int] = {}

    def web_port(self, scheme: str) -> int:
        """The trusted web's loopback port for `scheme` (`process` level), or 0: a Unix socket.

        Read once per scheme, not per connection: the trusted web wrote it before the
        worker started.
        """
        if scheme not in self._ports:
            try:
                port = int((self.web_dir / f"{scheme}.port").read_text(encoding="ascii"))
            except (OSError, ValueError):
                port = 0
            self._ports[scheme] = port
        return self._ports[scheme]

    # ------------------------------------------------------------ installation

    def install(self) -> None:
        """Patch aiohttp and add the blocking-call audit hook (once, before student code loads).

        The audit events: socket.connect and socket.getaddrinfo on Python 3.11;
        time.sleep only from Python 3.12 on, which raises an event for it.
        """
        agent = self
        real_send = client_reqrep.ClientRequest.send
        real_start = client_reqrep.ClientResponse.start
        real_session_init = aiohttp.ClientSession.__init__

        @functools.wraps(connector.TCPConnector._create_connection)
        async def create_connection(conn: Any, req: Any, traces: Any, timeout: Any) -> Any:
            scheme = "https" if req.is_ssl() else "http"
            try:
                port = agent.web_port(scheme)
                if port:
                    _, proto = await conn._loop.create_connection(conn._factory, "127.0.0.1",
                                                                  port)
                else:
                    _, proto = await conn._loop.create_unix_connection(
                        conn._factory, sockpath.address(agent.web_dir, f"{scheme}.sock"))
            except OSError as exc:
                raise aiohttp.ClientConnectorError(req.connection_key, exc) from exc
            return proto

        @functools.wraps(real_send)
        async def send(request: Any, conn: Any) -> Any:
            label = agent.labels.current()
            if label is not None:
                request.headers[CALLER_HEADER] = str(label)
            agent.sent += 1
            agent._poke()
            return await real_send(request, conn)

        @functools.wraps(real_start)
        async def start(response: Any, connection: Any) -> Any:
            result = await real_start(response, connection)
            agent.received += 1
            agent._poke()
            return result

        @functools.wraps(real_session_init)
        def session_init(session: Any, *args: Any, **kwargs: Any) -> None:
            real_session_init(session, *args, **kwargs)
            if agent.watching:
                agent.sessions.append(session)

        # Patching aiohttp's methods with wrappers of another declared type is the point here.
        connector.TCPConnector._create_connection = create_connection  # type: ignore[method-assign,assignment]
        client_reqrep.ClientRequest.send = send  # type: ignore[method-assign,assignment]
        client_reqrep.ClientResponse.start = start  # type: ignore[method-assign,assignment]
        for patched in (create_connection, send, start, session_init):
            del patched.__wrapped__  # named like the original, with no pointer to it
        aiohttp.ClientSession.__init__ = session_init  # type: ignore[method-assign,assignment]
        sys.addaudithook(self._audit)

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        """time.sleep and blocking sockets inside the loop, seen without replacing them."""
        if not self.watching or event not in _BLOCKING_EVENTS:
            return
        if event == "time.sleep":
            self._note_block(f"time.sleep({args[0] if args else ''})")
        elif event == "socket.getaddrinfo":  # requests/urllib look the host up first
            self._note_block(BLOCKING_NETWORK)
        elif event == "socket.connect" and args and _blocking(args[0]):
            self._note_block(BLOCKING_NETWORK)

    def _note_block(self, what: str) -> None:
        in_loop = asyncio._get_running_loop() is not None
        if self.watching and in_loop and what not in self.blocking:
            self.blocking.append(what)
            self.notify(Blocking(what).to_wire())  # survives the worker's kill

    # ------------------------------------------------------------ one call

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        self.blocking, self.watching = [], True
        try:
            yield
        finally:
            self.watching = False

    def forget_sessions(self) -> None:
        """Let the last call's sessions go (their sockets close when collected)."""
        self.sessions = []

    def unclosed_sessions(self) -> int:
        return sum(1 for session in self.sessions if not session.closed)

    def _poke(self) -> None:
        """Wake the pacer; thread-safe, since student code may run aiohttp in a thread."""
        changed, loop = self._changed, self._loop
        if changed is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(changed.set)

    async def pace(self) -> None:
        """Say "quiet" whenever requests are out and the loop turned HOLD_TURNS times idle.

        It spins only while it counts those turns, never for the time: the rest
        of the idle time, a student's timer and the pause before a notice is
        repeated are all waited for asleep, so a worker waiting on held answers
        costs no CPU.
        """
        self._changed = asyncio.Event()
        self._loop = loop = asyncio.get_running_loop()
        try:
            while True:
                if self.sent <= self.received:
                    await self._wait_change(None)
                else:
                    await self._until_change(loop)
        finally:
            self._changed = self._loop = None

    async def _until_change(self, loop: asyncio.AbstractEventLoop) -> None:
        seen = (self.sent, self.received)
        started, turns, told = loop.time(), 0, 0
        while (self.sent, self.received) == seen:
            due = _student_timer(loop, QUIET_HORIZON, self._changed)
            if due is not None:  # a student's sleep: wait for it, then count anew
                await self._wait_change(max(0.0, due - loop.time()) + 0.001)
                started, turns = loop.time(), 0
            elif told:  # said already (maybe too early for a request in transit): say again
                await self._wait_change(RENOTIFY_SECONDS[min(told, len(RENOTIFY_SECONDS)) - 1])
                if (self.sent, self.received) == seen:
                    self._say_quiet()
                    told += 1
            elif turns < HOLD_TURNS:  # give every ready callback its turns first
                await asyncio.sleep(0)
                turns += 1
            elif (rest := _hold_min() - (loop.time() - started)) > 0:
                await self._wait_change(rest)  # idle for its turns: sit out the rest asleep
            else:
                self._say_quiet()
                told = 1

    def _say_quiet(self) -> None:
        self.notify(Quiet(self.sent, self.received).to_wire())

    async def _wait_change(self, seconds: float | None) -> None:
        """Sleep until a request goes out or an answer comes in (or `seconds` pass)."""
        changed, loop = self._changed, self._loop
        assert changed is not None and loop is not None
        changed.clear()
        wake = loop.call_later(seconds, changed.set) if seconds is not None else None
        try:
            await changed.wait()
        finally:
            if wake is not None:
                wake.cancel()
