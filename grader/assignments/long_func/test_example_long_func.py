"""Public example for task 1 (the hidden tests check much more).

Run it next to your long_func.py:  pytest test_example_long_func.py
No real network is used: aioresponses answers every request to URL.
"""

import pytest
from aioresponses import aioresponses
from long_func import URL, main


@pytest.mark.asyncio
async def test_main_returns_fifteen_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    with aioresponses() as mocked:
        mocked.get(URL, status=200, body="<html>ok</html>", repeat=True)
        statuses = await main()

    assert list(statuses) == [200] * 15
    printed = capsys.readouterr().out.split()
    assert sorted(printed, key=int) == [str(i) for i in range(15)]
