"""The worker protocol: student code runs out of process, and what comes back is data."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.suites.harness import StudentCode
from grader.suites.web import FakeWeb, Reply, WebServer
from grader.worker.codec import ErrorInfo, Opaque, decode, encode
from grader.worker_link import WorkerLink, WorkerSpec

ROOT = Path(__file__).resolve().parent.parent


def test_codec_keeps_containers_and_never_evaluates() -> None:
    value = {"a": (1, 2.5, None), 3: [b"\x00\xff", {"x": float("inf")}], (1, 2): "tuple key"}
    assert decode(encode(value)) == value
    opaque = decode(encode(object()))
    assert isinstance(opaque, Opaque) and opaque.type == "object"

    class Evil:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert decode(encode(Evil())).repr == "<Evil object>"


def test_codec_sends_subclasses_as_their_base_type() -> None:
    import collections
    import enum

    pair = collections.namedtuple("Pair", "article views")
    status = enum.IntEnum("Status", {"OK": 200})
    value = collections.defaultdict(list, {"day": [pair("A", 5)]})
    assert decode(encode(value)) == {"day": [("A", 5)]}
    assert decode(encode(status.OK)) == 200 and type(decode(encode(status.OK))) is int


def test_error_info_matches_by_class_name() -> None:
    info = ErrorInfo("ClientResponseError", ["aiohttp.client_exceptions.ClientResponseError",
                                              "builtins.Exception"])
    assert info.is_a("ClientResponseError") and info.is_a("Exception")
    assert not info.is_a("ValueError")


@pytest.fixture
def student(tmp_path: Path) -> Iterator[callable]:
    """StudentCode for a module written by the test, with its own worker and web server."""
    made: list[tuple[WorkerLink, WebServer]] = []

    def make(source: str, module: str = "long_func") -> StudentCode:
        folder = tmp_path / f"submission{len(made)}"
        folder.mkdir()
        (folder / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        server = WebServer(tmp_path / f"trusted{len(made)}" / "web")
        link = WorkerLink(WorkerSpec(folder, module, server.folder,
                                     tmp_path / f"trusted{len(made)}" / "runtime", 60),
                          server.on_worker_event)
        made.append((link, server))
        return StudentCode(link, server, module)

    yield make
    for link, server in made:
        link.close()
        server.close()


def test_reference_long_func_overlaps_on_the_trusted_web(student) -> None:
    code = student((ROOT / "solutions/long_func/long_func.py").read_text(encoding="utf-8"))
    web = FakeWeb(expect_in_flight=15, reverse=True)
    web.route(re.compile(".*"), lambda request: Reply(200 + (request.caller or 0)))
    run = code.call("main", web=web, label="long_func", drain=1.0)
    assert run.value == [200 + i for i in range(15)], run
    assert web.max_in_flight == 15
    assert [r.caller for r in web.answered] == list(range(14, -1, -1))
    assert {str(r.url) for r in web.requests} == {"https://www.gosuslugi.ru/"}
    assert run.lines_of(7) == ["7"]


def test_sequential_requests_never_overlap(student) -> None:
    code = student("""
        import aiohttp
        async def main():
            async with aiohttp.ClientSession() as s:
                return [(await (await s.get(f"http://x.test/{i}")).text()) for i in range(5)]
    """)
    web = FakeWeb(expect_in_flight=5)
    web.route(re.compile(".*"), Reply(body="ok"))
    run = code.call("main", web=web)
    assert run.value == ["ok"] * 5 and web.max_in_flight == 1


def test_a_crash_is_reported_and_the_next_call_gets_a_fresh_worker(student) -> None:
    code = student("""
        import os
        calls = []
        async def main(exit_now):
            calls.append(1)
            if exit_now:
                os._exit(0)
            return len(calls)
    """)
    crashed = code.call("main", True)
    assert "exited (exit code 0)" in crashed.crashed
    assert code.call("main", False).value == 1  # re-imported: the list starts empty


def test_a_call_that_never_ends_times_out(student) -> None:
    code = student("""
        import asyncio
        async def main():
            await asyncio.sleep(10**6)
        async def spin():
            while True:
                pass
    """)
    assert code.call("main", timeout=0.5).timed_out
    spun = code.call("spin", timeout=0.5)  # blocks the loop: only the kill from outside ends it
    assert spun.timed_out and not spun.crashed


def test_exceptions_arrive_as_records_with_the_student_line(student) -> None:
    code = student("""
        async def main():
            return {}["missing"]
    """)
    error = code.call("main").error
    assert error is not None and error.is_a("KeyError") and error.where == "long_func.py, line 3"


def test_an_import_error_is_described(student) -> None:
    assert "syntax error in long_func.py, line 1" in student("def (:\n").load()
    assert "sys.exit(3)" in student("import sys\nsys.exit(3)\n").load()


def test_the_worker_sees_neither_the_grader_nor_the_hidden_suites(student) -> None:
    from grader import sandbox
    from grader.catalog import SUITES_DIR

    if sandbox.level() != "bwrap":
        pytest.skip(f"only bubblewrap hides files: {sandbox.isolation()}")
    code = student("""
        import importlib.util, os
        async def main(suites, solutions):
            return [importlib.util.find_spec("grader") is not None,
                    os.path.exists(suites), os.path.exists(solutions)]
    """)
    run = code.call("main", str(SUITES_DIR), str(ROOT / "solutions"))
    assert run.value == [False, False, False], run
