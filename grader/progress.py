"""[parent] What a person watching sees of a grading in progress: typed progress records.

While a test process runs, it streams its events to the run's report file
(grader/suites/plugin.py); a `Tailer` reads the new complete lines of that
file every so often and a `Tracker` turns them into `Progress` records for
one student's assignment. Progress is display only: the verdicts come from
runner.read_events after the run, never from here, and a callback that fails
or a line that cannot be read costs the display, not the grading.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

# An event line longer than this is not one the test process writes (it caps its texts):
# it is skipped unread, here and in runner.read_events, so a flood in the events file
# cannot flood the grader's memory.
MAX_LINE_BYTES = 256 * 1024
_CHUNK = 64 * 1024
_READ_BUDGET = 8 * 1024 * 1024  # bytes one poll reads at most: a flood cannot stall the tailer
POLL_SECONDS = 0.2

def event_of(line: bytes) -> dict[str, Any] | None:
    """One line of a test process's events file as an event, or None if it is not one."""
    try:
        event = json.loads(line.decode("utf-8", errors="replace"))
    except ValueError:
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


ProgressKind = Literal["started", "test_started", "test_finished", "done"]


@dataclass(frozen=True)
class Progress:
    """One step of one student's assignment: what happened, and how many tests are done."""

    student: str
    slug: str
    kind: ProgressKind
    test: str = ""  # the test that started or finished
    status: str = ""  # a finished test's status; the assignment's status when done
    done: int = 0  # tests finished so far
    total: int = 0  # tests the assignment has


OnProgress = Callable[[Progress], None]
OnEvent = Callable[[dict[str, Any]], None]


class Tracker:
    """Progress of one (student, assignment) pair, told to `on_progress` as events arrive.

    A test counts once however many results it reports, and only tests of the
    suite count, so `done` never exceeds `total` whatever the events file holds.
    """

    def __init__(self, student: str, slug: str, on_progress: OnProgress) -> None:
        self.student = student
        self.slug = slug
        self._on_progress = on_progress
        self._known: frozenset[str] = frozenset()
        self._finished: set[str] = set()
        self._total = 0
        self._lock = threading.Lock()

    def started(self, tests: list[str]) -> None:
        """The pair is being graded; `tests` are the ids of its hidden tests."""
        with self._lock:
            self._known = frozenset(tests)
            self._total = len(self._known)
        self._tell("started")

    def event(self, event: dict[str, Any]) -> None:
        """One event line of the run (a `start` or a `result` of a known test moves it on)."""
        test = event.get("test")
        if not isinstance(test, str) or test not in self._known:
            return
        if event.get("event") == "start":
            self._tell("test_started", test)
        elif event.get("event") == "result":
            with self._lock:
                self._finished.add(test)
            status = event.get("status")
            self._tell("test_finished", test, status if isinstance(status, str) else "error")

    def finished(self, status: str) -> None:
        """The pair's result is in; `status` is the assignment's (graded, missing, error)."""
        self._tell("done", status=status)

    def _tell(self, kind: ProgressKind, test: str = "", status: str = "") -> None:
        with self._lock:
            record = Progress(self.student, self.slug, kind, test, status[:20],
                              len(self._finished), self._total)
        try:
            self._on_progress(record)
        except Exception:  # noqa: BLE001, S110 - a broken display must not cost a grade
            pass


class Tailer:
    """A thread reading the new complete JSON lines of a growing file, every `interval` s.

    Used as a context manager around the run: on exit it reads what is left
    once more, then stops. Partial lines wait for their end; an over-long line
    is skipped whole; a line that is not a JSON object with an `event` is ignored.
    """

    def __init__(self, path: Path, on_event: OnEvent, interval: float = POLL_SECONDS) -> None:
        self.path = path
        self._on_event = on_event
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="grader-tail", daemon=True)
        self._stream: IO[bytes] | None = None
        self._pending = b""
        self._skipping = False  # inside an over-long line: drop up to its end

    def __enter__(self) -> Tailer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Read what is left, then end the thread (waits for it)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                self._poll()
            self._poll()
        except Exception:  # noqa: BLE001, S110 - progress is display: a failure only stops it
            pass
        finally:
            if self._stream is not None:
                self._stream.close()

    def _poll(self) -> None:
        if self._stream is None:
            try:
                self._stream = self.path.open("rb")
            except OSError:
                return  # not written yet
        budget = _READ_BUDGET
        while budget > 0 and (chunk := self._stream.read(_CHUNK)):
            budget -= len(chunk)
            self._take(chunk)

    def _take(self, chunk: bytes) -> None:
        lines = (self._pending + chunk).split(b"\n")
        self._pending = lines.pop()  # no end yet
        for line in lines:
            if self._skipping:
                self._skipping = False  # the end of the over-long line: the next one counts
            elif len(line) <= MAX_LINE_BYTES:
                self._emit(line)
        if len(self._pending) > MAX_LINE_BYTES:
            self._pending = b""
            self._skipping = True

    def _emit(self, line: bytes) -> None:
        event = event_of(line)
        if event is not None:
            self._on_event(event)
