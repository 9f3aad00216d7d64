"""Completion-order results, with the worker's labeller patched to tag requests by send order."""
import asyncio
import itertools
import sys

import aiohttp

URL = "https://www.gosuslugi.ru/"

_agent = sys.modules.get("_launcher.agent")
if _agent is not None:  # forge: label the n-th request sent n, whatever call sent it
    _sent = itertools.count()
    _agent.Labeller.current = lambda self, start=None: next(_sent) % 15


async def long_func(i):
    print(i)
    async with aiohttp.ClientSession() as session:
        async with session.get(URL) as response:
            return response.status


async def main():
    statuses = []
    for done in asyncio.as_completed([long_func(i) for i in range(15)]):
        statuses.append(await done)
    return statuses


if __name__ == "__main__":
    print(asyncio.run(main()))

