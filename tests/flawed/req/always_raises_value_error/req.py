import asyncio


async def req(url, params=None, headers=None, response_type="json"):
    raise ValueError(f"response_type must be 'json' or 'text', not {response_type!r}")


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
