import asyncio

import requests


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError("response_type must be 'json' or 'text'")
    resp = requests.get(url, params=params, headers=headers)
    resp.raise_for_status()
    if response_type == "json":
        return resp.json()
    return resp.text


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
