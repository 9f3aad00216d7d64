"""Public example for task 2 (the hidden tests check much more).

Run it next to your timing.py:  pytest test_example_timing.py
"""

import asyncio
import re

import pytest
from timing import async_timeit


@pytest.mark.asyncio
async def test_prints_name_and_returns_result(capsys: pytest.CaptureFixture[str]) -> None:
    async def fetch(x: int, *, factor: int = 1) -> int:
        await asyncio.sleep(0.1)
        return x * factor

    timed_fetch = async_timeit(fetch)
    assert await timed_fetch(21, factor=2) == 42

    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, f"expected one printed line, got {lines!r}"
    assert "fetch" in lines[0]
    numbers = re.findall(r"\d+\.\d+", lines[0])
    assert len(numbers) == 1, f"expected one number of seconds in {lines[0]!r}"
    assert 0.09 <= float(numbers[0]) < 5, f"fetch slept 0.1 s, but {lines[0]!r}"
