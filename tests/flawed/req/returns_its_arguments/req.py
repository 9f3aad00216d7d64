"""Identity: hands back what it was given instead of asking the server."""

import asyncio


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError("response_type must be 'json' or 'text'")
    data = {"url": url, "params": params, "headers": headers}
    return data if response_type == "json" else str(data)


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
