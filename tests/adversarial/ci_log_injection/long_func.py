# ruff: noqa
# The reference long_func, printing workflow commands instead of i: printed output
# that feedback quotes must not reach the CI log as a command.
"""Task 1: the lecture's 15 blocking long_func calls, run at once."""

import asyncio

import aiohttp

URL = "https://www.gosuslugi.ru/"


async def long_func(i: int, session: aiohttp.ClientSession | None = None) -> int:
    """Print `i`, send one GET to URL and return the response's status code.

    Uses `session` when given; called on its own, it opens (and closes) one.
    """
    if session is None:
        async with aiohttp.ClientSession() as own_session:
            return await long_func(i, own_session)
    print(f"::add-mask::printed-{i}\n  ::notice::printed\n##[error]printed")
    async with session.get(URL) as response:
        return response.status


async def main() -> list[int]:
    """Run long_func(0) … long_func(14) concurrently; return their statuses ordered by i."""
    async with aiohttp.ClientSession() as session:
        # gather keeps the order of its arguments, whatever order the answers arrive in
        return await asyncio.gather(*(long_func(i, session) for i in range(15)))


if __name__ == "__main__":
    print(asyncio.run(main()))
