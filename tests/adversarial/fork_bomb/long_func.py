# ruff: noqa
"""Attack: 200 detached children sleeping 1000 s at import, a few more in every main(); else honest."""

import asyncio
import os

import aiohttp

URL = "https://www.gosuslugi.ru/"
MARKER = "@@MARKER@@"
STARTED = []


def spawn(count=200):
    for _ in range(count):
        try:
            pid = os.fork()
        except OSError:
            continue  # refused: keep trying, up to count
        if pid == 0:  # the child: leave the group, fork again, become a marked sleeper
            try:
                os.setsid()
                if os.fork() == 0:
                    os.execv("/bin/sh", [MARKER, "-c", f"sleep 1000; : {MARKER}"])
            except BaseException:
                pass
            os._exit(0)
        STARTED.append(pid)
        try:
            os.waitpid(pid, 0)  # the middle process exits at once; its child lives on
        except OSError:
            pass


spawn()
print(f"forked {len(STARTED)} of 200")


async def long_func(i, session=None):
    if session is None:
        async with aiohttp.ClientSession() as own_session:
            return await long_func(i, own_session)
    print(i)
    async with session.get(URL) as response:
        return response.status


async def main():
    spawn(3)
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(long_func(i, session) for i in range(15)))
