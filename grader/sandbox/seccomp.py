"""[parent, test process] The system-call filter of every sandboxed run: built by libseccomp.

A deny list on top of the sandbox's namespaces: calls that reach kernel state
shared with the grader (keyrings, io_uring, other processes' memory, BPF,
perf, mounts, namespaces, modules, the clock) fail with EPERM, so student code
sees an ordinary OSError instead of being killed. `clone3` fails with ENOSYS:
glibc then falls back to `clone`, whose flags the filter can read (threads,
fork, subprocess and multiprocessing keep working). Calls from a foreign
architecture (int 0x80, x32) kill the process: libseccomp's default for a
filter built for the native architecture, and no honest program makes them.

The filter is compiled here once, with pyseccomp (ctypes bindings with the
API of libseccomp's own), and handed on as the BPF program libseccomp
exported: bwrap applies it with `--seccomp FD` after its own set-up, the
weaker levels load it in the child right before exec (`loader`).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import tempfile
from collections.abc import Callable

DENIED = (
    # the kernel keyring: shared with the grader's session
    "keyctl", "add_key", "request_key",
    # io_uring: a second syscall path that filters and audits do not see
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # other processes' memory and descriptors
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "process_madvise",
    # kernel attack surface with no use in a student's program
    "bpf", "perf_event_open", "userfaultfd", "fanotify_init", "lookup_dcookie",
    "open_by_handle_at", "name_to_handle_at",
    # mounts, old and new API
    "mount", "umount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount", "fsconfig",
    "fspick", "move_mount", "open_tree", "mount_setattr",
    # namespaces (clone's namespace flags are filtered below)
    "unshare", "setns",
    # kernel modules and kexec
    "init_module", "finit_module", "delete_module", "create_module", "query_module",
    "get_kernel_syms", "kexec_load", "kexec_file_load",
    # the machine as a whole
    "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "syslog", "vhangup",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm",
    "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl", "vm86", "vm86old",
    # NUMA placement of other processes' pages
    "mbind", "set_mempolicy", "set_mempolicy_home_node", "migrate_pages", "move_pages",
)  # fmt: skip
NOT_FOUND = "clone3"  # ENOSYS: libc falls back to clone, whose flags we can check
# clone() flags that make a namespace (CLONE_NEWTIME is 0x80, the exit-signal byte in clone())
NEW_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
                       0x20000000, 0x40000000)  # NEWNS CGROUP UTS IPC USER PID NET
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C  # push input into a terminal / console tricks
_AF_VSOCK = 40  # a socket to the VM's host: outside every network namespace

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


def summary() -> str:
    """What the filter denies, in a few words for `isolation()`."""
    return (f"seccomp filter ({len(DENIED)} calls, namespace flags of clone, clone3 "
            "and AF_VSOCK denied)")


@functools.cache
def build() -> bytes:
    """The filter as the BPF program libseccomp compiles for this machine; b"" without one.

    Without libseccomp (or a libseccomp too old for this kernel's calls)
    runs go on unfiltered and isolation() says so.
    """
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError, RuntimeError):  # pyseccomp raises if libseccomp is missing
        return b""
    try:
        rules = seccomp.SyscallFilter(seccomp.ALLOW)
        eperm = seccomp.ERRNO(errno.EPERM)
        for name in (*DENIED, NOT_FOUND):
            number = seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
            if number == -1:  # unknown to this libseccomp: the kernel it knows lacks it
                continue
            rules.add_rule(eperm if name != NOT_FOUND else seccomp.ERRNO(errno.ENOSYS), number)
        for flag in NEW_NAMESPACE_FLAGS:
            rules.add_rule(eperm, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        for request in (_TIOCSTI, _TIOCLINUX):
            rules.add_rule(eperm, "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, request))
        rules.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket",
                       seccomp.Arg(0, seccomp.EQ, _AF_VSOCK))
        with tempfile.TemporaryFile() as out:
            rules.export_bpf(out)
            out.seek(0)
            return out.read()
    except (OSError, ValueError, AttributeError):
        return b""


def syscall_number(name: str) -> int | None:
    """This architecture's number of a system call, as libseccomp knows it."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError, RuntimeError):
        return None
    number = seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
    return number if number >= 0 else None


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


@functools.lru_cache(maxsize=4)
def loader(bpf: bytes) -> Callable[[], None]:
    """A function for the child between fork and exec: no_new_privs, then the filter.

    Everything it needs is built here, in the parent: the child only makes
    two prctl calls (no allocation after fork).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    program = ctypes.create_string_buffer(bpf, len(bpf))
    fprog = _Fprog(len(bpf) // 8, ctypes.addressof(program))
    zero = ctypes.c_ulong(0)

    def load() -> None:
        keep = program  # the program must outlive the prctl call  # noqa: F841
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), zero, zero, zero) != 0:
            raise OSError(ctypes.get_errno(), "cannot set no_new_privs")
        if libc.prctl(_PR_SET_SECCOMP, ctypes.c_ulong(_SECCOMP_MODE_FILTER),
                      ctypes.byref(fprog), zero, zero) != 0:
            raise OSError(ctypes.get_errno(), "cannot load the seccomp filter")

    return load


def bwrap_fd(bpf: bytes) -> int:
    """A pipe holding the program for `bwrap --seccomp FD`, which reads it to its end."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, bpf)  # a few hundred bytes: far below a pipe's buffer
    finally:
        os.close(write_end)
    return read_end
