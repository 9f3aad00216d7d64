"""Public example for task 4 (the hidden tests check much more).

Run it next to your wiki_stats.py (and timing.py, if you import from it):
    pytest test_example_wiki_stats.py
No real network is used: aioresponses plays Wikimedia.
"""

import pytest
from aioresponses import aioresponses
from wiki_stats import API, get_stats


def wikimedia_answer(day: str, count: int = 15) -> dict:
    """An answer shaped like Wikimedia's: `count` articles, best rank first."""
    year, month, dd = day.split("-")
    articles = [
        {"article": f"Статья_{day}_{rank}", "views": 10_000 - rank, "rank": rank}
        for rank in range(1, count + 1)
    ]
    return {
        "items": [
            {
                "project": "ru.wikipedia",
                "access": "all-access",
                "year": year,
                "month": month,
                "day": dd,
                "articles": articles,
            }
        ]
    }


@pytest.mark.asyncio
async def test_two_days(capsys: pytest.CaptureFixture[str]) -> None:
    days = ["2024-09-01", "2024-09-02"]
    with aioresponses() as mocked:
        for day in days:
            mocked.get(API.format(day=day.replace("-", "/")), payload=wikimedia_answer(day))
        stats = await get_stats("2024-09-01", "2024-09-02")

    # pairs may be tuples or lists
    got = {day: [tuple(pair) for pair in top] for day, top in stats.items()}
    assert got == {
        day: [(f"Статья_{day}_{rank}", 10_000 - rank) for rank in range(1, 11)] for day in days
    }
    assert "get_stats" in capsys.readouterr().out  # the time printed by async_timeit
