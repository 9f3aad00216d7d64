"""[worker] The worker: the only process that imports student code.

It runs sandboxed and answers requests from the trusted test process over an
inherited socket, one JSON line each way, each a record of protocol.py:

- `ImportRequest`: import the student's module;
- `InspectRequest`: what the module-level NAME is (a function? async? a value?);
- `DecorateRequest`: apply the student's decorator to a grader target (a
  small coroutine function this file builds) and keep the result;
- `CallRequest`: call a module function or a decorated target, await what it
  returns in a fresh event loop, and report the value or exception, and the
  async diagnostics (wording for feedback, never a verdict).

It is started with one argument, a `Launch` record (protocol.py).

What the student prints goes to the process's real stdout (fd 1), a pipe
whose other end only the trusted side reads: the worker never captures or
relays it, so `sys.stdout` is an ordinary TextIOWrapper for the process's
whole life (`reconfigure`, `buffer`, references taken at import all work).

The worker holds no verdict and no hidden test: it reports what happened,
and the trusted side decides. A student can make it lie only about its own
behaviour. While a call runs it also sends `Quiet` notices (see agent.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import inspect
import json
import os
import socket
import sys
import threading
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import aiohttp  # noqa: F401 - loaded before the student's folder joins sys.path

from .agent import Agent
from .codec import ERROR_CHARS, REPR_CHARS, ErrorInfo, cap, decode, dumps, encode
from .protocol import (
    IMPORT_FAILURES,
    CallReply,
    CallRequest,
    DecorateReply,
    DecorateRequest,
    Described,
    ImportReply,
    ImportRequest,
    InspectReply,
    InspectRequest,
    Internal,
    Invocation,
    Launch,
    Ready,
    Record,
    Request,
    TargetCall,
    TargetSpec,
    read_request,
    reply_line,
)


def _flush_stdout() -> None:
    """Push what the student printed into the pipe before a reply says the call is over."""
    for stream in {id(sys.stdout): sys.stdout, id(_STDOUT): _STDOUT}.values():
        with contextlib.suppress(Exception):  # the student's own stdout object may be anything
            stream.flush()


_STDOUT = sys.stdout  # Python's own TextIOWrapper over fd 1, the pipe the trusted side reads


class TargetError(Exception):
    """What a grader target raises when asked to."""


class Target:
    """A coroutine function of the grader's, for the student's decorator to wrap.

    Its spec (a TargetSpec from the trusted side): its metadata; `fetch` (a
    URL: each call GETs it with its arguments in the query,
    `?call=N&args=JSON`, so the trusted web sees every call and holds its
    answer as long as the test chose); `sleep` (seconds to await); `raises` (a
    message: raise an exception of class `error_class`, a TargetError
    subclass, TargetError if not named), else `returns` (a value, a fresh copy
    per call) or `echo_call` (the number of calls so far).
    """

    def __init__(self, spec: TargetSpec) -> None:
        self.spec = spec
        self.returns = encode(spec.returns)  # decoded afresh for each call: a new object each
        self.error_class = self._error_class(spec)
        self.calls: list[TargetCall] = []
        self.function = self._build()

    @staticmethod
    def _error_class(spec: TargetSpec) -> type[TargetError]:
        """TargetError, or a subclass of it named as the spec asks (ReportError)."""
        name = spec.error_class
        if not name.isidentifier():
            return TargetError
        return type(name, (TargetError,), {"__module__": spec.module, "__qualname__": name})

    def _build(self) -> Any:
        spec, target = self.spec, self

        async def function(*args: Any, **kwargs: Any) -> Any:
            call = {"args": encode(list(args)), "kwargs": encode(kwargs)}
            target.calls.append(TargetCall.from_wire(call))  # as they were at the call
            number = len(target.calls)
            await asyncio.sleep(0)
            if spec.fetch:
                query = {"call": str(number), "args": json.dumps(call)}
                async with aiohttp.ClientSession() as session, \
                        session.get(spec.fetch, params=query) as response:
                    await response.read()
            if spec.sleep:
                await asyncio.sleep(spec.sleep)
            if spec.raises:
                raise target.error_class(spec.raises)
            return number if spec.echo_call else decode(target.returns)

        function.__name__ = spec.name
        function.__qualname__ = spec.qualname if spec.qualname is not None else spec.name
        function.__doc__ = spec.doc
        function.__module__ = spec.module
        return function

    def report(self) -> list[TargetCall]:
        """What the target saw: wording for feedback (the wire is what counts)."""
        return list(self.calls)


class Worker:
    """State of one worker process: the channel, the agent, the module, decorated targets."""

    def __init__(self, channel: socket.socket, folder: str, module: str, web_dir: str) -> None:
        self.channel = channel
        self.folder = str(Path(folder).resolve())
        self.module_name = module
        self.module: Any = None
        self.lock = threading.Lock()
        self.agent = Agent(self.folder, web_dir, self.send)
        self.handles: dict[str, tuple[Any, Target]] = {}

    def send(self, message: dict[str, Any]) -> None:
        """Write one line (a record's wire form) on the channel, whole, from any thread."""
        data = dumps(message)
        with self.lock:
            self.channel.sendall(data)

    def serve(self) -> None:
        stream = self.channel.makefile("rb")
        for line in stream:
            try:
                reply = reply_line(self.handle(read_request(json.loads(line))))
            except Exception as exc:  # noqa: BLE001 - a grader bug is reported, not fatal
                reply = reply_line(Internal(f"{type(exc).__name__}: {exc}"))
            self.send(reply)

    def handle(self, request: Request[Any]) -> Record:
        """The reply to one request."""
        match request:
            case ImportRequest():
                return self.do_import()
            case InspectRequest():
                return self.do_inspect(request)
            case DecorateRequest():
                return self.do_decorate(request)
            case CallRequest():
                return self.do_call(request)
        raise TypeError(f"no handler for {type(request).__name__}")

    # ------------------------------------------------------------------ requests

    def do_import(self) -> ImportReply:
        sys.path.insert(0, self.folder)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.module = importlib.import_module(self.module_name)
        except BaseException as exc:  # noqa: BLE001 - sys.exit at import is the student's too
            return ImportReply(describe_import_error(exc, self.folder, self.module_name))
        finally:
            _flush_stdout()
        return ImportReply("")

    def do_inspect(self, request: InspectRequest) -> InspectReply:
        if not hasattr(self.module, request.name):
            return InspectReply(exists=False)
        obj = getattr(self.module, request.name)
        return InspectReply(
            exists=True,
            type=type(obj).__name__,
            callable=callable(obj),
            coroutine_function=inspect.iscoroutinefunction(obj),
            async_call=inspect.iscoroutinefunction(vars(type(obj)).get("__call__")),
            is_function=inspect.isfunction(obj),
            value=None if callable(obj) else obj,
        )

    def do_decorate(self, request: DecorateRequest) -> DecorateReply:
        """`decorator(target)`; the target itself gets a handle too (`raw`), as a control.

        Calling the very function the decorator was given, undecorated, must
        print nothing: if it prints timing lines, a patch rather than the
        decorator prints them. Every decoration makes both handles the same
        way, so nothing tells a control call from any other.
        """
        decorator = getattr(self.module, request.decorator)
        target = Target(request.target)
        raw = self._handle(target.function, target)
        try:
            made = decorator(target.function)
        except BaseException as exc:  # noqa: BLE001
            return DecorateReply(raw, error=describe_error(exc, self.folder))
        finally:
            _flush_stdout()
        described = describe_callable(made, target.function)
        if inspect.iscoroutine(made):
            made.close()
        return DecorateReply(raw, handle=self._handle(made, target), made=described)

    def _handle(self, function: Any, target: Target) -> str:
        handle = f"@{len(self.handles) + 1}"
        self.handles[handle] = (function, target)
        return handle

    def do_call(self, request: CallRequest) -> CallReply:
        function, target = self._callable(request.function)
        if request.label:
            self.agent.labels.follow(request.label, getattr(self.module, request.label, None))
        else:
            self.agent.labels.name = ""
        return Call(self, function, request, target).run()

    def _callable(self, name: str) -> tuple[Any, Target | None]:
        if name.startswith("@"):
            return self.handles[name]
        return getattr(self.module, name), None


class Call:
    """One `call` request: a fresh event loop, the student's coroutine, and what it did."""

    def __init__(self, worker: Worker, function: Any, request: CallRequest,
                 target: Target | None) -> None:
        self.worker = worker
        self.agent = worker.agent
        self.function = function
        self.calls: list[Invocation] = request.calls
        self.together = request.together
        self.timeout = request.timeout
        self.drain = request.drain
        self.target = target
        self.record: dict[str, Any] = {}  # CallReply's fields, filled in as the call goes

    def run(self) -> CallReply:
        self.agent.forget_sessions()  # the last call's, kept open until now for the wire to see
        _unbind_loop_primitives(self.worker.module)
        value: Any = None
        error: BaseException | None = None
        self.agent.sent = self.agent.received = 0  # the trusted web counts per call too
        started = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with self.agent.watch():
                try:
                    value, error = asyncio.run(self._supervise())
                except BaseException as exc:  # noqa: BLE001 - reported, not raised here
                    error = exc
                self.record["elapsed"] = time.perf_counter() - started
                gc.collect()
                _flush_stdout()
            self.record["unclosed_sessions"] = self.agent.unclosed_sessions()
        self.record["blocking"] = list(self.agent.blocking)
        self.record["unawaited"] = _never_awaited(caught)
        self.record["coroutines"] = _close_coroutines(value)
        self.record["value"] = value
        self.record["error"] = describe_error(error, self.worker.folder) \
            if error is not None else None
        if self.target is not None:
            self.record["target"] = self.target.report()
        return CallReply(**self.record)

    async def _supervise(self) -> tuple[Any, BaseException | None]:
        if self.agent.labels.name:
            asyncio.get_running_loop().set_task_factory(self.agent.labels.task_factory)
        pace = asyncio.create_task(self.agent.pace())
        deadline = asyncio.timeout(self.timeout)
        value: Any = None
        error: BaseException | None = None
        started = time.perf_counter()
        try:
            async with deadline:
                value = await self._invoke()
        except Exception as exc:  # noqa: BLE001 - the student's exception is data here
            if isinstance(exc, TimeoutError) and deadline.expired():
                self.record["timed_out"] = True
            else:
                error = exc
        self.record["call_seconds"] = time.perf_counter() - started
        self.record["received_at_return"] = self.agent.received
        # A coroutine object has __qualname__; typeshed's Coroutine type does not declare it.
        self.record["pending"] = sorted(t.get_coro().__qualname__  # type: ignore[union-attr]
                                        for t in self._student_tasks())
        await self._drain()
        pace.cancel()
        return value, error

    async def _invoke(self) -> Any:
        async def one(call: Invocation, after: float = 0.0) -> Any:
            if after > 0:
                await asyncio.sleep(after)  # calls that overlap but start at different moments
            result = self.function(*call.args, **call.kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result

        if self.together:
            return list(await asyncio.gather(*(one(call, call.after) for call in self.calls)))
        return await one(self.calls[0])

    def _student_tasks(self) -> list[asyncio.Task[Any]]:
        me = asyncio.current_task()
        tasks = []
        for task in asyncio.all_tasks():
            code = getattr(task.get_coro(), "cr_code", None)
            if task is not me and not task.done() and code is not None \
                    and code.co_filename.startswith(self.worker.folder):
                tasks.append(task)
        return tasks

    async def _drain(self) -> None:
        """Let tasks the call left behind finish, so their requests and sessions count."""
        loop = asyncio.get_running_loop()
        end = loop.time() + self.drain
        while self._student_tasks() and loop.time() < end:
            await asyncio.sleep(0.001)


# ---------------------------------------------------------------------- describing


def describe_callable(obj: Any, target: Any) -> Described:
    """What a decorator made of `target`."""
    return Described(
        kind="coroutine" if inspect.iscoroutine(obj) else "callable" if callable(obj) else "other",
        type=type(obj).__name__,
        value=None if callable(obj) else obj,
        coroutine_function=inspect.iscoroutinefunction(obj),
        is_function=inspect.isfunction(obj),
        async_call=inspect.iscoroutinefunction(vars(type(obj)).get("__call__")),
        name=_text(getattr(obj, "__name__", None)),
        qualname=_text(getattr(obj, "__qualname__", None)),
        doc=_text(getattr(obj, "__doc__", None)),
        wrapped_is_target=getattr(obj, "__wrapped__", None) is target,
    )


def _text(value: Any) -> str | None:
    """A name or docstring as sent: any size the student chose, cut to a sendable one."""
    return cap(value, ERROR_CHARS) if isinstance(value, str) else None


def describe_error(exc: BaseException, folder: str) -> ErrorInfo:
    types = [f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__]
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001
        message = f"<{type(exc).__name__}>"
    status = getattr(exc, "status", None)
    code = cap(repr(exc.code), REPR_CHARS) if isinstance(exc, SystemExit) else ""
    lines = traceback.format_exception_only(type(exc), exc)[-1:]
    return ErrorInfo(type(exc).__name__, types, cap(message, ERROR_CHARS),
                     student_location(exc, folder),
                     status if isinstance(status, int) else None, code,
                     [line.rstrip()[:300] for line in lines])


def student_location(exc: BaseException, folder: str) -> str:
    """`file.py, line N` of the deepest frame inside the student's folder, or ''."""
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(folder):
            where = f"{Path(frame.filename).name}, line {frame.lineno}"
    return where


def describe_import_error(exc: BaseException, folder: str, module: str = "") -> str:
    """One sentence naming why importing the student's module failed, cut to a sendable size.

    In English, from protocol.IMPORT_FAILURES: the trusted side reads it back to translate it.
    """
    line = _first_non_utf8_line(Path(folder) / f"{module}.py") if module else None
    if isinstance(exc, SyntaxError | UnicodeDecodeError) and line is not None:
        return _failure("not_utf8", file=f"{module}.py", line=line)
    if isinstance(exc, SyntaxError):
        file = Path(exc.filename or "").name
        if "unicode error" in str(exc.msg) or "Non-UTF-8" in str(exc.msg):
            return _failure("not_utf8", file=file, line=_line(exc.lineno))
        return _failure("syntax", file=file, line=_line(exc.lineno), text=str(exc.msg))
    if isinstance(exc, SystemExit):
        return _failure("sys_exit", text=repr(exc.code))
    if isinstance(exc, ModuleNotFoundError) and exc.name in {"requests", "httpx"}:
        return _failure("unavailable", name=exc.name)
    where = student_location(exc, folder)
    return _failure("raised", name=type(exc).__name__, text=str(exc),
                    where=f" ({where})" if where else "")


def _failure(kind: str, **values: object) -> str:
    return cap(IMPORT_FAILURES[kind].format(**values), ERROR_CHARS)


def _line(number: object) -> int:
    """A line number as the protocol carries it (0 when Python gave none)."""
    return number if type(number) is int else 0


def _first_non_utf8_line(path: Path) -> int | None:
    """The number of the first line of `path` that is not UTF-8, or None."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return None
    for number, raw in enumerate(lines, 1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return number
    return None


def _unbind_loop_primitives(module: Any) -> None:
    """Let module-level asyncio primitives (a Semaphore, a Lock) serve the next call's loop.

    A student's program calls asyncio.run once; grading runs many fresh loops in
    one process, and a Semaphore bound to the first would fail in the second
    ("is bound to a different event loop"): an artefact of grading, not a flaw.
    """
    for value in list(vars(module).values()):
        if isinstance(value, asyncio.mixins._LoopBoundMixin) and not getattr(
            value, "_waiters", None
        ):
            value._loop = None  # type: ignore[attr-defined]  # asyncio's private, set at runtime


def _never_awaited(caught: list[warnings.WarningMessage]) -> list[str]:
    names = []
    for warning in caught:
        text = str(warning.message)
        if issubclass(warning.category, RuntimeWarning) and "was never awaited" in text:
            names.append(text.split("'")[1] if "'" in text else text)
    return sorted(set(names))


def _close_coroutines(value: object) -> list[str]:
    """Close coroutines handed back un-awaited (so they warn in no later call); their names."""
    items = value if isinstance(value, list | tuple) else [value]
    names = []
    for item in items:
        if inspect.iscoroutine(item):
            names.append(item.__qualname__)
            item.close()
    return names


def _hide_runtime(module: str) -> None:
    """Leave no name of the worker's own where a submission would look (§5: no easy tells).

    Its modules keep working (functions hold their globals); they are just no
    longer listed in sys.modules, importable from sys.path, or named in sys.argv.
    """
    package = __package__ or ""
    ours = [n for n in sys.modules if n == package or n.startswith(package + ".")
            or n.startswith("__editable__")]  # pip's finder of an editable grader install
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not type(f).__module__.startswith("__editable__")]
    for name in ours:
        del sys.modules[name]
    runtime = str(Path(__file__).resolve().parent.parent)
    sys.path[:] = [p for p in sys.path if p != runtime]
    sys.argv = [f"{module}.py"]


def _channel(launch: Launch) -> socket.socket:
    """The inherited end of the socket pair, or (`process` level) a loopback connection.

    The connection's first line is the launch's token: the trusted side takes
    no other connection for this worker's.
    """
    if launch.port == 0:
        return socket.socket(fileno=launch.channel)
    channel = socket.create_connection(("127.0.0.1", launch.port), timeout=30)
    channel.settimeout(None)
    channel.sendall(launch.token.encode() + b"\n")
    return channel


def main() -> None:
    launch = Launch.from_argv(sys.argv)
    if launch.stdout >= 0:
        os.dup2(launch.stdout, 1)  # stdout is the trusted side's pipe from now on
        os.close(launch.stdout)
    channel = _channel(launch)
    worker = Worker(channel, launch.folder, launch.module, launch.web)
    worker.agent.install()
    _hide_runtime(launch.module)
    os.chdir(launch.folder)
    # What is alive now (aiohttp, asyncio, this worker) lives as long as the process: frozen,
    # it is left out of every collection, and the full gc.collect() after each call (which
    # surfaces the call's never-awaited coroutines) only walks what the student's code made.
    gc.freeze()
    try:
        worker.send(Ready().to_wire())
        worker.serve()
    except BaseException as exc:  # noqa: BLE001 - e.g. MemoryError: say so, for the sandbox
        os.write(2, f"\n{type(exc).__name__}\n".encode())
        os._exit(1)
    os._exit(0)  # no atexit or thread of the student's runs after the channel closes
