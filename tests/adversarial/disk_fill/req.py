# ruff: noqa
"""Attack: fill the disk from the run's folder, then fail with what the disk said."""

import os

CHUNK = b"\0" * (1 << 20)
# A safety catch for the project's own test, not a limit of the attack: past this the grader
# gave no cap at all, and the test fails on the message below instead of filling a real disk.
SAFETY = 512

written = 0
error = None
try:
    for n in range(SAFETY):
        with open(f"fill-{n}.bin", "wb") as stream:
            for _ in range(16):
                stream.write(CHUNK)
                stream.flush()
                os.fsync(stream.fileno())
                written += 1
                if written >= SAFETY:
                    break
        if written >= SAFETY:
            break
except OSError as exc:
    error = exc

if error is None:
    raise RuntimeError(f"wrote {written} MiB without hitting any limit")
raise OSError(error.errno, f"{error.strerror} (wrote {written} MiB)")
