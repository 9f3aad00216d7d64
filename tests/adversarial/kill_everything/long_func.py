# ruff: noqa
"""Attack: SIGKILL everything in reach (parent, pid 1, -1, every pid, own group) when alone."""

import asyncio
import os
import signal
import socket

import aiohttp

URL = "https://www.gosuslugi.ru/"


def kill_all():
    # A safety catch for the project's own test: only inside the grader's sandbox
    # (a run uid of 200000 or more), never where kill -1 would reach the machine's own processes.
    if os.getuid() < 200000:
        raise SystemExit("refusing to kill anything outside the grader's sandbox")
    tries = [("parent", lambda: os.kill(os.getppid(), signal.SIGKILL)),
             ("pid 1", lambda: os.kill(1, signal.SIGKILL)),
             ("everyone", lambda: os.kill(-1, signal.SIGKILL))]
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            tries.append((name, lambda pid=int(name): os.kill(pid, signal.SIGKILL)))
            tries.append((f"group {name}", lambda pid=int(name): os.killpg(pid, signal.SIGKILL)))
    for name, attempt in tries:
        try:
            attempt()
            print(f"killed {name}")
        except OSError as exc:
            print(f"could not kill {name}: {exc}")
    os.killpg(0, signal.SIGKILL)  # at last the own process group: this one dies too


async def long_func(i, session=None):
    if session is None:
        kill_all()
        async with aiohttp.ClientSession() as own_session:
            return await long_func(i, own_session)
    print(i)
    async with session.get(URL) as response:
        return response.status


async def main():
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(long_func(i, session) for i in range(15)))
