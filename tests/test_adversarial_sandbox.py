"""Attacks on the kernel surface the namespaces leave open (tests/adversarial, kinds below).

kind = "keyring": the test puts a secret key into the session keyring of the grading
process; the attack tries to read it, change it and plant keys. kind = "syscall": nested
namespaces, mounts, io_uring, bpf, ptrace, vsock... must get the seccomp filter's EPERM.
kind = "memory_cgroup": processes that each stay within RLIMIT_AS but together exceed the
run's memory cgroup; the cgroup stops them, and its peak, sampled from outside, stays under
the limit. The attacks of these kinds are graded in one batch with an honest submission,
then checked like the main corpus (tests/test_adversarial.py): every result is there, the
grader never failed on its own, the honest submission keeps full marks, each attack scores
what its expect.toml says, nothing survives the batch.
"""

from __future__ import annotations

import ctypes
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader import grading, sandbox
from grader.reports.feedback import render_check
from grader.results import SubmissionResult
from grader.submission import discover
from tests.conftest import reference_submission
from tests.test_adversarial import CORPUS, ChildWatcher, build_attack, expectations

pytestmark = pytest.mark.slow

KINDS = ("keyring", "syscall", "memory_cgroup")
ATTACKS = sorted(p for p in CORPUS.iterdir()
                 if (p / "expect.toml").is_file() and expectations(p).get("kind") in KINDS)
REFERENCE = "honest_reference"
JOBS = 3

KEYCTL_DESCRIBE, KEYCTL_READ = 6, 11
SESSION, USER, USER_SESSION = -3, -4, -5


# ---------------------------------------------------------------- the grading process's keys


class Keys:
    """keyctl and add_key through libc's syscall(), numbers from libseccomp."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.keyctl_nr = sandbox.seccomp.syscall_number("keyctl")
        self.add_key_nr = sandbox.seccomp.syscall_number("add_key")

    def keyctl(self, *args: object) -> int:
        rc = self.libc.syscall(ctypes.c_long(self.keyctl_nr),
                               *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
        if rc < 0:
            raise OSError(ctypes.get_errno(), f"keyctl{args[:1]}")
        return int(rc)

    def join_fresh_session(self) -> None:
        """A session keyring of this test's own, so the machine's session is never touched."""
        self.keyctl(1, None)  # KEYCTL_JOIN_SESSION_KEYRING, anonymous

    def add(self, description: str, payload: bytes) -> int:
        rc = self.libc.syscall(ctypes.c_long(self.add_key_nr), b"user", description.encode(),
                               payload, ctypes.c_size_t(len(payload)), ctypes.c_long(SESSION))
        if rc < 0:
            raise OSError(ctypes.get_errno(), "add_key")
        return int(rc)

    def read(self, serial: int) -> bytes:
        buf = ctypes.create_string_buffer(1 << 16)
        size = self.keyctl(KEYCTL_READ, serial, buf, 1 << 16)
        return buf.raw[:size]

    def describe(self, serial: int) -> bytes:
        buf = ctypes.create_string_buffer(4096)
        size = self.keyctl(KEYCTL_DESCRIBE, serial, buf, 4096)
        return buf.raw[:size]

    def state(self, serial: int) -> dict[str, object]:
        """What must not change: the key (payload, owner, permissions) and each keyring's keys."""
        rings = {}
        for name, ring in (("session", SESSION), ("user", USER), ("user session", USER_SESSION)):
            raw = self.read(ring)
            rings[name] = sorted(int.from_bytes(raw[i:i + 4], "little")
                                 for i in range(0, len(raw), 4))
        return {"payload": self.read(serial), "describe": self.describe(serial), **rings}


# ---------------------------------------------------------------- memory, seen from outside


class MemorySampler:
    """The peak usage and the OOM kills of every run memory cgroup (grader-P-k) in the batch."""

    def __init__(self, parent: Path | None) -> None:
        self.parent = parent
        self.peaks: dict[str, int] = {}
        self.oom_kills: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while self.parent is not None and not self._stop.is_set():
            for path in self.parent.glob("grader-*-*"):
                for name in ("memory.max_usage_in_bytes", "memory.peak", "memory.current"):
                    try:
                        value = int((path / name).read_text())
                    except (OSError, ValueError):
                        continue
                    self.peaks[path.name] = max(self.peaks.get(path.name, 0), value)
                    break
                kills = sandbox.cgroups.oom_kills(path)
                self.oom_kills[path.name] = max(self.oom_kills.get(path.name, 0), kills)
            self._stop.wait(0.02)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def ours(self, values: dict[str, int], pids: set[int]) -> list[int]:
        """The values of the runs of the test processes `pids` (ours, not other graders')."""
        return [value for name, value in values.items()
                if int(re.match(r"grader-(\d+)-", name).group(1)) in pids]  # type: ignore[union-attr]


# ---------------------------------------------------------------- the graded batch


@dataclass
class Graded:
    results: dict[str, SubmissionResult]
    serial: int
    secret: bytes
    before: dict[str, object]
    after: dict[str, object]
    memory_peak: int
    oom_kills: int
    survivors: list[str]
    cgroups: list[str]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graded]:
    if sandbox.level() != "bwrap":
        pytest.skip(f"the attacks are real: they run only under bubblewrap ({sandbox.isolation()})")
    if not sandbox.seccomp.build():
        pytest.skip("libseccomp is not installed (scripts/setup.sh installs libseccomp2)")
    keys = Keys()
    keys.join_fresh_session()
    secret = f"key-secret-{uuid.uuid4().hex}".encode()
    description = f"grader-adversarial-{uuid.uuid4().hex[:8]}"
    serial = keys.add(description, secret)
    class_dir = tmp_path_factory.mktemp("class")
    reference_submission(class_dir / REFERENCE)
    values = {"KEY_SERIAL": str(serial), "KEY_DESCRIPTION": description}
    for attack in ATTACKS:
        build_attack(attack, class_dir, values)
    before = keys.state(serial)
    setup = sandbox.detect.setup()
    sampler = MemorySampler(setup.memory.parent if setup.memory else None)
    watcher = ChildWatcher()
    start = time.monotonic()
    try:
        results = grading.grade(discover(class_dir), jobs=JOBS)
    finally:
        watcher.stop()
        sampler.stop()
    print(f"\nkernel-surface attacks: {len(results)} submissions in "
          f"{time.monotonic() - start:.1f} s; run cgroup peak "
          f"{max(sampler.ours(sampler.peaks, watcher.pids), default=0) / 2**20:.0f} MiB, "
          f"OOM kills seen {sum(sampler.ours(sampler.oom_kills, watcher.pids))}")
    leftover = [str(path) for cgroup in (setup.cgroup, setup.memory) if cgroup is not None
                for pid in watcher.pids for path in cgroup.parent.glob(f"grader-{pid}-*")]
    yield Graded({r.student: r for r in results}, serial, secret, before, keys.state(serial),
                 max(sampler.ours(sampler.peaks, watcher.pids), default=0),
                 sum(sampler.ours(sampler.oom_kills, watcher.pids)),
                 [str(p) for p in watcher.survivors()], leftover)


def test_the_kinds_have_attacks() -> None:
    assert {expectations(a)["kind"] for a in ATTACKS} == set(KINDS)
    for attack in ATTACKS:
        assert expectations(attack).get("why"), attack.name


def test_every_submission_is_graded_and_the_grader_never_failed(graded: Graded) -> None:
    assert set(graded.results) == {REFERENCE, *(a.name for a in ATTACKS)}
    assert grading.internal_errors(graded.results.values()) == []
    for name, result in graded.results.items():
        assert (result.isolation, result.syscall_filter) == ("bwrap", "seccomp"), name
    honest = graded.results[REFERENCE]
    assert honest.score == honest.max_score, [(s, a.message) for s, a in
                                              honest.assignments.items()]


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda p: p.name)
def test_attack_scores_what_it_earns(attack: Path, graded: Graded) -> None:
    expect = expectations(attack)
    result = graded.results[attack.name]
    for slug, assignment in result.assignments.items():
        lost = [(t.id, t.message[:200]) for t in assignment.tests if t.status != "passed"]
        if slug != expect["attacked"]:
            assert assignment.score == assignment.max_score, (slug, assignment.message, lost)
            continue
        assert expect["min_score"] <= assignment.score <= expect["max_score"], \
            (assignment.score, assignment.message, lost)
        if "message" in expect:
            text = "\n".join([assignment.message, *(t.message for t in assignment.tests)])
            assert expect["message"].lower() in text.lower(), (assignment.message, lost)


def test_the_grading_process_keys_are_untouched_and_unread(graded: Graded) -> None:
    assert graded.after == graded.before
    assert graded.after["payload"] == graded.secret
    assert graded.after["session"] == [graded.serial]  # nothing planted beside it
    texts = [render_check(r, color=False) + repr(r.to_dict()) for r in graded.results.values()]
    assert not [t for t in texts if graded.secret.decode() in t or "KEYRING LOOT" in t]


def test_the_memory_cgroup_held_the_run(graded: Graded) -> None:
    if sandbox.detect.setup().memory is None:
        pytest.skip(f"no writable memory cgroup here: {sandbox.isolation()}")
    limit = sandbox.Limits(wall_seconds=1).run_memory_bytes
    # the bomb (three 300 MB children and the worker's hoard, 1.9 GB) reached the run's
    # limit, where the cgroup stopped it, and no further
    assert limit - (32 << 20) <= graded.memory_peak <= limit, graded.memory_peak


def test_nothing_survives_the_batch(graded: Graded) -> None:
    assert graded.survivors == []
    assert graded.cgroups == []
