"""Issue 9's targets, measured in one run. Prints figures and verdicts; asserts nothing.

    .venv/bin/python benchmarks/class_speed.py [--students 100] [--soak 1000] [--jobs N]
    .venv/bin/python benchmarks/class_speed.py --quick      # 8 students, loop sample 2

1. builds a class of N mixed submissions (about 40% correct: the reference
   solutions and every variant of tests/variants; 50% flawed: tests/flawed,
   round-robin over its kinds; 10% hostile: the plain attacks of
   tests/adversarial, those without `kind`, placeholders, links, zip or encoding);
2. grades it with the real command, `grader grade all CLASS --out OUT`, and
   measures that process tree: wall, CPU (the run's cgroup: cpuacct.usage in v1,
   cpu.stat in v2; RUSAGE_CHILDREN after wait without one) and peak
   memory (a memory cgroup made for the run when cgroupfs is writable, else the
   summed PSS of the tree sampled every 50 ms; the one used is printed);
3. measures the baselines of the issue in the same run: N bare Pythons
   importing pytest, aiohttp and aioresponses, one after another, and the
   per-student pytest loop a teacher would write (on a sample, extrapolated);
4. prints the ratios against the targets, `grader check` of one correct
   submission, and the machine;
5. checks the verdicts: every student's scores against what the corpus says
   it must get (expect.toml), and a few students graded again alone;
6. with --soak S, grades S more submissions and checks nothing was lost and
   memory stayed flat (peak per 100 graded, from the store's file count).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from grader import catalog, runner, sandbox
from grader.test_run import TestRun

sys.path.insert(0, str(Path(__file__).resolve().parent))
import one_suite  # noqa: E402 - benchmarks/ is not a package: its sibling script

ROOT = Path(__file__).resolve().parent.parent
ONE_SUITE = Path(one_suite.__file__).resolve()
PYTHON = sys.executable
GRADER = str(Path(PYTHON).with_name("grader"))
SAMPLE_SECONDS = 0.05
GIB = 1 << 30
TARGET_RATIO = 0.40  # grade-all wall / start-up of N bare Pythons (issue 9)
TARGET_CHECK_SECONDS = 1.0
IMPORTS = "import pytest, aiohttp, aioresponses"
# attack files' placeholders the class cannot fill meaningfully: such attacks are left out
PLACEHOLDER = "@@"
# acts (kills what it can see) only under a sandbox's run uid; let loose only under bwrap,
# as tests/test_adversarial.py does
DESTRUCTIVE = {"kill_everything"}


# ---------------------------------------------------------------- the class


@dataclass(frozen=True)
class Source:
    """One distinct submission: the references with `overrides`' files on top."""

    category: str  # "correct", "flawed" or "hostile"
    kind: str  # correct: "reference"/"variant"; flawed: expect.toml kind; hostile: "attack"
    label: str  # e.g. "req/always_json"
    overrides: Path | None
    expect: dict = field(default_factory=dict, hash=False, compare=False)

    def expected(self, points: dict[str, dict[str, float]]) -> dict[str, tuple[float, float]]:
        """slug -> (lowest, highest) score the corpus says this submission must get."""
        full = {slug: sum(tests.values()) for slug, tests in points.items()}
        found = {slug: (score, score) for slug, score in full.items()}
        if self.category == "flawed":
            slug = self.overrides.parent.name if self.overrides else ""
            lost = sum(points[slug].get(t, 0.0) for t in self.expect.get("lose", []))
            found[slug] = (full[slug] - lost, full[slug] - lost)
        elif self.category == "hostile":
            slug = self.expect["attacked"]
            found[slug] = (float(self.expect.get("min_score", 0)),
                           float(self.expect["max_score"]))
        return found


@dataclass(frozen=True)
class Member:
    """One student of the class: a distinct name and the source it was built from."""

    name: str
    source: Source


def _toml(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def correct_sources() -> list[Source]:
    variants = sorted(p for p in (ROOT / "tests" / "variants").glob("*/*") if p.is_dir())
    found = [Source("correct", "reference", "solutions", None)]
    # interleave the assignments so a small class still has variants of each
    by_slug = [sorted(v for v in variants if v.parent.name == a.slug)
               for a in catalog.assignments()]
    for group in itertools.zip_longest(*by_slug):
        found += [Source("correct", "variant", f"{p.parent.name}/{p.name}", p)
                  for p in group if p is not None]
    return found


def flawed_sources() -> list[Source]:
    """Every flaw, ordered round-robin over the kinds so each kind comes early."""
    flaws = sorted(p for p in (ROOT / "tests" / "flawed").glob("*/*")
                   if (p / "expect.toml").is_file())
    by_kind: dict[str, list[Source]] = {}
    for path in flaws:
        expect = _toml(path / "expect.toml")
        source = Source("flawed", str(expect.get("kind", "?")),
                        f"{path.parent.name}/{path.name}", path, expect)
        by_kind.setdefault(source.kind, []).append(source)
    groups = [by_kind[k] for k in sorted(by_kind)]
    return [s for group in itertools.zip_longest(*groups) for s in group if s is not None]


def hostile_sources() -> list[Source]:
    """The plain attacks: a folder of .py files that is the whole submission as it stands."""
    found = []
    for path in sorted((ROOT / "tests" / "adversarial").iterdir()):
        if not (path / "expect.toml").is_file():
            continue
        expect = _toml(path / "expect.toml")
        files = list(path.glob("*.py"))
        plain = bool(files) and (not {"kind", "zip", "symlinks", "encoding"} & expect.keys()
                 and not any(PLACEHOLDER in p.read_text(encoding="utf-8") for p in files))
        if plain and (path.name not in DESTRUCTIVE or sandbox.level() == "bwrap"):
            found.append(Source("hostile", "attack", path.name, path, expect))
    return found


def plan_class(students: int) -> list[Member]:
    """About 40% correct, 10% hostile (at least one from 8 students), the rest flawed."""
    correct = round(0.4 * students)
    hostile = max(1 if students >= 8 else 0, round(0.1 * students))
    flawed = students - correct - hostile
    chosen = (_cycle(correct_sources(), correct) + _cycle(flawed_sources(), flawed)
              + _cycle(hostile_sources(), hostile))
    return [Member(f"{n:04d}_{s.category}_{s.label.replace('/', '_')}", s)
            for n, s in enumerate(chosen)]


def _cycle(sources: list[Source], count: int) -> list[Source]:
    return list(itertools.islice(itertools.cycle(sources), count)) if sources else []


def build_class(folder: Path, students: int) -> list[Member]:
    """The class's submission folders under `folder` (made), one per member."""
    members = plan_class(students)
    folder.mkdir(parents=True, exist_ok=True)
    for member in members:
        build_submission(folder / member.name, member.source)
    return members


def build_submission(target: Path, source: Source) -> None:
    target.mkdir(parents=True)
    for a in catalog.assignments():
        shutil.copyfile(a.solution, target / a.file)
    if source.overrides is not None:
        for path in sorted(source.overrides.glob("*.py")):
            shutil.copyfile(path, target / path.name)


# ---------------------------------------------------------------- measuring


class MemoryGroup:
    """A memory cgroup made for one measured run; its processes' cgroups nest inside it."""

    def __init__(self, path: Path, version: int) -> None:
        self.path = path
        self.version = version

    @classmethod
    def make(cls, name: str) -> MemoryGroup | None:
        own = _own_cgroup()
        for base, version in ((Path("/sys/fs/cgroup/memory"), 1), (Path("/sys/fs/cgroup"), 2)):
            if version == 1 and not (base / "memory.usage_in_bytes").exists():
                continue
            if version == 2 and not (base / "cgroup.controllers").exists():
                continue
            parent = base / own.get("memory" if version == 1 else "", "/").lstrip("/")
            try:
                (parent / name).mkdir()
            except OSError:
                continue
            group = cls(parent / name, version)
            if group.peak() is not None:
                group.add_cpu_accounting()
                return group
            group.remove()
        return None

    def join_self(self) -> None:
        """Called between fork and exec: the child (and all it starts) is in the cgroup."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))
        if self.cpuacct is not None:
            (self.cpuacct / "cgroup.procs").write_text(str(os.getpid()))

    cpuacct: Path | None = None  # v1: a cpuacct group beside the memory one

    def add_cpu_accounting(self) -> None:
        """v1 keeps CPU time in its own hierarchy: make the same group there too."""
        if self.version != 1:
            return
        base = Path("/sys/fs/cgroup/cpuacct")
        parent = base / _own_cgroup().get("cpuacct", "/").lstrip("/")
        try:
            (parent / self.path.name).mkdir()
            self.cpuacct = parent / self.path.name
        except OSError:
            self.cpuacct = None

    def cpu_seconds(self) -> float | None:
        """CPU time of every process that ever ran in the group (reaped by anyone or not).

        RUSAGE_CHILDREN misses what the grader's fork server reaps after the grader
        is gone; the cgroup counts it all.
        """
        try:
            if self.version == 1:
                if self.cpuacct is None:
                    return None
                return int((self.cpuacct / "cpuacct.usage").read_text()) / 1e9
            for line in (self.path / "cpu.stat").read_text().splitlines():
                if line.startswith("usage_usec "):
                    return int(line.split()[1]) / 1e6
        except (OSError, ValueError):
            return None
        return None

    def _read(self, v1: str, v2: str) -> int | None:
        try:
            return int((self.path / (v1 if self.version == 1 else v2)).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def peak(self) -> int | None:
        return self._read("memory.max_usage_in_bytes", "memory.peak")

    def usage(self) -> int | None:
        return self._read("memory.usage_in_bytes", "memory.current")

    def reset_peak(self) -> bool:
        """Start a new peak window (v1 always can; v2 since Linux 6.12)."""
        try:
            (self.path / ("memory.max_usage_in_bytes" if self.version == 1
                          else "memory.peak")).write_text("0")
            return True
        except OSError:
            return False

    def pids(self) -> list[int]:
        found = []
        try:
            for procs in self.path.rglob("cgroup.procs"):
                try:
                    found += [int(p) for p in procs.read_text().split()]
                except (OSError, ValueError):
                    pass
        except OSError:  # a run's own cgroup went away while we walked the tree
            pass
        return found

    def remove(self) -> None:
        for _ in range(50):
            for sub in sorted((p for p in self.path.rglob("*") if p.is_dir()),
                              key=lambda p: -len(p.parts)):
                try:
                    sub.rmdir()
                except OSError:
                    pass
            try:
                self.path.rmdir()
                if self.cpuacct is not None:
                    self.cpuacct.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)


def _own_cgroup() -> dict[str, str]:
    found = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _id, controllers, path = line.split(":", 2)
        for name in controllers.split(","):
            found[name] = path
    return found


def cgroup_version() -> str:
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        return "v2"
    return "v1" if Path("/sys/fs/cgroup/memory").is_dir() else "none"


def descendants(root: int) -> list[int]:
    """Every process under `root`, from /proc's parent links (sandboxed ones included)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found += children.get(pid, [])
        todo += children.get(pid, [])
    return found


def pss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except (OSError, ValueError):
            pass
    return total


@dataclass
class Measured:
    """One measured phase: what it cost, and how peak memory was found."""

    wall: float = 0.0
    cpu: float = 0.0
    peak: int = 0  # the cgroup's peak, or the sampled one without a cgroup
    peak_sampled: int = 0  # summed PSS of the tree, sampled every 50 ms
    method: str = ""
    runs: int = 0
    failed: int = 0

    def line(self, name: str, scale: float = 1.0, note: str = "") -> str:
        return (f"{name:<34} wall {self.wall * scale:8.1f} s   CPU {self.cpu * scale:8.1f} s   "
                f"peak {mib(self.peak):>9}  (sampled PSS {mib(self.peak_sampled)}){note}")


def mib(size: int) -> str:
    return f"{size / (1 << 20):.0f} MiB"


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_group_ids = itertools.count()


def measure(commands: Iterator[list[str]] | list[list[str]], *, env: dict[str, str] | None = None,
            timeout: float | None = None,
            on_sample: Callable[[MemoryGroup | None, int], None] | None = None) -> Measured:
    """Run `commands` one after another in one fresh memory cgroup; wall, CPU and peak."""
    group = MemoryGroup.make(f"classbench-{os.getpid()}-{next(_group_ids)}")
    result = Measured(method=(f"memory cgroup v{group.version} "
                              f"({'max_usage_in_bytes' if group.version == 1 else 'memory.peak'})"
                              if group else "summed PSS of the process tree, sampled every 50 ms"))
    stop = threading.Event()
    current: list[int] = []

    def sample() -> None:
        while not stop.wait(SAMPLE_SECONDS):
            pids = group.pids() if group else [p for c in current for p in [c, *descendants(c)]]
            now = pss(pids)
            result.peak_sampled = max(result.peak_sampled, now)
            if on_sample is not None:
                on_sample(group, now)

    sampler = threading.Thread(target=sample, daemon=True)
    cpu_before = cpu_children()
    started = time.perf_counter()
    sampler.start()
    try:
        for argv in commands:
            process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL,
                                       preexec_fn=group.join_self if group else None)
            current[:] = [process.pid]
            try:
                code = process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            except KeyboardInterrupt:  # the grader cleans up on Ctrl-C: let it, then stop
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    process.kill()
                raise
            result.runs += 1
            result.failed += code not in (0, 1)  # pytest: 1 = some tests failed
    finally:
        result.wall = time.perf_counter() - started
        stop.set()
        sampler.join()
        result.cpu = cpu_children() - cpu_before
        counted = group.cpu_seconds() if group is not None else None
        if counted is not None:  # the cgroup's count: also what the fork server reaped
            result.cpu = counted
        if group is not None:
            result.peak = group.peak() or 0
            group.remove()
        else:
            result.peak = result.peak_sampled
    return result


# ---------------------------------------------------------------- the phases


def grade_all(folder: Path, out: Path, jobs: int | None,
              on_sample: Callable[[MemoryGroup | None, int], None] | None = None) -> Measured:
    argv = [GRADER, "grade", "all", str(folder), "--out", str(out)]
    if jobs:
        argv += ["-j", str(jobs)]
    return measure([argv], on_sample=on_sample)


def startup_baseline(students: int) -> Measured:
    return measure([[PYTHON, "-c", IMPORTS]] * students)


def loop_commands(member_folder: Path, scratch: Path) -> Iterator[list[str]]:
    """One fresh `pytest` process per hidden suite over one student's folder (one_suite.py).

    The hidden suites cannot share one pytest process: the plugin's `student`
    fixture is session-scoped and serves ONE module (TestRun.module), so a
    student's four suites are four pytest processes, run one after another.
    """
    for a in catalog.assignments():
        work = scratch / a.slug
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(member_folder, work / "submission")  # the worker writes in its copy
        run = TestRun(suite=a.suite, submission=work / "submission", module=a.module,
                      report=work / "events.jsonl", test_timeout=a.test_timeout,
                      suite_timeout=a.suite_timeout, home=work, work=work / "trusted",
                      lifetime=a.suite_timeout, sandbox_setup=sandbox.export_setup())
        yield [PYTHON, str(ONE_SUITE), one_suite.as_json(run)]


def loop_env() -> dict[str, str]:
    """The grader's environment for the loop's processes (autoload off, as the grader's)."""
    return {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def student_loop(folder: Path, members: list[Member], sample: int, scratch: Path) -> Measured:
    chosen = spread(members, sample)
    commands = (argv for m in chosen for argv in loop_commands(folder / m.name, scratch))
    timeout = max(a.suite_timeout for a in catalog.assignments()) * 2
    return measure(commands, env=loop_env(), timeout=timeout)


def spread(members: list[Member], count: int) -> list[Member]:
    """`count` members evenly spread over the class, so the sample has its mix."""
    count = max(1, min(count, len(members)))
    return [members[i * len(members) // count] for i in range(count)]


def check_one(folder: Path) -> Measured:
    return measure([[GRADER, "check", str(folder)]])


# ---------------------------------------------------------------- verdicts


def suite_points() -> dict[str, dict[str, float]]:
    """slug -> test id -> points, from the suites' own collection (no student code runs)."""
    return {a.slug: {s.id: s.points for s in runner.collect(a)} for a in catalog.assignments()}


def graded(out: Path) -> dict[str, dict]:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {s["student"]: s for s in data["submissions"]}


def scores(entry: dict) -> dict[str, float]:
    return {slug: float(a["score"]) for slug, a in entry["assignments"].items()}


def check_expected(members: list[Member], results: dict[str, dict],
                   points: dict[str, dict[str, float]]) -> list[str]:
    """Every student's score per assignment within what the corpus says it must get."""
    problems = []
    for m in members:
        entry = results.get(m.name)
        if entry is None:
            problems.append(f"{m.name}: no result")
            continue
        got = scores(entry)
        for slug, (low, high) in m.source.expected(points).items():
            if not low - 1e-6 <= got.get(slug, -1) <= high + 1e-6:
                problems.append(f"{m.name}: {slug} {got.get(slug)} not in [{low}, {high}]")
    return problems


def verdicts(entry: dict) -> dict[str, str]:
    return {t["id"]: t["status"] for a in entry["assignments"].values() for t in a["tests"]}


def check_alone(folder: Path, members: list[Member], results: dict[str, dict], count: int,
                scratch: Path, jobs: int | None) -> list[str]:
    """A few students (one of each category first) graded again on their own: same verdicts."""
    firsts = {m.source.category: m for m in reversed(members)}
    chosen = list(firsts.values()) + [m for m in spread(members, count) if m not in firsts.values()]
    problems = []
    for n, m in enumerate(chosen[:count]):
        out = scratch / f"alone-{n}"
        argv = [GRADER, "grade", str(folder / m.name), "--out", str(out)]
        subprocess.run(argv + (["-j", str(jobs)] if jobs else []), capture_output=True)
        alone = graded(out).get(m.name) if (out / "results.json").is_file() else None
        if alone is None:
            problems.append(f"{m.name}: no result when graded alone")
        elif (verdicts(alone), scores(alone)) != (verdicts(results[m.name]),
                                                  scores(results[m.name])):
            diff = {t: (s, verdicts(results[m.name]).get(t))
                    for t, s in verdicts(alone).items() if verdicts(results[m.name]).get(t) != s}
            problems.append(f"{m.name}: alone {scores(alone)} vs class "
                            f"{scores(results[m.name])}; tests (alone, class): {diff}")
        same = not problems or not problems[-1].startswith(f"{m.name}:")
        print(f"  graded alone: {m.name}: {'same verdicts' if same else 'DIFFERENT'}")
    return problems


# ---------------------------------------------------------------- soak


@dataclass
class SoakWindow:
    graded: int
    peak: int  # the cgroup's peak during the window
    sampled: int  # the sampled PSS peak during the window
    seconds: float


def soak(count: int, window: int, scratch: Path, jobs: int | None) -> None:
    folder, out = scratch / "soak-class", scratch / "soak-out"
    members = build_class(folder, count)
    store = out / "store"
    windows: list[SoakWindow] = []
    state = {"next": window, "sampled": 0, "since": time.perf_counter()}

    def on_sample(group: MemoryGroup | None, now: int) -> None:
        state["sampled"] = max(state["sampled"], now)
        done = len(list(store.glob("*.json"))) if store.is_dir() else 0
        while done >= state["next"]:
            peak = (group.peak() or 0) if group else state["sampled"]
            windows.append(SoakWindow(state["next"], peak, state["sampled"],
                                      time.perf_counter() - state["since"]))
            if group is not None:
                group.reset_peak()
            state.update(next=state["next"] + window, sampled=0, since=time.perf_counter())

    measured = grade_all(folder, out, jobs, on_sample)
    measured.peak = max([measured.peak] + [w.peak for w in windows])  # peaks were reset
    print(f"\nsoak: {count} submissions, peak memory per {window} graded "
          f"({measured.method}, reset each window):")
    for w in windows:
        print(f"  {w.graded:>5} graded: peak {mib(w.peak):>9}  sampled PSS {mib(w.sampled):>9}"
              f"  {w.seconds:6.1f} s for the window")
    print(measured.line("soak grade all", note=f"  [{count / measured.wall:.2f} per s]"))
    results = graded(out) if (out / "results.json").is_file() else {}
    with (out / "gradebook.csv").open(encoding="utf-8", newline="") as stream:
        rows = {row["student"] for row in csv.DictReader(stream)}
    stored = len(list(store.glob("*.json")))
    names = {m.name for m in members}
    lost = sorted(names - results.keys()) + sorted(names - rows)
    print(f"  results.json {len(results)}, gradebook.csv {len(rows)}, store files {stored}; "
          f"missing: {lost[:5] or 'none'}")
    peaks = [w.peak for w in windows]
    flat = len(peaks) < 2 or max(peaks[1:]) <= 1.25 * peaks[0] + (64 << 20)
    whole = len(results) == len(rows) == stored == count and not lost
    print(f"SOAK VERDICT: {'nothing lost' if whole else 'RESULTS LOST'}; memory "
          f"{'flat' if flat else 'GROWING'} (first window {mib(peaks[0]) if peaks else '-'}, "
          f"highest later {mib(max(peaks[1:])) if len(peaks) > 1 else '-'})")


# ---------------------------------------------------------------- main


def machine() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: {os.cpu_count()} cores, load average at start {load}, cgroup "
            f"{cgroup_version()}, Python {sys.version.split()[0]}\n"
            f"isolation: {sandbox.isolation()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=None,
                        help="grader's -j (default: the grader's own default)")
    parser.add_argument("--loop-sample", type=int, default=10,
                        help="students run through the per-student pytest loop (extrapolated)")
    parser.add_argument("--alone", type=int, default=4,
                        help="students graded again alone to compare verdicts")
    parser.add_argument("--soak", type=int, default=0, help="submissions for the soak run")
    parser.add_argument("--soak-window", type=int, default=100)
    parser.add_argument("--quick", action="store_true",
                        help="8 students, loop sample 2, 1 alone: the script works end to end")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    if parser.parse_args().quick:  # its own defaults; options given still win
        parser.set_defaults(students=8, loop_sample=2, alone=1)
    args = parser.parse_args()
    print(machine())
    scratch = Path(tempfile.mkdtemp(prefix="grader-class-speed-"))
    try:
        run(args, scratch)
    finally:
        if args.keep:
            print(f"kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def run(args: argparse.Namespace, scratch: Path) -> None:
    folder, out = scratch / "class", scratch / "out"
    members = build_class(folder, args.students)
    make_up: dict[str, int] = {}
    for m in members:
        make_up[m.source.category] = make_up.get(m.source.category, 0) + 1
    kinds = sorted({m.source.kind for m in members if m.source.category == "flawed"})
    print(f"class: {len(members)} submissions: {make_up}; flawed kinds ({len(kinds)}): "
          f"{', '.join(kinds)}")
    points = suite_points()

    graded_all = grade_all(folder, out, args.jobs)
    startup = startup_baseline(len(members))
    loop = student_loop(folder, members, args.loop_sample, scratch / "loop")
    sampled = min(args.loop_sample, len(members))
    reference = scratch / "reference"
    build_submission(reference, correct_sources()[0])
    check = check_one(reference)

    jobs = f"-j {args.jobs}" if args.jobs else "default -j"
    print(f"\npeak memory: {graded_all.method}")
    print(graded_all.line(f"grader grade all ({jobs})",
                          note=f"  [{graded_all.failed and 'FAILED ' or ''}"
                               f"{len(members) / graded_all.wall:.2f} per s]"))
    print(startup.line(f"{len(members)} x python -c '{IMPORTS}'"))
    scale = len(members) / sampled
    print(loop.line(f"per-student pytest loop (x{scale:.1f})", scale,
                    note=f"  [extrapolated from {sampled} students, {loop.runs} pytest runs]"))
    print(f"  loop: per student, for each suite, a fresh `{PYTHON} benchmarks/one_suite.py` "
          "(pytest with the grader's options), one after another (one process per suite: the "
          "plugin serves one module)")
    print(check.line("grader check (one correct)"))

    ratio = graded_all.wall / startup.wall
    print(f"\ngrade-all wall / start-up wall: {ratio:.2f} (target <= {TARGET_RATIO:.2f}: "
          f"{'met' if ratio <= TARGET_RATIO else 'NOT met'})")
    print(f"grade-all wall / loop wall:     {graded_all.wall / (loop.wall * scale):.2f}")
    print(f"grade-all CPU / loop CPU:       {graded_all.cpu / (loop.cpu * scale):.2f}")
    print(f"peak memory / 1 GiB:            {graded_all.peak / GIB:.2f} "
          f"({'met' if graded_all.peak <= GIB else 'NOT met'})")
    print(f"grader check wall:              {check.wall:.2f} s (target < {TARGET_CHECK_SECONDS} s: "
          f"{'met' if check.wall < TARGET_CHECK_SECONDS else 'NOT met'})")

    results = graded(out) if (out / "results.json").is_file() else {}
    problems = check_expected(members, results, points)
    problems += check_alone(folder, members, results, args.alone, scratch, args.jobs)
    for problem in problems:
        print(f"  MISMATCH {problem}")
    print(f"VERDICTS: {len(members) - len({p.split(':')[0] for p in problems})}/{len(members)} "
          f"as the corpus expects and as graded alone"
          f"{'' if not problems else f'; {len(problems)} MISMATCHES'}")
    if args.soak:
        soak(args.soak, args.soak_window, scratch, args.jobs)


if __name__ == "__main__":
    main()
