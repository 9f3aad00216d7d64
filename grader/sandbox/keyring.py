"""[parent, test process] A fresh, empty session keyring for every sandboxed run.

A child inherits its parent's session keyring: without this, sandboxed code
could read, update or add keys of the grader's session (pam_keyinit,
Kerberos caches, CI secrets). `joiner()` gives the function the child calls
between fork and exec; it joins a new anonymous session keyring, which bwrap
and everything the run starts inherit. The seccomp filter then denies the
keyring calls outright; this is what still holds where there is no filter.

The call number comes from libseccomp's table for this architecture; where
libseccomp is missing, from the two architectures this project runs on. The
grader finds it once and hands it to its test processes with the rest of the
set-up, so they never load libseccomp.
"""

from __future__ import annotations

import ctypes
import functools
import platform
from collections.abc import Callable

from grader.sandbox import seccomp

KEYCTL_GET_KEYRING_ID = 0
KEYCTL_JOIN_SESSION_KEYRING = 1
KEY_SPEC_SESSION_KEYRING = -3
_KEYCTL_WITHOUT_LIBSECCOMP = {"x86_64": 250, "aarch64": 219}


@functools.cache
def keyctl_number() -> int | None:
    """keyctl's system call number here, or None where we cannot know it."""
    number = seccomp.syscall_number("keyctl")
    if number is None:
        number = _KEYCTL_WITHOUT_LIBSECCOMP.get(platform.machine())
    return number


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def session_keyring() -> int:
    """The serial of this process's session keyring (for probes and tests); -1 on failure."""
    number = keyctl_number()
    if number is None:
        return -1
    return int(_libc().syscall(ctypes.c_long(number), ctypes.c_long(KEYCTL_GET_KEYRING_ID),
                               ctypes.c_long(KEY_SPEC_SESSION_KEYRING), ctypes.c_long(0)))


def joiner(number: int) -> Callable[[], None]:
    """The child's step before exec: join a new, empty session keyring (keyctl is `number`)."""
    libc = _libc()
    args = (ctypes.c_long(number), ctypes.c_long(KEYCTL_JOIN_SESSION_KEYRING), None)

    def join() -> None:
        if libc.syscall(*args) < 0:
            raise OSError(ctypes.get_errno(), "cannot join a fresh session keyring")

    return join
