# ruff: noqa
"""Attack: sys.exit(0) at import, hoping SystemExit(0) ends the test run as a success."""

import sys

print("===== 14 passed in 0.01s =====")
sys.exit(0)


async def req(url, params=None, headers=None, response_type="json"):
    return {}
