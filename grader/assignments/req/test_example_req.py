"""Public example for task 3 (the hidden tests check much more).

Run it next to your req.py:  pytest test_example_req.py
No real network is used: aioresponses answers the request.
"""

import pytest
from aioresponses import aioresponses
from req import req

URL = "https://api.example.com/users"


@pytest.mark.asyncio
async def test_json_with_params() -> None:
    with aioresponses() as mocked:
        # the query string is part of the URL the mock answers
        mocked.get(f"{URL}?page=2", payload={"page": 2, "users": ["anna", "oleg"]})
        data = await req(URL, params={"page": "2"})

    assert data == {"page": 2, "users": ["anna", "oleg"]}
