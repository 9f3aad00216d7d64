# ruff: noqa
"""Attack: search the whole visible filesystem for the course (solutions, hidden suites, grader)."""

import hashlib
import json
import os
import sys
import time

NEEDLES = json.loads(bytes.fromhex("@@NEEDLES@@").decode())  # sha256 -> what it is (hex: not itself a match)
NAMES = {label.rsplit("/", 1)[-1] for label in NEEDLES.values()}
SKIP = {"/proc", "/sys", "/dev"}
BUDGET = 8.0  # seconds: the import must end in time


def search(root, skip_dirs, budget=BUDGET):
    """Walk `root`, then hash: first the files named like a course file (rare names first),
    then every other file outside /usr (under /usr only names are checked: it is the system)."""
    deadline = time.monotonic() + budget
    named, others, seen = [], [], 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in skip_dirs]
        system = folder == "/usr" or folder.startswith("/usr/")
        for name in files:
            seen += 1
            if name in NAMES:
                named.append(os.path.join(folder, name))
            elif not system:
                others.append(os.path.join(folder, name))
    counts = {}
    for path in named:
        counts[os.path.basename(path)] = counts.get(os.path.basename(path), 0) + 1
    named.sort(key=lambda path: counts[os.path.basename(path)])  # rare names first
    found, hashed, complete = [], 0, True
    for path in named + others:
        if time.monotonic() > deadline:
            complete = False
            break
        try:
            if os.path.islink(path) or os.path.getsize(path) > (2 << 20):
                continue
            with open(path, "rb") as stream:
                digest = hashlib.sha256(stream.read()).hexdigest()
        except OSError:
            continue
        hashed += 1
        if digest in NEEDLES:
            found.append(f"{NEEDLES[digest]} at {path}")
    return {"seen": seen, "hashed": hashed, "complete": complete, "found": found}


if __name__ == "__main__":  # the test's control: the same search, outside the box
    print(json.dumps(search(sys.argv[1], set(), budget=120)))
else:
    here = os.path.dirname(os.path.abspath(__file__))
    result = search("/", SKIP | {here})
    raise RuntimeError("SEARCH " + json.dumps({**result, "found": result["found"][:8]}))
