"""The narrow layer between hidden tests and student code, which runs elsewhere.

Hidden tests never import student code. A test gets a `StudentCode` from the
`student` fixture and asks it things; each question travels to the sandboxed
worker process (grader/worker) and comes back as plain data:

- `student.function(name)` / `student.value(name)`: what the module defines;
- `student.call(name, *args, web=FakeWeb(...))`: call and await a function,
  with its HTTP served by the trusted `web`; returns a `Run`;
- `student.decorate(decorator, target)`: wrap a grader target with the
  student's decorator; `student.call(decorated.handle, ...)` then calls it.

What a test knows about HTTP comes from the FakeWeb (trusted, on the wire);
what the code returned, raised and printed comes from the worker, which can
only lie about its own behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.suites.feedback import Feedback, StudentImportError
from grader.suites.web import FakeWeb, WebServer
from grader.worker.codec import ErrorInfo, decode, encode
from grader.worker_link import WorkerGone, WorkerLink

IMPORT_TIMEOUT = 10.0  # seconds for the student's module to import


class StudentFailure(Exception):
    """The student's code raised `error`; the plugin turns it into words."""

    def __init__(self, error: ErrorInfo) -> None:
        super().__init__(f"{error.type}: {error.message}")
        self.error = error


@dataclass
class Run:
    """What happened when a call of the student's code ran to completion (or not)."""

    value: Any = None
    error: ErrorInfo | None = None
    stdout: str = ""
    pieces: list[tuple[int | None, str]] = field(default_factory=list)  # (label, text)
    elapsed: float = 0.0  # the whole run, event loop included
    call_seconds: float = 0.0  # the awaited call alone
    timed_out: bool = False
    crashed: str = ""  # the worker process died during the call: how
    blocking: list[str] = field(default_factory=list)
    unawaited: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # student tasks still running at return
    unclosed_sessions: int = 0
    received_at_return: int = 0  # answers the student had received when the call returned
    coroutines: list[str] = field(default_factory=list)  # coroutines returned un-awaited
    target: dict[str, Any] = field(default_factory=dict)  # what a grader target saw

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.strip()]

    def lines_of(self, label: int) -> list[str]:
        """Output lines written from inside the call labelled `label` (long_func(i))."""
        text = "".join(t for who, t in self.pieces if who == label)
        return [line.strip() for line in text.splitlines()]

    @property
    def failed(self) -> bool:
        return self.error is not None or self.timed_out or bool(self.crashed)

    def value_or_raise(self) -> Any:
        """The returned value; otherwise the reason it has none, for the plugin to explain."""
        if self.crashed:
            raise Feedback(f"the call did not return: {self.crashed}",
                           "the call to return a value or raise an exception",
                           "do not exit the process (os._exit, sys.exit in a thread) or "
                           "use up its memory or process limits")
        if self.timed_out:
            raise Feedback(
                f"the call did not finish within {self.elapsed:.0f} s",
                "it to finish quickly (every HTTP answer here comes at once)",
                "look for a loop that never ends, a blocking call such as time.sleep, "
                "or an await on something that never happens",
            )
        if self.error is not None:
            raise StudentFailure(self.error)
        return self.value


@dataclass
class Function:
    """What the module's callable NAME is, as the worker saw it."""

    name: str
    coroutine_function: bool
    is_function: bool
    async_call: bool
    type: str


@dataclass
class Decorated:
    """What the student's decorator returned for a grader target."""

    handle: str  # pass to student.call
    kind: str  # "coroutine", "callable" or "other"
    type: str
    coroutine_function: bool
    is_function: bool
    async_call: bool
    name: str | None
    qualname: str | None
    doc: str | None
    wrapped_is_target: bool
    value: Any = None  # what it was, when not callable


class StudentCode:
    """The student's module for one assignment, reached through the worker."""

    def __init__(self, link: WorkerLink, server: WebServer, module: str) -> None:
        self.link = link
        self.server = server
        self.module_name = module
        self.file = f"{module}.py"
        self._import_error: StudentImportError | None = None
        self._imported_by = -1  # link.starts when the module was last imported

    # ------------------------------------------------------------ import

    def load(self) -> str:
        """Import now; return why it failed, or '' when it worked."""
        try:
            self._ensure()
        except StudentImportError as exc:
            return str(exc)
        return ""

    def _ensure(self) -> None:
        """Have a worker with the module imported (again, after a worker died)."""
        if self._import_error is not None:
            raise self._import_error
        if self._imported_by == self.link.starts and self.link.alive:
            return
        try:
            reply = self.link.request({"op": "import"}, IMPORT_TIMEOUT)
        except WorkerGone as gone:
            message = (f"importing {self.file} never finished within {IMPORT_TIMEOUT:.0f} s: "
                       "code at module level runs forever or blocks (an infinite loop, input(),"
                       " time.sleep...). Put such code under `if __name__ == \"__main__\":`"
                       if gone.timed_out else f"importing {self.file} failed: {gone}")
            self._import_error = StudentImportError(message)
            raise self._import_error from None
        if reply.get("error"):
            self._import_error = StudentImportError(str(reply["error"]))
            raise self._import_error
        self._imported_by = self.link.starts

    def _ask(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """One question about the module; a worker that dies of an earlier call gets one retry."""
        for attempt in (1, 2):
            self._ensure()
            try:
                reply = self.link.request(message, timeout)
                break
            except WorkerGone as gone:
                if gone.timed_out or attempt == 2:
                    raise Feedback(f"the grader could not ask about your module: {gone}",
                                   "the module to stay importable and quick to answer",
                                   "do not exit the process or start work at import") from None
        if "internal" in reply:
            raise RuntimeError(f"worker: {reply['internal']}")
        return reply

    # ------------------------------------------------------------ what the module has

    def function(self, name: str, *, is_async: bool | None = None) -> Function:
        """The module's callable `name`; a missing or wrong kind of object is feedback."""
        info = self._ask({"op": "inspect", "name": name})
        if not info.get("exists"):
            raise Feedback(f"{self.file} has no function {name}", f"a function named {name}",
                           "keep the names and signatures of the stub")
        if not info.get("callable"):
            raise Feedback(f"{self.file}: {name} is a {info.get('type')}, not a function",
                           f"a function named {name}", "keep the names and signatures of the stub")
        if is_async is True and not info.get("coroutine_function"):
            raise Feedback(
                f"{self.file}: {name} is a plain function, not a coroutine function",
                f"`async def {name}(...)`",
                "declare it with `async def` so that calling it returns a coroutine to await",
            )
        return Function(name, bool(info.get("coroutine_function")),
                        bool(info.get("is_function")), bool(info.get("async_call")),
                        str(info.get("type", "")))

    def value(self, name: str) -> Any:
        """A module-level constant such as URL; missing is feedback."""
        info = self._ask({"op": "inspect", "name": name})
        if not info.get("exists"):
            raise Feedback(
                f"{self.file} has no module-level name {name}",
                f"{name} defined at the top of {self.file}",
                "keep the names the stub defines",
            )
        return decode(info.get("value"))

    def decorate(self, decorator: str, target: dict[str, Any]) -> Decorated:
        """`decorator(target)` in the worker; a decorator that raises is the student's error."""
        self.function(decorator)
        info = self._ask({"op": "decorate", "decorator": decorator, "target": target})
        if "error" in info:
            raise StudentFailure(ErrorInfo.from_json(info["error"]))
        return Decorated(info["handle"], info["kind"], info["type"],
                         bool(info["coroutine_function"]), bool(info["is_function"]),
                         bool(info["async_call"]), info.get("name"), info.get("qualname"),
                         info.get("doc"), bool(info.get("wrapped_is_target")),
                         decode(info.get("repr")))

    # ------------------------------------------------------------ running it

    def call(self, name: str, *args: Any, web: FakeWeb | None = None, timeout: float = 10.0,
             label: str | None = None, drain: float = 0.0,
             together: list[tuple[tuple[Any, ...], dict[str, Any]]] | None = None,
             **kwargs: Any) -> Run:
        """Call `name(*args, **kwargs)` (or each of `together`, gathered) and await it.

        `web` serves its HTTP (a FakeWeb answering 404 to everything if none);
        `label` names the function whose first argument labels requests and
        printed text (long_func -> i); `drain` is how long tasks left running
        after the call may finish.
        """
        self._ensure()
        message = {"op": "call", "function": name, "args": encode(list(args)),
                   "kwargs": encode(kwargs), "timeout": timeout, "label": label,
                   "drain": drain}
        if together is not None:
            message["together"] = [[encode(list(a)), encode(k)] for a, k in together]
        self.server.current = web if web is not None else FakeWeb()
        try:
            reply = self.link.request(message, timeout + drain)
        except WorkerGone as gone:
            return Run(timed_out=gone.timed_out, crashed="" if gone.timed_out else str(gone),
                       elapsed=timeout, blocking=list(self.link.notes))
        finally:
            self.server.current = None
        if "internal" in reply:
            raise RuntimeError(f"worker: {reply['internal']}")
        return _run_of(reply)


def _run_of(reply: dict[str, Any]) -> Run:
    error = reply.get("error")
    return Run(
        value=decode(reply.get("value")),
        error=ErrorInfo.from_json(error) if error else None,
        stdout=str(reply.get("stdout", "")),
        pieces=[(who, str(text)) for who, text in reply.get("pieces", [])],
        elapsed=float(reply.get("elapsed", 0.0)),
        call_seconds=float(reply.get("call_seconds", 0.0)),
        timed_out=bool(reply.get("timed_out")),
        blocking=list(reply.get("blocking", [])),
        unawaited=list(reply.get("unawaited", [])),
        pending=list(reply.get("pending", [])),
        unclosed_sessions=int(reply.get("unclosed_sessions", 0)),
        received_at_return=int(reply.get("received_at_return", 0)),
        coroutines=list(reply.get("coroutines", [])),
        target=dict(reply.get("target") or {}),
    )
