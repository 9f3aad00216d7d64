"""Attacks on the trusted side's memory (tests/adversarial, `kind = "trusted"`).

Each attack folder (slowloris on the trusted web, a reply bomb, a deep reply on
the worker's channel) is graded, next to an honest reference submission, by the
real command line (`python -m grader grade all`, so the parent's own memory
limit is in force) while a sampler reads /proc: the peak resident memory
(VmHWM) of the grader process and of every trusted test process it starts.
Then, per attack: the batch finished; the attacked assignment scores no more
than it earns, with the words expect.toml names; everything else keeps full
marks; the grader never blamed itself; no process of the batch survives; and
the peaks stay under the stated bounds (expect.toml `max_test_process_mib`,
PARENT_BOUND_MIB here).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from grader import catalog, sandbox
from tests.conftest import reference_submission
from tests.test_adversarial import CORPUS, REFERENCE, Proc, build_attack, expectations, processes

pytestmark = pytest.mark.slow

KIND = "trusted"
ATTACKS = sorted(p for p in CORPUS.iterdir()
                 if (p / "expect.toml").is_file() and expectations(p).get("kind") == KIND)
JOBS = 4
PARENT_BOUND_MIB = 200  # the grader process itself: ~60 MiB when grading honestly
BATCH_SECONDS = 600
SAMPLE_SECONDS = 0.05
SURVIVOR_GRACE = 3.0


@dataclass
class Peaks:
    """The highest VmHWM (KiB) seen of each process of one batch, by role."""

    parent: int = 0
    test_processes: dict[int, int] = field(default_factory=dict)  # pid: KiB

    @property
    def test_process_mib(self) -> float:
        return max(self.test_processes.values(), default=0) / 1024


ZYGOTE = b"multiprocessing.forkserver"  # the zygote's command line, and its forks' (test_launch)


def _is_zygote(pid: int) -> bool:
    try:
        return ZYGOTE in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _status_field(text: str, name: str) -> int:
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


class TreeSampler:
    """Samples /proc while a grader process runs: its peak and its test processes' peaks."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peaks = Peaks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(SAMPLE_SECONDS)

    def sample(self) -> None:
        parents: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    stat = Path(entry.path, "stat").read_text()
                    parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
        zygotes = {pid for pid, parent in parents.items()
                   if parent == self.root and _is_zygote(pid)}
        for pid in parents:
            if pid == self.root:
                self._note(pid, parent=True)
            elif parents.get(pid) in zygotes:  # the test processes: forked by the zygote
                self._note(pid, parent=False)

    def _note(self, pid: int, parent: bool) -> None:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return
        peak = _status_field(status, "VmHWM")
        if parent:
            self.peaks.parent = max(self.peaks.parent, peak)
        elif ZYGOTE in cmdline:
            old = self.peaks.test_processes.get(pid, 0)
            self.peaks.test_processes[pid] = max(old, peak)

    def stop(self) -> Peaks:
        self._stop.set()
        self._thread.join(5)
        return self.peaks


@dataclass
class Batch:
    """One attack graded next to an honest submission, and what was measured."""

    results: dict[str, dict[str, Any]]  # student: its entry of results.json
    returncode: int
    seconds: float
    peaks: Peaks
    survivors: list[Proc]
    log: str


def grade_and_watch(python: str, class_dir: Path, out: Path, jobs: int = JOBS) -> Batch:
    """`python -m grader grade all CLASS_DIR` with its process tree sampled; its results."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    log = out.parent / f"{out.name}.log"
    start = time.monotonic()
    with log.open("wb") as sink:
        proc = subprocess.Popen([python, "-m", "grader", "grade", "all", str(class_dir), "--out",
                                 str(out), "-j", str(jobs)], stdout=sink, stderr=sink, env=env,
                                cwd=class_dir.parent)
        sampler = TreeSampler(proc.pid)
        try:
            returncode = proc.wait(BATCH_SECONDS)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            peaks = sampler.stop()
    seconds = time.monotonic() - start
    results_file = out / "results.json"
    data = json.loads(results_file.read_text(encoding="utf-8")) if results_file.is_file() else {}
    results = {s["student"]: s for s in data.get("submissions", [])}
    return Batch(results, returncode, seconds, peaks, survivors(peaks),
                 log.read_text(encoding="utf-8", errors="replace"))


def _ours(proc: Proc, test_pids: set[int]) -> bool:
    """A process of a run of one of our test processes: by its run cgroup or its run uid."""
    owner = re.search(r"/grader-(\d+)-\d+", proc.cgroup)
    if owner:
        return int(owner.group(1)) in test_pids
    return any(low <= proc.uid < low + 100 for pid in test_pids
               for low in (sandbox.spawn._RUN_UID_BASE + pid * 100,
                           sandbox.spawn._RUN_UID_BASE + (pid % 10_000) * 100))


def survivors(peaks: Peaks) -> list[Proc]:
    """Live processes the batch's runs left behind, after a short grace to leave /proc."""
    test_pids = set(peaks.test_processes)
    deadline = time.monotonic() + SURVIVOR_GRACE
    while True:
        left = [p for p in processes() if p.state != "Z" and _ours(p, test_pids)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Batch]]:
    if sandbox.level() != "bwrap":
        pytest.skip("the attacks are real (they fork and flood): they run only under "
                    f"bubblewrap (this machine: {sandbox.isolation()})")
    graded = {}
    for attack in ATTACKS:
        root = tmp_path_factory.mktemp(attack.name)
        class_dir = root / "class"
        reference_submission(class_dir / REFERENCE)
        build_attack(attack, class_dir, {})
        batch = grade_and_watch(sys.executable, class_dir, root / "out")
        print(f"\n{attack.name}: graded in {batch.seconds:.1f} s; peak memory: grader "
              f"{batch.peaks.parent / 1024:.0f} MiB, test processes "
              f"{batch.peaks.test_process_mib:.0f} MiB (of {len(batch.peaks.test_processes)})")
        graded[attack.name] = batch
    yield graded


def test_the_corpus_has_the_trusted_attacks() -> None:
    assert {a.name for a in ATTACKS} >= {"slowloris_web", "reply_bomb", "deep_reply"}
    slugs = {a.slug for a in catalog.assignments()}
    for attack in ATTACKS:
        expect = expectations(attack)
        assert expect["attacked"] in slugs and expect.get("why"), attack.name
        assert expect["max_test_process_mib"] > 0, attack.name


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda p: p.name)
def test_the_batch_finished_and_the_grader_never_blamed_itself(attack: Path,
                                                               batches: dict[str, Batch]) -> None:
    batch = batches[attack.name]
    assert batch.returncode == 0, batch.log[-2000:]
    assert set(batch.results) == {REFERENCE, attack.name}, batch.log[-2000:]
    for name, result in batch.results.items():
        for slug, a in result["assignments"].items():
            texts = [a["message"], *(t["message"] for t in a["tests"])]
            assert not any(t.startswith(("internal grader error", "the grader failed"))
                           for t in texts), (name, slug, texts[:3])


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda p: p.name)
def test_the_attack_earns_nothing_it_did_not_earn(attack: Path,
                                                  batches: dict[str, Batch]) -> None:
    expect = expectations(attack)
    result = batches[attack.name].results[attack.name]
    slug = expect["attacked"]
    a = result["assignments"][slug]
    lost = [(t["id"], t["status"], t["message"][:160]) for t in a["tests"]
            if t["status"] != "passed"]
    assert expect.get("min_score", 0) <= a["score"] <= expect["max_score"], (a["score"], lost)
    if "status" in expect:
        assert a["status"] == expect["status"], (a["status"], a["message"])
    texts = "\n".join([a["message"], *(t["message"] for t in a["tests"])]).lower()
    assert expect["message"].lower() in texts, (a["message"], lost)
    assert "your code" in texts, "the words must name the student's code"


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda p: p.name)
def test_nothing_else_loses_a_point(attack: Path, batches: dict[str, Batch]) -> None:
    expect = expectations(attack)
    for name, result in batches[attack.name].results.items():
        for slug, a in result["assignments"].items():
            if name == attack.name and slug == expect["attacked"]:
                continue
            failed = [(t["id"], t["message"][:150]) for t in a["tests"] if t["status"] != "passed"]
            assert a["score"] == a["max_score"], (name, slug, a["message"], failed)


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda p: p.name)
def test_the_grader_processes_stay_within_their_memory_bounds(
        attack: Path, batches: dict[str, Batch]) -> None:
    batch = batches[attack.name]
    bound = expectations(attack)["max_test_process_mib"]
    assert batch.peaks.test_processes, "no test process was ever seen: did the sampler run?"
    assert batch.peaks.test_process_mib < bound, batch.peaks
    assert 0 < batch.peaks.parent / 1024 < PARENT_BOUND_MIB, batch.peaks


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda p: p.name)
def test_no_process_survives(attack: Path, batches: dict[str, Batch]) -> None:
    assert [str(p) for p in batches[attack.name].survivors] == []
