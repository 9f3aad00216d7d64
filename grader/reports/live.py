"""[parent] The live views on a teacher's or student's terminal while grading runs.

`grader check` shows its assignments (which test runs, how many are done);
`grader grade` shows the students in progress, the count and an estimate of
the time left. Both are redrawn in place by rich's `Live` on stderr and
cleared when grading ends, so the report that follows stays as it was. They
exist only on a terminal: the caller passes no console otherwise, and logs
get nothing extra. Every name and test id is shown through escape.terminal
and as rich `Text` (never markup), so a student's text neither acts on the
terminal nor styles the view.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from grader.i18n import _
from grader.progress import OnProgress, Progress
from grader.reports.escape import terminal

REFRESHES_PER_SECOND = 4
MOST_STUDENTS_SHOWN = 12  # more in flight are counted on one line, not listed
_NAME_WIDTH = 24


def shown(text: str, limit: int = _NAME_WIDTH) -> Text:
    """A student's (or a test's) text for the view: escaped, one line, cut to `limit`."""
    safe = terminal(text)
    if len(safe) > limit:
        safe = safe[: limit - 1] + "…"
    return Text(safe, no_wrap=True, overflow="ellipsis")


def test_name(test: str) -> str:
    """`test_x` of a test id `file.py::test_x`: what a person reads."""
    return test.rsplit("::", 1)[-1]


def duration(seconds: float) -> str:
    """`45 s`, `3 min 05 s`: an estimate a person reads at a glance."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return _("{seconds} s").format(seconds=seconds)
    return _("{minutes} min {seconds:02d} s").format(minutes=seconds // 60,
                                                      seconds=seconds % 60)


@dataclass
class _Pair:
    """One assignment being graded: the test running, and n of N done."""

    test: str = ""
    done: int = 0
    total: int = 0
    status: str = ""  # the assignment's, once it is done
    finished: bool = False


class CheckView:
    """The assignments of one `grader check`: waiting, which test is running, n/N, done."""

    def __init__(self, slugs: Sequence[str]) -> None:
        self._pairs = {slug: _Pair() for slug in slugs}
        self._started: set[str] = set()
        self._lock = threading.Lock()

    def update(self, progress: Progress) -> None:
        """Take one progress record (from any grading thread)."""
        with self._lock:
            pair = self._pairs.setdefault(progress.slug, _Pair())
            self._started.add(progress.slug)
            _apply(pair, progress)

    def __rich__(self) -> RenderableType:
        table = Table.grid(padding=(0, 2))
        with self._lock:
            for slug, pair in self._pairs.items():
                table.add_row(shown(slug), Text(self._state(slug, pair), no_wrap=True,
                                                overflow="ellipsis"))
        return Group(Text(_("Grading…")), table)

    def _state(self, slug: str, pair: _Pair) -> str:
        if pair.finished and pair.status == "missing":
            return _("not graded: the file is missing")
        if pair.finished and pair.status != "graded":
            return _("not graded: an error (the report says why)")
        if pair.finished:
            return _("done ({done}/{total} tests)").format(done=pair.done, total=pair.total)
        if slug not in self._started:
            return _("waiting")
        count = f"{pair.done}/{pair.total}"
        if pair.test:
            return _("{count} tests done, running {test}").format(
                count=count, test=terminal(test_name(pair.test)))
        return _("{count} tests done").format(count=count)


def _apply(pair: _Pair, progress: Progress) -> None:
    pair.done, pair.total = progress.done, progress.total
    if progress.kind == "test_started":
        pair.test = progress.test
    elif progress.kind == "test_finished" and pair.test == progress.test:
        pair.test = ""
    elif progress.kind == "done":
        pair.test, pair.status, pair.finished = "", progress.status, True


@dataclass
class GradeView:
    """A class being graded: students in progress, the count done, an estimate of the rest.

    The estimate is the time per finished assignment so far times the
    assignments left (those of the submissions OUT kept are not graded).
    """

    students: int  # submissions in this run
    assignments: int  # assignments each is graded on
    clock: Callable[[], float] = time.monotonic
    done: int = 0
    kept: int = 0
    pairs_done: int = 0
    began: float | None = None
    running: dict[str, dict[str, _Pair]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, progress: Progress) -> None:
        """Take one progress record (from any grading thread)."""
        with self._lock:
            if self.began is None:
                self.began = self.clock()
            pairs = self.running.setdefault(progress.student, {})
            _apply(pairs.setdefault(progress.slug, _Pair()), progress)
            if progress.kind == "done":
                self.pairs_done += 1
                del pairs[progress.slug]
                if not pairs:
                    del self.running[progress.student]

    def finished(self, *, kept: bool = False) -> None:
        """One submission's result is in (`kept`: OUT's result for the same content)."""
        with self._lock:
            self.done += 1
            self.kept += kept

    def left(self) -> float | None:
        """Seconds left, estimated; None until an assignment has finished."""
        if self.began is None or not self.pairs_done:
            return None
        total = max(self.pairs_done, (self.students - self.kept) * self.assignments)
        per_pair = (self.clock() - self.began) / self.pairs_done
        return per_pair * (total - self.pairs_done)

    def __rich__(self) -> RenderableType:
        with self._lock:
            head = _("Grading: {done}/{total} students done").format(done=self.done,
                                                                     total=self.students)
            left = self.left()
            if left is not None:
                head += " · " + _("about {time} left").format(time=duration(left))
            table = Table.grid(padding=(0, 2))
            students = sorted(self.running.items())
            for student, pairs in students[:MOST_STUDENTS_SHOWN]:
                table.add_row(shown(student), Text("  ".join(
                    _pair_text(slug, pair) for slug, pair in pairs.items()),
                    no_wrap=True, overflow="ellipsis"))
            more = len(students) - MOST_STUDENTS_SHOWN
        rows: list[RenderableType] = [Text(head), table]
        if more > 0:
            rows.append(Text(_("… and {count} more in progress").format(count=more)))
        return Group(*rows)


def _pair_text(slug: str, pair: _Pair) -> str:
    running = f" {terminal(test_name(pair.test))}" if pair.test else ""
    return f"{terminal(slug)} {pair.done}/{pair.total}{running}"


@contextlib.contextmanager
def showing(view: CheckView | GradeView, console: Console | None) -> Iterator[OnProgress | None]:
    """Show `view` live on `console` while the block runs, then clear it.

    Without a console (not a terminal) nothing is shown and no callback is given.
    """
    if console is None:
        yield None
        return
    # What else is printed meanwhile (a reporting problem) goes above the view, not through it.
    with Live(view, console=console, transient=True, refresh_per_second=REFRESHES_PER_SECOND,
              redirect_stdout=True, redirect_stderr=True):
        yield view.update


def terminal_console(is_terminal: bool) -> Console | None:
    """A console on stderr for the live view, or None when stderr is not a terminal."""
    if not is_terminal:
        return None
    return Console(file=sys.stderr, force_terminal=True, highlight=False, markup=False)
