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
from grader.worker.protocol import TargetSpec
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


SCRAMBLED = [3, 11, 0, 7, 14, 5, 9, 1, 12, 6, 2, 13, 8, 4, 10]


def test_reference_long_func_overlaps_on_the_trusted_web(student) -> None:
    code = student((ROOT / "solutions/long_func/long_func.py").read_text(encoding="utf-8"))
    web = FakeWeb(expect_in_flight=15, order=SCRAMBLED)
    web.route(re.compile(".*"), lambda request: Reply(200 + (request.caller or 0)))
    run = code.call("main", web=web, label="long_func", drain=1.0)
    assert run.value == [200 + i for i in range(15)], run
    assert web.max_in_flight == 15
    assert [r.caller for r in web.answered] == SCRAMBLED
    assert {str(r.url) for r in web.requests} == {"https://www.gosuslugi.ru/"}
    assert sorted(run.lines, key=int) == [str(i) for i in range(15)]
    assert run.open_connections == 0 and run.seconds > 0


def test_stdout_is_a_real_stream_read_by_the_trusted_side(student) -> None:
    code = student("""
        import logging, sys
        from sys import stdout
        sys.stdout.reconfigure(encoding="utf-8")
        log = logging.getLogger("w")
        log.addHandler(logging.StreamHandler(sys.stdout))
        log.setLevel(logging.INFO)
        async def main():
            print("первая")
            stdout.write("bound at import\\n")
            log.info("logged")
            sys.stdout.buffer.write(b"raw bytes\\n")
            return type(sys.stdout).__name__
    """)
    run = code.call("main")
    assert run.value == "TextIOWrapper"
    assert run.lines == ["первая", "bound at import", "logged", "raw bytes"], run.stdout
    assert code.call("main").lines == run.lines  # each call sees its own output only


def test_printed_text_is_placed_relative_to_requests(student) -> None:
    code = student("""
        import aiohttp
        async def main():
            print("before")
            async with aiohttp.ClientSession() as s, s.get("http://x.test/") as r:
                await r.read()
            print("after")
    """)
    web = FakeWeb()
    web.route(re.compile(".*"), Reply(body="ok"))
    run = code.call("main", web=web)
    request = web.requests[0]
    assert run.stdout[:request.printed_before] == "before\n"
    assert run.stdout[request.printed_before_answer:] == "after\n"


def test_a_session_left_open_keeps_its_connection_open_on_the_wire(student) -> None:
    code = student("""
        import aiohttp
        async def main(close):
            s = aiohttp.ClientSession()
            async with s.get("http://x.test/") as r:
                await r.read()
            if close:
                await s.close()
    """)
    for close, still_open in ((True, 0), (False, 1), (True, 0)):
        web = FakeWeb()
        web.route(re.compile(".*"), Reply(body="ok"))
        assert code.call("main", close, web=web).open_connections == still_open


def test_only_served_resources_count_in_flight(student) -> None:
    code = student("""
        import asyncio, aiohttp
        async def main():
            async with aiohttp.ClientSession() as s:
                async def get(url):
                    async with s.get(url) as r:
                        return r.status
                return await asyncio.gather(get("http://x.test/day/1"), get("http://x.test/day/1"),
                                            get("http://x.test/nowhere"), get("http://x.test/day/2"))
    """)
    web = FakeWeb(expect_in_flight=3)
    web.route(re.compile(r".*/day/\d+$"), Reply(body="ok"), key=lambda r: r.url.path)
    run = code.call("main", web=web)
    assert run.value == [200, 200, 404, 200]
    assert web.max_in_flight == 2  # day 1 twice is one resource; /nowhere is not served
    assert "aiohttp" not in web.requests[2].headers.get("Server", "")


def test_a_students_random_sleeps_do_not_end_the_hold(student) -> None:
    code = student("""
        import asyncio, random, aiohttp
        async def one(s, i):
            await asyncio.sleep(random.random() / 10)
            async with s.get(f"http://x.test/{i}") as r:
                return r.status
        async def main():
            async with aiohttp.ClientSession() as s:
                return await asyncio.gather(*(one(s, i) for i in range(10)))
    """)
    for _ in range(3):
        web = FakeWeb(expect_in_flight=10)
        web.route(re.compile(".*"), Reply(body="ok"))
        code.call("main", web=web)
        assert web.max_in_flight == 10


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


def test_requests_from_tasks_long_func_made_carry_its_label(student) -> None:
    code = student("""
        import asyncio, aiohttp
        async def long_func(i, session):
            async def fetch():
                async with session.get("http://x.test/") as r:
                    return r.status
            await asyncio.sleep(0)
            return await asyncio.wait_for(asyncio.create_task(fetch()), 5)
        async def main():
            async with aiohttp.ClientSession() as s:
                async with asyncio.TaskGroup() as group:
                    tasks = [group.create_task(long_func(i, s)) for i in reversed(range(5))]
                return [t.result() for t in tasks]
    """)
    web = FakeWeb(expect_in_flight=5)
    web.route(re.compile(".*"), lambda request: Reply(200 + (request.caller or 0)))
    run = code.call("main", web=web, label="long_func")
    assert run.value == [204, 203, 202, 201, 200], run
    assert sorted(r.caller for r in web.requests) == [0, 1, 2, 3, 4]


def test_the_worker_leaves_no_name_of_its_own(student) -> None:
    code = student("""
        import sys, aiohttp
        async def main():
            return [sorted(m for m in sys.modules if "launcher" in m or "grader" in m),
                    sys.argv, aiohttp.ClientSession.__init__.__name__,
                    type(__import__("time").sleep).__name__]
    """)
    assert code.call("main").value == [[], ["long_func.py"], "__init__",
                                       "builtin_function_or_method"]
    probe = student("""
        import sys, aiohttp
        async def main():
            return [sys.flags.isolated, hasattr(aiohttp.ClientSession.__init__, "__wrapped__")]
    """)
    assert probe.call("main").value == [0, False]


def test_a_plain_target_is_the_function_the_decorator_was_given(student) -> None:
    code = student("""
        seen = []
        def async_timeit(func):
            seen.append(func)
            async def wrapper(*args, **kwargs):
                print("timed")
                return await func(*args, **kwargs)
            return wrapper
        async def was_seen(handle_value):
            return handle_value in [await f() for f in seen]
    """, module="timing")
    handle = code.plain(TargetSpec(name="load_report", returns="token-1"))
    run = code.call(handle)
    assert run.value == "token-1" and run.stdout == ""  # undecorated: the wrapper never ran
    assert code.call("was_seen", "token-1").value is True


def test_what_a_decorator_made_comes_back_as_it_was(student) -> None:
    """Through DecorateReply: a wrapper's metadata, and a value or coroutine as its value."""
    code = student("""
        import functools
        def async_timeit(func):
            @functools.wraps(func)
            async def wrapper(*args, **kwargs):
                return await func(*args, **kwargs)
            return wrapper
        def returns_value(func):
            return (42, b"x")
        async def is_async(func):
            return func
    """, module="timing")
    spec = TargetSpec(name="load_report", qualname="R.load_report", doc="Doc.", returns=[1])
    timed = code.decorate("async_timeit", spec)
    assert (timed.kind, timed.name, timed.qualname, timed.doc, timed.wrapped_is_target,
            timed.coroutine_function, timed.value) == \
        ("callable", "load_report", "R.load_report", "Doc.", True, True, None)
    run = code.call(timed.handle, 7, key="v")
    assert run.value == [1] and run.reported.calls == [([7], {"key": "v"})]
    made = code.decorate("returns_value", spec)
    assert (made.kind, made.value) == ("other", (42, b"x"))
    coroutine = code.decorate("is_async", spec)
    assert coroutine.kind == "coroutine"
    assert isinstance(coroutine.value, Opaque) and coroutine.value.coroutine == "is_async"


def test_a_web_folder_deeper_than_a_socket_path_allows_still_serves(tmp_path: Path) -> None:
    """A teacher's output folder (or pytest's tmp_path under xdist) may be deeper than the
    107 bytes a Unix socket's path may have: the worker still reaches the trusted web."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    folder = deep / "submission"
    folder.mkdir(parents=True)
    (folder / "long_func.py").write_text(
        (ROOT / "solutions/long_func/long_func.py").read_text(encoding="utf-8"), encoding="utf-8")
    server = WebServer(deep / "trusted" / "web")
    assert len(str(server.folder / "https.sock")) > 107
    link = WorkerLink(WorkerSpec(folder, "long_func", server.folder, deep / "trusted" / "runtime",
                                 60), server.on_worker_event)
    try:
        web = FakeWeb(expect_in_flight=15)
        web.route(re.compile(".*"), lambda request: Reply(200))
        run = StudentCode(link, server, "long_func").call("main", web=web, label="long_func",
                                                          drain=1.0)
        assert run.value == [200] * 15, run
        assert web.max_in_flight == 15
    finally:
        link.close()
        server.close()
