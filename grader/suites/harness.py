"""[test process] The narrow layer between hidden tests and student code, which runs elsewhere.

Hidden tests never import student code. A test gets a `StudentCode` from the
`student` fixture and asks it things; each question travels to the sandboxed
worker process (grader/worker) and comes back as plain data:

- `student.function(name)` / `student.value(name)`: what the module defines;
- `student.call(name, *args, web=FakeWeb(...))`: call and await a function,
  with its HTTP served by the trusted `web`; returns a `Run`;
- `student.decorate(decorator, target)`: wrap a grader target (a
  TargetSpec) with the student's decorator; `student.call(decorated.handle,
  ...)` then calls it.

Requests and replies are the records of grader/worker/protocol.py; a reply
that does not fit its record is the worker's fault (WorkerFault), never the
grader's.

What a test knows about HTTP comes from the FakeWeb (trusted, on the wire);
what the code returned, raised and printed comes from the worker, which can
only lie about its own behaviour.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from grader.i18n import _
from grader.results import MESSAGE_LIMIT, cap, location_of
from grader.suites.checks import located
from grader.suites.feedback import Feedback, StudentImportError, WorkerFault
from grader.suites.web import FakeWeb, WebServer
from grader.worker.codec import ErrorInfo
from grader.worker.protocol import (
    IMPORT_FAILURES,
    CallReply,
    CallRequest,
    DecorateReply,
    DecorateRequest,
    ImportRequest,
    InspectReply,
    InspectRequest,
    Invocation,
    ProtocolError,
    Request,
    TargetSpec,
    WorkerError,
)
from grader.worker_link import WorkerGone, WorkerLink

IMPORT_TIMEOUT = 10.0  # seconds for the student's module to import
R = TypeVar("R")


def _read(request: Request[R], reply: dict[str, Any]) -> R:
    """The reply as its record; one that does not fit, or the worker's own error, is its fault.

    The worker's process is the student's, so is a failure it reports.
    """
    try:
        return request.read_reply(reply)
    except WorkerError as report:
        raise WorkerFault(_("an error report of its own ({report})").format(
            report=report.text[:200])) from None
    except ProtocolError as wrong:
        raise WorkerFault(str(wrong)) from None


@dataclass
class PlacedError(ErrorInfo):
    """An exception of the student's as feedback shows it: `where` in the student's language.

    The worker sends its place as `"req.py, line 27"` (it cannot translate);
    `file` and `line` keep that place as data for the results.
    """

    file: str = ""
    line: int = 0


def placed(error: ErrorInfo) -> PlacedError:
    """`error` with its place worded for the student (see PlacedError); idempotent."""
    if isinstance(error, PlacedError):
        return error
    file, line = location_of(error.where)
    kept = {f.name: getattr(error, f.name) for f in fields(ErrorInfo)}
    return PlacedError(**{**kept, "where": located(error.where)}, file=file, line=line)


_FIELDS = {"file": r"(?P<file>[^\n]*?)", "line": r"(?P<line>\d+)", "name": r"(?P<name>[\w.]+)",
           "text": r"(?P<text>.*?)", "where": r"(?: \((?P<where>[^()\n]*, line \d+)\))?"}


@functools.cache
def _import_failures() -> list[tuple[str, re.Pattern[str]]]:
    """Each of the worker's import sentences, and a pattern that reads its values back."""
    patterns = []
    for template in IMPORT_FAILURES.values():
        parts = re.split(r"\{(\w+)\}", template)  # literal, name, literal, name, ...
        regex = "".join(_FIELDS[part] if n % 2 else re.escape(part) for n, part in enumerate(parts))
        patterns.append((template, re.compile(regex, re.DOTALL)))
    return patterns


def import_words(error: str) -> str:
    """The worker's reason an import failed, in the student's language (else as it came).

    The sandboxed worker cannot translate: its English sentence is one of
    IMPORT_FAILURES, whose values are read back and worded here.
    """
    for template, pattern in _import_failures():
        match = pattern.fullmatch(error)
        if match:
            values = match.groupdict(default="")
            where = values.pop("where", "")
            return _(template).format(**values, where=f" ({located(where)})" if where else "")
    return error


class StudentFailure(Exception):
    """The student's code raised `error`; the plugin turns it into words."""

    def __init__(self, error: ErrorInfo) -> None:
        super().__init__(f"{error.type}: {error.message}")
        self.error = error


@dataclass
class Reported:
    """What the worker says the student's code did. Wording for feedback, never a verdict.

    The worker shares a process with the student's code, which can rewrite
    any of this; a test may use it to explain a failure it found by trusted
    means, never to pass or fail anything (grading policy, section 1).
    """

    blocking: list[str] = field(default_factory=list)  # time.sleep, requests... in the loop
    unawaited: list[str] = field(default_factory=list)  # coroutines never awaited
    pending: list[str] = field(default_factory=list)  # student tasks still running at return
    unclosed_sessions: int = 0
    coroutines: list[str] = field(default_factory=list)  # coroutines returned un-awaited
    calls: list[tuple[list[Any], dict[str, Any]]] = field(default_factory=list)  # a target's


@dataclass
class Run:
    """What trusted code saw of one call of the student's code.

    `value` and `error` came back through the codec (check them against
    values the test chose); `stdout` is what reached the trusted end of the
    worker's real stdout during the call; `seconds` and `open_connections`
    were measured here. `reported` is the worker's word, for wording only.
    """

    value: Any = None
    error: ErrorInfo | None = None
    stdout: str = ""
    seconds: float = 0.0  # trusted: from sending the call to its reply
    open_connections: int = 0  # trusted: connections to the web still open at the reply
    timed_out: bool = False
    crashed: str = ""  # the worker process died during the call: how
    reported: Reported = field(default_factory=Reported)

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.strip()]

    @property
    def failed(self) -> bool:
        return self.error is not None or self.timed_out or bool(self.crashed)

    def value_or_raise(self) -> Any:
        """The returned value; otherwise the reason it has none, for the plugin to explain."""
        if self.crashed:
            raise Feedback(_("the call did not return: {reason}").format(reason=self.crashed),
                           _("the call to return a value or raise an exception"),
                           _("do not exit the process (os._exit, sys.exit in a thread) or "
                             "use up its memory or process limits"))
        if self.timed_out:
            raise Feedback(
                _("the call did not finish within {seconds:.0f} s").format(seconds=self.seconds),
                _("it to finish quickly (every HTTP answer here comes at once)"),
                _("look for a loop that never ends, a blocking call such as time.sleep, "
                  "or an await on something that never happens"),
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
    """What the student's decorator returned for a grader target, as the worker inspected it.

    Introspection (kind, iscoroutinefunction, metadata) is the worker's word:
    a test scores it only together with a trusted observation of a call.
    """

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
    raw: str = ""  # a handle to the undecorated target (see StudentCode.plain)


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
        request = ImportRequest()
        try:
            wire = self.link.request(request, IMPORT_TIMEOUT)
        except WorkerGone as gone:
            message = (_("importing {file} never finished within {seconds:.0f} s: code at "
                         "module level runs forever or blocks (an infinite loop, input(), "
                         "time.sleep...). Put such code under "
                         "`if __name__ == \"__main__\":`").format(file=self.file,
                                                                   seconds=IMPORT_TIMEOUT)
                       if gone.timed_out else _("importing {file} failed: {reason}").format(
                           file=self.file, reason=gone))
            self._import_error = StudentImportError(message)
            raise self._import_error from None
        try:
            reply = _read(request, wire)
        except WorkerFault as fault:  # the import's verdict: every test of the module has it
            self._import_error = StudentImportError(
                cap(_("importing {file} failed: {reason}").format(
                    file=self.file, reason=fault.observed), MESSAGE_LIMIT))
            raise self._import_error from None
        if reply.error:
            # capped here, where it enters: every test of the module repeats it
            self._import_error = StudentImportError(cap(import_words(reply.error), MESSAGE_LIMIT))
            raise self._import_error
        self._imported_by = self.link.starts

    def _ask(self, request: Request[R], timeout: float = 10.0) -> R:
        """One question about the module; a worker that dies of an earlier call gets one retry."""
        for attempt in (1, 2):
            self._ensure()
            try:
                wire = self.link.request(request, timeout)
                break
            except WorkerGone as gone:
                if gone.timed_out or attempt == 2:
                    raise Feedback(
                        _("the grader could not ask about your module: {reason}").format(
                            reason=gone),
                        _("the module to stay importable and quick to answer"),
                        _("do not exit the process or start work at import")) from None
        return _read(request, wire)

    # ------------------------------------------------------------ what the module has

    def function(self, name: str, *, is_async: bool | None = None) -> Function:
        """The module's callable `name`; a missing or wrong kind of object is feedback."""
        return self._function(name, self._ask(InspectRequest(name)), is_async)

    def _function(self, name: str, info: InspectReply, is_async: bool | None) -> Function:
        if not info.exists:
            raise Feedback(_("{file} has no function {name}").format(file=self.file, name=name),
                           _("a function named {name}").format(name=name),
                           _("keep the names and signatures of the stub"))
        if not info.callable:
            raise Feedback(_("{file}: {name} is a {type}, not a function").format(
                               file=self.file, name=name, type=info.type),
                           _("a function named {name}").format(name=name),
                           _("keep the names and signatures of the stub"))
        if is_async is True and not info.coroutine_function:
            raise Feedback(
                _("{file}: {name} is a plain function, not a coroutine function").format(
                    file=self.file, name=name),
                f"`async def {name}(...)`",
                _("declare it with `async def` so that calling it returns a coroutine to await"),
            )
        return Function(name, info.coroutine_function, info.is_function, info.async_call,
                        info.type)

    def value(self, name: str) -> Any:
        """A module-level constant such as URL; missing is feedback."""
        info = self._ask(InspectRequest(name))
        if not info.exists:
            raise Feedback(
                _("{file} has no module-level name {name}").format(file=self.file, name=name),
                _("{name} defined at the top of {file}").format(name=name, file=self.file),
                _("keep the names the stub defines"),
            )
        return info.value

    def decorate(self, decorator: str, target: TargetSpec) -> Decorated:
        """`decorator(target)` in the worker; a decorator that raises is the student's error."""
        self.function(decorator)
        info = self._ask(DecorateRequest(decorator, target))
        return _decorated(info)

    def plain(self, target: TargetSpec, decorator: str = "async_timeit") -> str:
        """A handle to the very function the student's decorator was given, undecorated.

        A control: calling it runs no code of the decorator's, so whatever it
        prints came from elsewhere (a patch of the grader's own code).
        """
        self.function(decorator)
        return self._ask(DecorateRequest(decorator, target)).raw

    # ------------------------------------------------------------ running it

    def call(self, name: str, *args: Any, web: FakeWeb | None = None, timeout: float = 10.0,
             label: str | None = None, drain: float = 0.0,
             together: list[tuple[Any, ...]] | None = None,
             **kwargs: Any) -> Run:
        """Call `name(*args, **kwargs)` (or each of `together`, gathered) and await it.

        Each entry of `together` is `(args, kwargs)` or `(args, kwargs, after)`:
        that call starts `after` seconds into the gather (staggered starts).

        `web` serves its HTTP (a FakeWeb answering 404 to everything if none);
        `label` names the function whose first argument labels requests
        (long_func -> i), which only picks each request's answer; `drain` is
        how long tasks left running after the call may finish.
        """
        self._ensure()
        calls = [Invocation(list(args), kwargs)] if together is None else \
            [Invocation(list(call[0]), call[1], float(call[2]) if len(call) > 2 else 0.0)
             for call in together]
        request = CallRequest(name, calls, together is not None, timeout, label, drain)
        fake = web if web is not None else FakeWeb()
        output = self.link.output
        assert output is not None  # _ensure started a worker
        fake.output_base = output.start_call()
        fake.output_mark = output.mark
        self.server.current = fake
        started = fake.started_at = time.perf_counter()
        try:
            wire = self.link.request(request, timeout + drain)
        except WorkerGone as gone:
            _not_flooded(fake)
            return Run(timed_out=gone.timed_out, crashed="" if gone.timed_out else str(gone),
                       seconds=time.perf_counter() - started,
                       stdout=_text(output.since(fake.output_base)),
                       reported=Reported(blocking=list(self.link.notes)))
        finally:
            seconds = time.perf_counter() - started
            self.server.current = None
        _not_flooded(fake)
        return _run_of(_read(request, wire), stdout=_text(output.since(fake.output_base)),
                       seconds=seconds, open_connections=self.server.open_connections(fake))


def _not_flooded(fake: FakeWeb) -> None:
    """A call whose web refused or cut connections is not judged: the test fails, saying so."""
    if fake.flooded:
        raise Feedback(_("during the call, {what}").format(what=fake.flooded),
                       _("at most one connection per request, each sending its request at once"),
                       _("do not open connections you do not use or leave requests unfinished"))


def _decorated(info: DecorateReply) -> Decorated:
    """A decorator that raised is the student's error; one that returned, what it made."""
    if info.error is not None:
        raise StudentFailure(placed(info.error))
    made = info.made
    if made is None:
        raise WorkerFault(_("a reply to a decoration with neither what it made nor an error"))
    return Decorated(info.handle, made.kind, made.type, made.coroutine_function, made.is_function,
                     made.async_call, made.name, made.qualname, made.doc,
                     made.wrapped_is_target, made.value, info.raw)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _run_of(reply: CallReply, *, stdout: str, seconds: float,
            open_connections: int) -> Run:
    return Run(
        value=reply.value,
        error=placed(reply.error) if reply.error is not None else None,
        stdout=stdout,
        seconds=seconds,
        open_connections=open_connections,
        timed_out=reply.timed_out,
        reported=Reported(
            blocking=list(reply.blocking),
            unawaited=list(reply.unawaited),
            pending=list(reply.pending),
            unclosed_sessions=reply.unclosed_sessions,
            coroutines=list(reply.coroutines),
            calls=[(c.args, c.kwargs) for c in reply.target or []],
        ),
    )
