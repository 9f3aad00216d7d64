"""Catches the known aioresponses/aiohttp break (field notes: aiohttp 3.14 + aioresponses 0.7.9)."""

from __future__ import annotations

import asyncio

import aiohttp
from aioresponses import aioresponses


def test_aioresponses_mocks_the_installed_aiohttp() -> None:
    async def fetch() -> tuple[int, str]:
        async with aiohttp.ClientSession() as session:
            async with session.get("https://example.invalid/x") as response:
                return response.status, await response.text()

    with aioresponses() as mocked:
        mocked.get("https://example.invalid/x", status=203, body="hi")
        assert asyncio.run(fetch()) == (203, "hi")


def test_error_status_with_reason_raises_client_response_error() -> None:
    async def fetch() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get("https://example.invalid/404") as response:
                response.raise_for_status()

    with aioresponses() as mocked:
        mocked.get("https://example.invalid/404", status=404, reason="Not Found")
        try:
            asyncio.run(fetch())
        except aiohttp.ClientResponseError as exc:
            assert exc.status == 404
        else:
            raise AssertionError("no ClientResponseError")
