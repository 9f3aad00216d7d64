import asyncio


async def req(url, params=None, headers=None, response_type="json"):
    # TODO: сделать запрос
    return {} if response_type == "json" else ""


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
