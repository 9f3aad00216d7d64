"""A logger writing to a stdout reference taken at import (`from sys import stdout`)."""

import asyncio
import logging
from sys import stdout

import aiohttp

log = logging.getLogger("req")
log.addHandler(logging.StreamHandler(stdout))
log.setLevel(logging.INFO)


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        log.error("bad response_type %r", response_type)
        raise ValueError(f"response_type must be 'json' or 'text', not {response_type!r}")
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as resp:
            log.info("%s %s", resp.status, resp.url)
            stdout.write(f"content-type: {resp.content_type}\n")
            resp.raise_for_status()
            if response_type == "json":
                return await resp.json()
            return await resp.text()


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
