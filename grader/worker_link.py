"""[test process] The trusted end of the worker: start it in the sandbox, ask it things, kill it.

The hidden tests run in a process that never imports student code. Each
test asks `WorkerLink.request(...)` for one operation (a request record of
grader/worker/protocol.py: import, inspect, decorate, call); the worker
(grader/worker/main.py) runs it in the sandbox and answers one JSON line. A
worker that dies or stops answering in time is killed with everything it
started, and the next request starts a fresh one.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import sandbox, worker_channel
from grader.i18n import _
from grader.worker.codec import dumps
from grader.worker.protocol import (
    Answer,
    Blocking,
    CallRequest,
    Launch,
    Notice,
    ProtocolError,
    Ready,
    Request,
    read_message,
)
from grader.worker_reply import LineReader, ReplyRefused, parse

WORKER_PACKAGE = Path(__file__).resolve().parent / "worker"
RUNTIME_PACKAGE = "_launcher"  # the worker's code as the sandbox sees it: a name that tells nothing
OUTPUT_CAP = 64 * 1024  # bytes of the worker's stdout kept per call; the rest is counted only
REPLY_GRACE = 2.0  # seconds past a call's own timeout (which the worker keeps) before a kill
START_SECONDS = 30.0  # for the worker to start and import aiohttp on a loaded machine
_POLL_SECONDS = 0.05  # how often the `process` level looks at the worker's stdout pipe


class OutputLog:
    """The worker's real stdout, read by the trusted side: every byte counted, some kept.

    The worker's file descriptor 1 is the write end of a pipe whose read end
    only this process holds, so what arrives here is what the student's code
    wrote, in order. `mark()` reads everything already written and returns
    the count of bytes so far: a write that finished before the worker sent
    a request or a reply is always counted before that request or reply is
    handled, which is how printed text is placed relative to answers.
    """

    def __init__(self, fd: int, polled: bool = False) -> None:
        self.fd = fd
        self.polled = polled  # no select on pipes (the `process` level): a look every 50 ms
        if sys.platform != "win32":
            os.set_blocking(fd, False)  # Windows: PeekNamedPipe says what can be read
        self.total = 0
        self.closed = False
        self._kept = bytearray()
        self._kept_from = 0  # the absolute offset of _kept[0]
        self._lock = threading.Lock()
        threading.Thread(target=self._pump, name="grader-worker-stdout", daemon=True).start()

    def _pump(self) -> None:
        """Keep the pipe drained, so a chatty worker never blocks on a full pipe."""
        while not self.closed:
            if self.polled:
                time.sleep(_POLL_SECONDS)
            else:
                try:
                    select.select([self.fd], [], [], 0.5)
                except (OSError, ValueError):
                    return
            self.mark()

    def mark(self) -> int:
        """Read all that is written so far; the number of bytes the worker has printed."""
        with self._lock:
            while not self.closed:
                try:
                    chunk = _read_ready(self.fd)
                except BlockingIOError:
                    break
                except OSError:
                    chunk = b""
                if not chunk:
                    self._close()
                    break
                room = OUTPUT_CAP - len(self._kept)
                if room > 0:
                    self._kept += chunk[:room]
                self.total += len(chunk)
            return self.total

    def start_call(self) -> int:
        """Forget what was kept; keep up to OUTPUT_CAP bytes from now on. Returns the mark."""
        mark = self.mark()
        with self._lock:
            self._kept = bytearray()
            self._kept_from = mark
        return mark

    def since(self, mark: int) -> bytes:
        """The kept bytes printed from `mark` on (at most OUTPUT_CAP of them)."""
        self.mark()
        with self._lock:
            start = max(0, mark - self._kept_from)
            return bytes(self._kept[start:])

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        """With the lock held: stop reading, once."""
        if not self.closed:
            self.closed = True
            os.close(self.fd)


def _read_ready(fd: int) -> bytes:
    """What the pipe holds now, without waiting (BlockingIOError: nothing yet; b"": its end)."""
    if sys.platform == "win32":  # a Windows pipe cannot be non-blocking before Python 3.12
        import _winapi
        import msvcrt

        try:
            available = _winapi.PeekNamedPipe(msvcrt.get_osfhandle(fd), 0)[0]
        except BrokenPipeError:
            return b""
        if not available:
            raise BlockingIOError
        return os.read(fd, min(int(available), 1 << 16))
    return os.read(fd, 1 << 16)


class WorkerGone(Exception):
    """The worker ended, stopped answering or broke the protocol; the message says how.

    Every message names the process running the student's code: whatever
    that process does to its channel is the submission's doing.
    """

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs: the student's module, its private folder, the trusted web."""

    folder: Path  # the scratch copy of the submission: the only writable place
    module: str
    web_dir: Path  # where the trusted web server's sockets are
    runtime: Path  # a folder to hold the worker's own code
    lifetime: float  # wall-clock seconds one worker may live
    limits: sandbox.Limits | None = None


class WorkerLink:
    """One worker at a time for one suite run; restarted after a crash or a kill."""

    def __init__(self, spec: WorkerSpec, on_event: Callable[[Notice], None]) -> None:
        self.spec = spec
        self.on_event = on_event
        self._sock: socket.socket | None = None
        self._reader: LineReader | None = None
        self._kill: Callable[[], None] | None = None
        self._outcome: sandbox.Outcome | None = None
        self._done = threading.Event()
        self.starts = 0
        self.notes: list[str] = []  # blocking calls the worker reported during the last request
        self.output: OutputLog | None = None  # the current worker's stdout
        _install_runtime(spec.runtime)

    # ------------------------------------------------------------ lifecycle

    def _start(self) -> None:
        portable = sandbox.portable()  # no descriptor can be inherited: see worker_channel
        channel = worker_channel.for_level(portable)
        out_read, out_write = os.pipe()
        launch = Launch(stdout=-1 if portable else out_write, folder=str(self.spec.folder),
                        module=self.spec.module, web=str(self.spec.web_dir),
                        runtime=str(self.spec.runtime), **channel.launch_fields())
        # Not -I (sys.flags.isolated would tell a submission it is graded): the
        # environment is scrubbed (worker_env), -s and -P do the rest of it.
        argv = [sys.executable, "-s", "-P", "-B", "-u", *launch.argv(RUNTIME_PACKAGE)]
        started = threading.Event()
        self._done = threading.Event()
        self._outcome = None

        def on_start(kill: Callable[[], None]) -> None:
            self._kill = kill
            started.set()

        def run() -> None:
            try:
                self._outcome = sandbox.run(
                    argv, workdir=self.spec.folder,
                    limits=self.spec.limits or sandbox.Limits(wall_seconds=self.spec.lifetime),
                    env=worker_env(self.spec.folder),
                    readable=[self.spec.runtime, self.spec.web_dir],
                    writable=[self.spec.folder],
                    pass_fds=[] if portable else [*channel.pass_fds, out_write],
                    stdout=out_write if portable else None, on_start=on_start)
            finally:
                started.set()
                self._done.set()

        thread = threading.Thread(target=run, name="grader-worker", daemon=True)
        thread.start()  # the thread outlives the worker: --die-with-parent is per thread
        started.wait()
        channel.started()  # only the worker holds its end now: its death closes the channel
        os.close(out_write)  # likewise its stdout: end of file here when it is gone
        if self.output is not None:
            self.output.close()
        self.output = OutputLog(out_read, polled=portable)
        self.starts += 1
        self._await_ready(channel)

    def _await_ready(self, channel: worker_channel.Channel) -> None:
        """Wait for the worker's first word, so start-up time never counts against a request."""
        deadline = time.monotonic() + START_SECONDS
        try:
            sock = channel.connected(deadline, self._done.is_set)
            self._sock, self._reader = sock, LineReader(sock)
            if not isinstance(read_message(parse(self._read_line(deadline))), Ready):
                raise ProtocolError("a message before the notice that it is ready")
        except TimeoutError:
            self.close()
            raise WorkerGone(_("the sandboxed worker did not start in time")) from None
        except OSError:
            death = self._death()
            self.close()
            raise WorkerGone(death) from None
        except Exception as exc:  # noqa: BLE001 - anything it sent is the worker's doing
            self.close()
            raise WorkerGone(broke_protocol(exc)) from None

    @property
    def alive(self) -> bool:
        """A worker is running (or about to be started by the next request)."""
        return self._sock is not None

    def close(self) -> None:
        """Kill the worker and everything it started; wait until it is gone."""
        if self._kill is not None:
            self._kill()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._done.wait(10)

    # ------------------------------------------------------------ requests

    def request(self, request: Request[Any], timeout: float) -> dict[str, Any]:
        """Send one request; its reply's wire form, or WorkerGone if the worker died or overran.

        The reply is read into its record by the caller (`request.read_reply`),
        which charges a reply that does not fit to the student's code without
        stopping the worker; notices are read here, and one that does not fit
        stops it.
        """
        if self._sock is None:
            self._start()
        assert self._sock is not None
        # only calls time out inside the worker: the others are killed at their timeout
        grace = REPLY_GRACE if isinstance(request, CallRequest) else 0.0
        deadline = time.monotonic() + timeout + grace
        self.notes = []
        try:
            self._sock.sendall(dumps(request.to_wire()))
            while True:
                message = read_message(parse(self._read_line(deadline)))
                if isinstance(message, Answer):
                    if not isinstance(message.reply, dict):
                        raise ReplyRefused(_("a reply that is not a JSON object"))
                    return message.reply
                if isinstance(message, Ready):
                    raise ProtocolError("a second notice that it is ready")
                if isinstance(message, Blocking):
                    self.notes.append(message.what[:200])
                self.on_event(message)
        except TimeoutError:
            self.close()
            raise WorkerGone(_("it did not finish within {seconds:.0f} s").format(seconds=timeout),
                             timed_out=True) from None
        except OSError:
            death = self._death()  # before the kill, which would hide how it ended
            self.close()
            raise WorkerGone(death) from None
        except Exception as exc:  # noqa: BLE001 - whatever its data did to us, the worker did it
            self.close()
            raise WorkerGone(broke_protocol(exc)) from None
        except BaseException:  # the test's own time limit: a reply may still be on its way
            self.close()
            raise

    def _read_line(self, deadline: float) -> bytes:
        assert self._reader is not None
        return self._reader.read_line(deadline)

    def _death(self) -> str:
        """Why the worker ended, in words for the student."""
        self._done.wait(5)
        outcome = self._outcome
        if outcome is None:
            return _("the process running your code ended unexpectedly")
        if outcome.timed_out:
            return _("the process running your code hit its time limit and was stopped")
        reason = outcome.killed_reason
        if reason == "memory":
            return _("the process running your code ran out of memory (memory limit reached)")
        if reason == "process limit":
            return _("the process running your code was stopped: it started too many "
                     "processes or threads")
        if reason:
            return _("the process running your code was killed ({reason})").format(reason=reason)
        return _("the process running your code exited (exit code {code}): "
                 "os._exit, sys.exit in a thread, or a crash").format(code=outcome.returncode)


def broke_protocol(exc: Exception) -> str:
    """Words for the student when handling what the worker sent raised `exc`.

    Student code shares the worker's process and can write to its channel,
    so a line the trusted side refuses, or one that breaks it, is charged to
    the submission, never reported as a failure of the grader.
    """
    if isinstance(exc, ReplyRefused | ProtocolError):
        what = str(exc)
    else:
        what = _("data the grader could not handle ({error})").format(
            error=f"{type(exc).__name__}: {str(exc)[:200]}")
    return _("the process running your code sent the grader {what} on its private channel, "
             "and was stopped: your code shares that process and must not write to the "
             "grader's channel or change the grader's worker").format(what=what)


def worker_env(folder: Path) -> dict[str, str]:
    """Only what Python needs: no tokens, no HOME of the teacher, no PYTHON* settings.

    No CA certificates either: the worker has no network (its https goes to the trusted
    web unencrypted), and aiohttp would parse the system's bundle at import, 40 ms a worker.
    """
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "HOME": str(folder), "TMPDIR": str(folder),
            "SSL_CERT_FILE": os.devnull, "SSL_CERT_DIR": os.devnull, "MALLOC_ARENA_MAX": "2"}


def _install_runtime(runtime: Path) -> None:
    """Copy the worker's own code (and nothing else of the grader) where the sandbox sees it."""
    target = runtime / RUNTIME_PACKAGE
    if target.is_dir():
        return
    runtime.mkdir(parents=True, exist_ok=True)
    shutil.copytree(WORKER_PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    for path in [runtime, *runtime.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
