import asyncio
import json
import urllib.parse
import urllib.request


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError("response_type must be 'json' or 'text'")
    if params:
        url = url + "?" + urllib.parse.urlencode(params)
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request) as resp:  # raises HTTPError for >= 400
        body = resp.read().decode("utf-8")
    if response_type == "json":
        return json.loads(body)
    return body


if __name__ == "__main__":
    print(asyncio.run(req("https://www.gosuslugi.ru/", response_type="text")))
