# ruff: noqa
"""Attack: at import, reach the kernel through the calls a container would deny; everything
else is the reference solution. Anything that is not the seccomp filter's answer is raised.
"""

import asyncio
import ctypes
import errno
import os
import socket

import aiohttp

URL = "https://www.gosuslugi.ru/"

_libc = ctypes.CDLL(None, use_errno=True)
_buf = ctypes.create_string_buffer(4096)
NEWUSER, NEWNS, SIGCHLD = 0x10000000, 0x00020000, 17
ATTEMPTS = {  # x86_64 numbers (the machine the corpus runs on): name -> (nr, args)
    "unshare(NEWUSER)": (272, (NEWUSER,)),
    "unshare(NEWNS)": (272, (NEWNS,)),
    "clone(NEWUSER)": (56, (NEWUSER | SIGCHLD, 0, 0, 0, 0)),
    "mount tmpfs": (165, (b"none", b"/tmp", b"tmpfs", 0, None)),
    "umount2 /proc": (166, (b"/proc", 2)),
    "pivot_root": (155, (b"/tmp", b"/tmp")),
    "fsopen": (430, (b"tmpfs", 0)),
    "open_tree": (428, (-100, b"/", 1)),
    "move_mount": (429, (-100, b"/", -100, b"/tmp", 0)),
    "setns": (308, (0, 0)),
    "io_uring_setup": (425, (8, _buf)),
    "bpf": (321, (5, _buf, 128)),
    "perf_event_open": (298, (_buf, 0, -1, -1, 0)),
    "userfaultfd": (323, (0,)),
    "ptrace(TRACEME)": (101, (0, 0, 0, 0)),
    "process_vm_readv": (310, (1, _buf, 1, _buf, 1, 0)),
    "init_module": (175, (_buf, 16, b"")),
    "kexec_load": (246, (0, 0, None, 0)),
}


def _attack():
    wrong = []
    for name, (nr, args) in ATTEMPTS.items():
        rc = _libc.syscall(nr, *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
        err = ctypes.get_errno()
        if rc == 0 and name.startswith("clone"):
            os._exit(0)  # the child of a clone that went through
        if rc >= 0 or err != errno.EPERM:
            wrong.append(f"{name}: rc {rc} errno {errno.errorcode.get(err, err)}")
    rc = _libc.syscall(435, _buf, 88)  # clone3: the filter says ENOSYS, libc falls back
    if rc == 0:
        os._exit(0)
    if ctypes.get_errno() != errno.ENOSYS:
        wrong.append(f"clone3: rc {rc} errno {ctypes.get_errno()}")
    try:
        vsock = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
        wrong.append("a vsock socket was created")
        vsock.settimeout(1)
        vsock.connect((2, 22))  # the host
        wrong.append("connected to the host over vsock")
    except OSError:
        pass
    if wrong:
        raise RuntimeError("KERNEL REACHED: " + "; ".join(wrong))


_attack()


async def long_func(i, session=None):
    if session is None:
        async with aiohttp.ClientSession() as own_session:
            return await long_func(i, own_session)
    print(i)
    async with session.get(URL) as response:
        return response.status


async def main():
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(long_func(i, session) for i in range(15)))
