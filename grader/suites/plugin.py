"""[test process] pytest plugin loaded into every hidden-suite run.

It gives tests the `student` fixture, reads `@pytest.mark.points(n)`, and
streams one JSON line per event to the report file as soon as it happens, so
a run killed halfway still tells the parent which tests finished and which
one was running. Messages are written for the student: never test source.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

import pytest

from grader import i18n
from grader.i18n import N_, _
from grader.results import MESSAGE_LIMIT, cap
from grader.suites.feedback import Feedback, StudentImportError, WorkerFault
from grader.suites.harness import StudentCode, StudentFailure, placed
from grader.suites.web import FakeWeb, WebServer
from grader.test_run import TestRun
from grader.worker.codec import ErrorInfo
from grader.worker_link import WorkerLink, WorkerSpec

TIMEOUT_HINT = N_(
    "look for an infinite loop, a blocking call such as time.sleep, "
    "or an await on something that never finishes"
)


def test_id(item: pytest.Item) -> str:
    """`<slug>::<name>`: the suite folder names the assignment, `test_` is dropped."""
    return f"{item.path.parent.name}::{item.name.removeprefix('test_')}"


def points_of(item: pytest.Item) -> float:
    marker = item.get_closest_marker("points")
    if marker is None or not marker.args:
        raise pytest.UsageError(f"{item.nodeid} has no @pytest.mark.points(n)")
    return float(marker.args[0])


class RunPlugin:
    """The run's description, handed to pytest as a plugin object (grader/test_process.py)."""

    def __init__(self, run: TestRun) -> None:
        self.run = run


def run_of(config: pytest.Config) -> TestRun | None:
    """The run this pytest session grades; None when it only collects (grader/runner.py)."""
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, RunPlugin):
            return plugin.run
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): points this hidden test is worth")
    run = run_of(config)
    if run is not None:  # a test process: speak the parent's choice (the student reads these)
        i18n.use(run.language)  # (the parent's own collection keeps the parent's language)
    stream = open(run.report, "a", encoding="utf-8") if run else None  # noqa: SIM115
    config.stash[_STREAM] = stream


def pytest_unconfigure(config: pytest.Config) -> None:
    stream = config.stash.get(_STREAM, None)
    if stream is not None:
        stream.close()


_STREAM = pytest.StashKey[IO[str] | None]()
_SERVER = pytest.StashKey[WebServer]()
_FLOOD_TOLD = pytest.StashKey[bool]()
_TIMELINE = pytest.StashKey[list[list[float | None]]]()


def _emit(config: pytest.Config, event: dict[str, Any]) -> None:
    """One event line; its texts capped, since they may quote the student's code at any size."""
    stream = config.stash.get(_STREAM, None)
    if stream is not None:
        capped = {k: cap(v, MESSAGE_LIMIT) if isinstance(v, str) else v for k, v in event.items()}
        stream.write(json.dumps(capped, ensure_ascii=True) + "\n")
        stream.flush()


@pytest.fixture(scope="session")
def student(pytestconfig: pytest.Config) -> Iterator[StudentCode]:
    """The student's module for this run, in a sandboxed worker, imported once.

    The trusted web server and the worker live as long as the run; the
    worker is killed, with all it started, when the run ends.
    """
    run = run_of(pytestconfig)
    if run is None:
        raise pytest.UsageError("hidden suites run through `grader`, not bare pytest")
    module = run.module
    server = WebServer(run.work / "web")
    spec = WorkerSpec(run.submission, module, server.folder, run.work / "runtime", run.lifetime)
    pytestconfig.stash[_SERVER] = server
    link = WorkerLink(spec, server.on_worker_event)
    code = StudentCode(link, server, module)
    _emit(pytestconfig, {"event": "import_start"})
    error = code.load()  # an error is kept by `code`: every test that uses it reports it
    _emit(pytestconfig, {"event": "import_done", "error": error})
    try:
        yield code
    finally:
        link.close()
        server.close()


class Timeline:
    """One call's requests a test keeps for the teacher's report: when each was sent, answered.

    The report draws them (a sequential solution shows as a staircase); they go
    out with the test's result event. The test keeps the run that matters, once.
    """

    def __init__(self, item: pytest.Item) -> None:
        self._item = item

    def keep(self, web: FakeWeb) -> None:
        self._item.stash[_TIMELINE] = web.timeline()


@pytest.fixture
def timeline(request: pytest.FixtureRequest) -> Timeline:
    """Lets a test keep the timeline of one of its calls (see Timeline)."""
    return Timeline(request.node)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _emit(item.config, {"event": "start", "test": test_id(item)})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    finished = report.when == "call" or (report.when == "setup" and not report.passed)
    if finished:
        verdict = _verdict(item, call, report)
        kept = item.stash.get(_TIMELINE, None)
        if kept is not None:
            verdict["timeline"] = kept
        _emit(item.config, {"event": "result", "test": test_id(item), **verdict})
        _tell_flood(item.config)
    return report


def _tell_flood(config: pytest.Config) -> None:
    """Once the trusted web was flooded, say so (once): the parent grades nothing of the run."""
    server = config.stash.get(_SERVER, None)
    if server is not None and server.flooded and not config.stash.get(_FLOOD_TOLD, False):
        config.stash[_FLOOD_TOLD] = True
        _emit(config, {"event": "flooded", "message": server.flooded})


def _verdict(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> dict:
    if report.passed:
        return {"status": "passed", "message": "", "hint": ""}
    if report.skipped:
        return {"status": "skipped", "message": _skip_reason(report), "hint": ""}
    exc = call.excinfo.value if call.excinfo else None
    if isinstance(exc, StudentImportError):
        return {"status": "error",
                "message": _("could not import the module: {error}").format(error=exc),
                "hint": _("run `python <file>` yourself to see the error, fix it and check "
                          "again")}
    if isinstance(exc, WorkerFault):  # the student's process broke the channel: an error
        return {"status": "error", "message": exc.message, "hint": exc.hint}
    if isinstance(exc, Feedback):
        return {"status": "failed", "message": exc.message, "hint": exc.hint}
    if isinstance(exc, StudentFailure):
        error = placed(exc.error)
        where = {"file": error.file, "line": error.line} if error.file else {}
        return {"status": "failed", **describe_student_error(error), **where}
    if _is_timeout(exc):
        return {"status": "timeout", "message": _("the test did not finish in its time limit"),
                "hint": _(TIMEOUT_HINT)}
    return {"status": "error", **describe_student_exception(exc, item)}


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) else ""


def _is_timeout(exc: BaseException | None) -> bool:
    return isinstance(exc, pytest.fail.Exception) and str(exc).startswith("Timeout")


def describe_student_exception(exc: BaseException | None, item: pytest.Item) -> dict[str, str]:
    """Message and hint for an unexpected exception in a test: a grader fault, not the student's."""
    del item
    if exc is None:
        return {"message": _("the check failed"), "hint": ""}
    return {"message": _("the grader failed on this test ({error})").format(
                error=f"{type(exc).__name__}: {str(exc)[:200]}"),
            "hint": _("tell your teacher: this is not your code's fault")}


def describe_student_error(error: ErrorInfo) -> dict[str, str]:
    """Message and hint for an exception the student's code raised during a test."""
    error = placed(error)
    suffix = f" ({error.where})" if error.where else ""
    if error.is_a("NotImplementedError"):
        return {"message": _("still raises NotImplementedError{where}").format(where=suffix),
                "hint": _("replace the stub's `raise NotImplementedError` with your code")}
    if error.is_a("SystemExit"):
        return {"message": _("your code called sys.exit({code}){where}").format(
                    code=error.code, where=suffix),
                "hint": _("return a value or raise an exception instead of exiting")}
    return {"message": _("your code raised {error}").format(error=error.summary()),
            "hint": _("reproduce the call yourself and read the traceback")}

