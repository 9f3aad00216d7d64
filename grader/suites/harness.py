"""The narrow layer between hidden tests and student code.

A test gets a `StudentCode` from the `student` fixture, looks functions up with
`student.function(...)` and runs coroutines with `student.run(...)`, which
returns a plain `Run` record: the value or exception, what was printed, and
the async diagnostics (blocking calls, coroutines never awaited, tasks left
pending, sessions left open). Tests assert on that record only.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import inspect
import io
import socket
import sys
import time
import traceback
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
from _pytest.outcomes import OutcomeException

from grader.suites.feedback import Feedback, StudentImportError

OUTPUT_CAP = 64 * 1024  # characters of student output kept per run


class CappedText(io.TextIOBase):
    """A stdout stand-in that keeps the first OUTPUT_CAP characters and drops the rest."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self.truncated = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = OUTPUT_CAP - self._size
        if len(text) > room:
            self.truncated = True
            text = text[: max(room, 0)]
        self._parts.append(text)
        self._size += len(text)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self._parts)


@dataclass
class Run:
    """What happened when a coroutine of the student's ran to completion (or not)."""

    value: Any = None
    error: BaseException | None = None
    stdout: str = ""
    elapsed: float = 0.0
    timed_out: bool = False
    blocking: list[str] = field(default_factory=list)
    unawaited: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    unclosed_sessions: int = 0

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.strip()]

    def value_or_raise(self) -> Any:
        """The returned value; a student exception is re-raised for the plugin to explain."""
        if self.timed_out:
            raise Feedback(
                f"the call did not finish within {self.elapsed:.0f} s",
                "it to finish quickly (every HTTP answer here comes at once)",
                "look for a loop that never ends or an await on something that never happens",
            )
        if self.error is not None:
            raise self.error
        return self.value


class _Watch:
    """Patches that observe the student's code while one run is in progress."""

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder)
        self.blocking: list[str] = []
        self.sessions: list[aiohttp.ClientSession] = []

    def _in_loop(self) -> bool:
        return asyncio._get_running_loop() is not None

    def _note_block(self, what: str) -> None:
        if self._in_loop() and what not in self.blocking:
            self.blocking.append(what)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        real_sleep = time.sleep
        real_connect = socket.socket.connect
        real_session_init = aiohttp.ClientSession.__init__
        watch = self

        def sleep(seconds: float) -> None:
            watch._note_block(f"time.sleep({seconds})")
            real_sleep(seconds)

        def connect(sock: socket.socket, address: Any) -> Any:
            if sock.gettimeout() != 0.0:
                watch._note_block("a blocking network call (requests/urllib/socket)")
            return real_connect(sock, address)

        def session_init(session: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> None:
            real_session_init(session, *args, **kwargs)
            watch.sessions.append(session)

        time.sleep = sleep
        socket.socket.connect = connect  # type: ignore[method-assign]
        aiohttp.ClientSession.__init__ = session_init  # type: ignore[method-assign]
        try:
            yield
        finally:
            time.sleep = real_sleep
            socket.socket.connect = real_connect  # type: ignore[method-assign]
            aiohttp.ClientSession.__init__ = real_session_init  # type: ignore[method-assign]

    def is_student_task(self, task: asyncio.Task[Any]) -> bool:
        code = getattr(task.get_coro(), "cr_code", None)
        return code is not None and code.co_filename.startswith(self.folder)


class StudentCode:
    """The student's module for one assignment, imported once per test process."""

    def __init__(self, folder: Path, module: str) -> None:
        self.folder = folder.resolve()
        self.module_name = module
        self.file = f"{module}.py"
        self._module: ModuleType | None = None
        self._import_error: StudentImportError | None = None

    @property
    def module(self) -> ModuleType:
        if self._import_error is not None:
            raise self._import_error
        if self._module is None:
            self._module = self._import()
        return self._module

    def load(self) -> str:
        """Import now; return why it failed, or '' when it worked."""
        try:
            self.module  # noqa: B018 - the property imports
        except StudentImportError as exc:
            return str(exc)
        return ""

    def _import(self) -> ModuleType:
        if not (self.folder / self.file).is_file():
            self._import_error = StudentImportError(f"{self.file} is missing")
            raise self._import_error
        if str(self.folder) not in sys.path:
            sys.path.insert(0, str(self.folder))
        sink = CappedText()
        try:
            with contextlib.redirect_stdout(sink), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return importlib.import_module(self.module_name)
        except BaseException as exc:  # noqa: BLE001 - sys.exit and friends are student errors too
            _reraise_ours(exc)
            self._import_error = StudentImportError(describe_import_error(exc, self.folder))
            raise self._import_error from None

    def function(self, name: str, *, is_async: bool | None = None) -> Callable[..., Any]:
        """The module's callable `name`; a missing or wrong kind of object is feedback."""
        obj = getattr(self.module, name, None)
        expect_callable(obj, name, self.file)
        if is_async is True and not inspect.iscoroutinefunction(obj):
            raise Feedback(
                f"{self.file}: {name} is a plain function, not a coroutine function",
                f"`async def {name}(...)`",
                "declare it with `async def` so that calling it returns a coroutine to await",
            )
        return obj  # type: ignore[return-value]

    def value(self, name: str) -> Any:
        """A module-level constant such as URL; missing is feedback."""
        if not hasattr(self.module, name):
            raise Feedback(
                f"{self.file} has no module-level name {name}",
                f"{name} defined at the top of {self.file}",
                "keep the names the stub defines",
            )
        return getattr(self.module, name)

    def run(
        self, make: Callable[[], Awaitable[Any]], *, timeout: float = 10.0
    ) -> Run:
        """Run `make()` in a fresh event loop, watching what the student's code does."""
        watch = _Watch(self.folder)
        sink = CappedText()
        result = Run()
        _unbind_loop_primitives(self.module)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with watch.active(), contextlib.redirect_stdout(sink):
                started = time.perf_counter()
                try:
                    asyncio.run(self._supervise(make, watch, result, timeout))
                except BaseException as exc:  # noqa: BLE001 - reported, not raised here
                    _reraise_ours(exc)
                    result.error = result.error or exc
                result.elapsed = time.perf_counter() - started
            gc.collect()
        result.stdout = sink.getvalue()
        result.blocking = watch.blocking
        result.unawaited = _never_awaited(caught)
        result.unclosed_sessions = sum(1 for s in watch.sessions if not s.closed)
        return result

    async def _supervise(
        self, make: Callable[[], Awaitable[Any]], watch: _Watch, result: Run, timeout: float
    ) -> None:
        deadline = asyncio.timeout(timeout)
        try:
            async with deadline:
                result.value = await make()
        except Exception as exc:  # noqa: BLE001 - the student's exception is data here
            if isinstance(exc, TimeoutError) and deadline.expired():
                result.timed_out = True
            else:
                result.error = exc
        me = asyncio.current_task()
        result.pending = sorted(
            task.get_coro().__qualname__
            for task in asyncio.all_tasks()
            if task is not me and not task.done() and watch.is_student_task(task)
        )


def _unbind_loop_primitives(module: ModuleType) -> None:
    """Let module-level asyncio primitives (a Semaphore, a Lock) serve the next run's loop.

    A student's program calls asyncio.run once; grading runs many fresh loops in
    one process, and a Semaphore bound to the first would fail in the second
    ("is bound to a different event loop"): an artefact of grading, not a flaw.
    """
    for value in vars(module).values():
        if isinstance(value, asyncio.mixins._LoopBoundMixin) and not getattr(
            value, "_waiters", None
        ):
            value._loop = None


def _reraise_ours(exc: BaseException) -> None:
    """Let the test framework's own signals (Ctrl-C, pytest-timeout's failure) through."""
    if isinstance(exc, KeyboardInterrupt | OutcomeException):
        raise exc


def _never_awaited(caught: list[warnings.WarningMessage]) -> list[str]:
    names = []
    for warning in caught:
        text = str(warning.message)
        if issubclass(warning.category, RuntimeWarning) and "was never awaited" in text:
            names.append(text.split("'")[1] if "'" in text else text)
    return sorted(set(names))


def expect_callable(obj: object, name: str, file: str) -> None:
    if obj is None:
        raise Feedback(
            f"{file} has no function {name}",
            f"a function named {name}",
            "keep the names and signatures of the stub",
        )
    if not callable(obj):
        raise Feedback(
            f"{file}: {name} is a {type(obj).__name__}, not a function",
            f"a function named {name}",
            "keep the names and signatures of the stub",
        )


def student_location(exc: BaseException, folder: Path) -> str:
    """`file.py, line N` of the deepest frame inside the student's folder, or ''."""
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(str(folder)):
            where = f"{Path(frame.filename).name}, line {frame.lineno}"
    return where


def describe_import_error(exc: BaseException, folder: Path) -> str:
    """One sentence naming why importing the student's module failed."""
    if isinstance(exc, SyntaxError) and ("unicode error" in str(exc.msg)
                                         or "Non-UTF-8" in str(exc.msg)):
        return (f"{Path(exc.filename or '').name} is not saved as UTF-8 (line {exc.lineno}): "
                "save it as UTF-8 in your editor")
    if isinstance(exc, SyntaxError):
        return f"syntax error in {Path(exc.filename or '').name}, line {exc.lineno}: {exc.msg}"
    if isinstance(exc, SystemExit):
        return f"the module called sys.exit({exc.code!r}) while being imported"
    if isinstance(exc, ModuleNotFoundError) and exc.name in {"requests", "httpx"}:
        return (
            f"it imports {exc.name}, which is not available while grading: "
            "use aiohttp, which does not block the event loop"
        )
    where = student_location(exc, folder)
    suffix = f" ({where})" if where else ""
    return f"importing it raised {type(exc).__name__}: {exc}{suffix}"
