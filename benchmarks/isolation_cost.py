"""What isolation costs, per level, in milliseconds. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/isolation_cost.py [--repeat 15]

Three figures for each level the machine offers (`GRADER_SANDBOX` forced):
- spawn: one `python -c pass` through sandbox.run, against a plain subprocess;
- worker: start the worker, import aiohttp and the reference long_func.py, and
  answer one call whose 15 requests reach the trusted web server;
- submission: a whole submission (all four suites, reference solutions).
A submission starts one worker per assignment, so its isolation overhead is
about 4 x (worker at this level - worker unsandboxed) plus its calls.

At bwrap level, `box` compares the box (grader.sandbox.view's view of Python, the run's
folder a capped tmpfs filled by cp) with the box as it was before (the
interpreter's whole prefixes bound, the folder bound from the host), in
alternating rounds, and times building the view (once per grader process).

`guards` times one sandboxed `python -c pass` and one worker with each guard of
issue 8 switched off in turn (the syscall filter, the fresh session keyring, the
memory cgroup), in alternating rounds, against all of them on; a submission
starts four workers, so 4 x the worker difference is what a guard costs it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from grader import catalog, grading, sandbox
from grader.submission import submission_for
from grader.suites.web import FakeWeb, Reply, WebServer
from grader.worker.protocol import CallRequest, ImportRequest, Invocation
from grader.worker_link import WorkerLink, WorkerSpec


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.1f} ms"


def time_spawn(repeat: int, plain: bool) -> list[float]:
    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            started = time.perf_counter()
            if plain:
                subprocess.run([sys.executable, "-I", "-c", "pass"], check=True)
            else:
                sandbox.run([sys.executable, "-I", "-c", "pass"], workdir=Path(tmp),
                            limits=sandbox.Limits(wall_seconds=30), env={"PATH": "/usr/bin"})
            samples.append(time.perf_counter() - started)
    return samples


def time_worker(repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        root = Path(tempfile.mkdtemp(prefix="grader-bench-"))
        folder = root / "submission"
        folder.mkdir()
        shutil.copy(catalog.get("long_func").solution, folder)
        started = time.perf_counter()
        server = WebServer(root / "trusted" / "web")
        link = WorkerLink(
            WorkerSpec(folder, "long_func", server.folder, root / "trusted" / "runtime", 60),
            server.on_worker_event)
        link.request(ImportRequest(), 30)
        web = FakeWeb(expect_in_flight=15)
        web.route(re.compile(".*"), Reply(200))
        server.current = web
        link.request(CallRequest("main", [Invocation()], timeout=10), 10)
        link.close()
        server.close()
        samples.append(time.perf_counter() - started)
        shutil.rmtree(root, ignore_errors=True)
    return samples


def time_submission(repeat: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "reference"
        folder.mkdir()
        for a in catalog.assignments():
            shutil.copy(a.solution, folder / a.file)
        samples = []
        for _ in range(max(3, repeat // 3)):
            started = time.perf_counter()
            grading.grade([submission_for(folder)], jobs=1)
            samples.append(time.perf_counter() - started)
    return samples


@contextlib.contextmanager
def box_before() -> Iterator[None]:
    """The box as it was: whole interpreter prefixes bound, the folder bound from the host."""
    setup = sandbox.detect.setup()
    is_ours = sandbox.view.is_ours
    sandbox.view.is_ours = lambda *_: False  # type: ignore[assignment]
    sandbox.detect.setup_cache["setup"] = dataclasses.replace(setup, tmpfs_size=False)
    try:
        yield
    finally:
        sandbox.view.is_ours = is_ours  # type: ignore[assignment]
        sandbox.detect.setup_cache["setup"] = setup


def time_box(repeat: int) -> None:
    """Worker start-up (and one call) with the box as it is and as it was, alternating."""
    now: list[float] = []
    before: list[float] = []
    for _ in range(repeat):
        now += time_worker(1)
        with box_before():
            before += time_worker(1)
    spawn_now = time_spawn(repeat, plain=False)
    with box_before():
        spawn_before = time_spawn(repeat, plain=False)
    started = time.perf_counter()
    folder = sandbox.view._build(sandbox.view.distributions(sandbox.view.ALLOWED))
    built = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    print(f"box     : worker {median_ms(now)} (before: {median_ms(before)}); "
          f"spawn {median_ms(spawn_now)} (before: {median_ms(spawn_before)}); "
          f"view built once per grader process in {built * 1000:.0f} ms")


@contextlib.contextmanager
def setup_without(**off: object) -> Iterator[None]:
    """The detected set-up with some guards switched off, for this process's runs."""
    setup = sandbox.detect.setup()
    sandbox.detect.setup_cache["setup"] = dataclasses.replace(setup, **off)  # type: ignore[arg-type]
    try:
        yield
    finally:
        sandbox.detect.setup_cache["setup"] = setup


GUARDS_OFF: dict[str, dict[str, object]] = {
    "all guards on": {},
    "no syscall filter": {"seccomp": ""},
    "no fresh keyring": {"keyring": 0},
    "no memory cgroup": {"memory": None},
    "none of the three": {"seccomp": "", "keyring": 0, "memory": None},
}


def time_guards(repeat: int, submission_seconds: float) -> None:
    """Each guard's cost per run and per worker, in alternating rounds (the machine drifts)."""
    spawn: dict[str, list[float]] = {name: [] for name in GUARDS_OFF}
    worker: dict[str, list[float]] = {name: [] for name in GUARDS_OFF}
    for _ in range(repeat):
        for name, off in GUARDS_OFF.items():
            with setup_without(**off):
                spawn[name] += time_spawn(1, plain=False)
                worker[name] += time_worker(1)
    on = statistics.median(worker["all guards on"])
    for name in GUARDS_OFF:
        saved = on - statistics.median(worker[name])
        print(f"guards  : {name:18} spawn {median_ms(spawn[name])}  worker "
              f"{median_ms(worker[name])}  (4 workers: {4 * saved * 1000:+6.1f} ms, "
              f"{4 * saved / submission_seconds:+.1%} of a submission)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"plain subprocess spawn: {median_ms(time_spawn(args.repeat, plain=True))}")
    for level in sandbox.LEVELS:
        os.environ["GRADER_SANDBOX"] = level
        sandbox.detect.setup_cache.clear()
        if sandbox.level() != level:
            print(f"{level:8}: not available here ({sandbox.isolation()})")
            continue
        submission = time_submission(args.repeat)
        print(f"{level:8}: spawn {median_ms(time_spawn(args.repeat, plain=False))}  "
              f"worker {median_ms(time_worker(args.repeat))}  "
              f"submission {median_ms(submission)}")
        if level == "bwrap":
            time_box(args.repeat)
            time_guards(args.repeat, statistics.median(submission))


if __name__ == "__main__":
    main()
