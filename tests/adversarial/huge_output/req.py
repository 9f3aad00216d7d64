# ruff: noqa
"""Attack: 20 MB of output at import and in every call; otherwise the reference solution."""

import os
import sys

import aiohttp

MB = 1 << 20


def flood():
    line = ("x" * 1023 + "\n")
    for _ in range(8):
        print(line * 1024, end="")  # 8 MB through print (sys.stdout)
    for _ in range(4):
        sys.stderr.write(line * 1024)  # 4 MB through sys.stderr
    chunk = (line * 1024).encode()
    for fd in (1, 2):
        for _ in range(4):  # 8 MB straight to the file descriptors
            try:
                os.write(fd, chunk)
            except OSError:
                pass


flood()


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError(f"unknown response_type: {response_type!r}")
    flood()
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as response:
            response.raise_for_status()
            if response_type == "json":
                return await response.json()
            return await response.text()
