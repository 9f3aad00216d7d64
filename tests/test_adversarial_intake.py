"""Attacks on intake (kind = "intake" in tests/adversarial): names, links, archives.

Each attack needs a setup a folder of the corpus cannot hold, so the test builds
it (see tests/adversarial/README.md, "kind = intake"):

- `named_folders`: folders whose names collide once normalised, graded in one
  batch by the real `grader grade all`;
- `ci_repository`: a real git repository whose pull request adds symbolic links
  among the submissions, graded by the real `grader ci`;
- `built_zip`: archives built here (a directory bomb, duplicate entries), graded
  by `grader grade all` beside an honest student, the bomb also alone so the
  peak memory of the grader handling it is its own.

Every grader run is a real process under a small wrapper that is the child
subreaper of everything the grader starts: after the grader exits it reports
any process of the run still alive (and kills it), and the peak RSS of the
whole tree (RUSAGE_CHILDREN).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import time
import tomllib
import unicodedata
import uuid
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader import catalog, sandbox
from grader.reports.results_file import validate
from grader.submission import discover
from tests.conftest import reference_submission

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "adversarial"
KIND = "intake"
HONEST = "honest_reference"
SETUPS = ("named_folders", "ci_repository", "built_zip")


def expectations(attack: Path) -> dict[str, Any]:
    return tomllib.loads((attack / "expect.toml").read_text(encoding="utf-8"))


ATTACKS = sorted(p for p in CORPUS.iterdir()
                 if (p / "expect.toml").is_file() and expectations(p).get("kind") == KIND)


def of_setup(setup: str) -> list[Path]:
    return [a for a in ATTACKS if expectations(a)["setup"] == setup]


# ---------------------------------------------------------------- running the grader

# The wrapper: child subreaper of the grader's whole tree, so that orphans come to
# it; reports exit status, peak RSS of the tree and the processes left alive.
WRAPPER = r"""
import ctypes, json, os, resource, signal, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
report, argv = sys.argv[1], sys.argv[2:]
code = subprocess.Popen(argv).wait()
me, deadline, left = os.getpid(), time.monotonic() + 3.0, []
while True:
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    left = []
    for entry in os.listdir("/proc"):
        try:
            stat = open(f"/proc/{entry}/stat").read()
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                cmd = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ")
                left.append((int(entry), cmd.decode(errors="replace")))
        except (OSError, ValueError, IndexError):
            continue
    if not left or time.monotonic() > deadline:
        break
    time.sleep(0.1)
for pid, _ in left:
    os.kill(pid, signal.SIGKILL)
for _ in left:
    os.wait()
json.dump({"code": code, "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
           "survivors": [cmd for _, cmd in left]}, open(report, "w"))
"""


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    peak_mib: float
    survivors: list[str]
    seconds: float


def run_grader(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """`python -m grader ARGS` in `cwd`, watched by the wrapper."""
    report = cwd.parent / f"wrapper-{uuid.uuid4().hex}.json"
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(report), sys.executable, "-m", "grader", *args],
        cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, timeout=900,
    )
    seconds = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    data = json.loads(report.read_text())
    report.unlink()
    return Run(data["code"], proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8"),
               data["maxrss_kib"] / 1024, data["survivors"], seconds)


def load_results(out: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    validate(data)
    return {s["student"]: s for s in data["submissions"]}


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8")))
    return {row["student"]: row for row in rows}


def full_marks(result: dict[str, Any]) -> bool:
    return all(a["score"] == a["max_score"] for a in result["assignments"].values())


def refused(result: dict[str, Any], phrase: str) -> bool:
    """Every assignment is an error scoring 0 whose message holds `phrase` (any case)."""
    return all(a["status"] == "error" and a["score"] == 0 and phrase.lower() in a["message"].lower()
               for a in result["assignments"].values())


@pytest.fixture(scope="module", autouse=True)
def bubblewrap_only() -> None:
    if sandbox.level() != "bwrap":
        pytest.skip("graded like tests/test_adversarial.py: only under bubblewrap "
                    f"(this machine: {sandbox.isolation()})")


def test_corpus_has_every_intake_setup() -> None:
    for attack in ATTACKS:
        expect = expectations(attack)
        assert expect["setup"] in SETUPS, attack.name
        assert expect.get("why"), f"{attack.name}: say why"
    assert {expectations(a)["setup"] for a in ATTACKS} == set(SETUPS)


# ---------------------------------------------------------------- names


def raw_name(escaped: str) -> bytes:
    """A folder name written in expect.toml as a Python bytes escape."""
    return codecs.escape_decode(escaped.encode("ascii"))[0]


def shown(raw: bytes) -> str:
    """The name the grader must show: NFC, each undecodable byte as \\xNN (independent oracle)."""
    return unicodedata.normalize("NFC", raw.decode("utf-8", errors="backslashreplace"))


def build_named(attack: Path, root: Path, order: int = 1) -> dict[bytes, Path]:
    folders = [raw_name(n) for n in expectations(attack)["folders"]][::order]
    made = {}
    for raw in folders:
        path = Path(os.fsdecode(os.path.join(os.fsencode(root), raw)))
        reference_submission(path)
        made[raw] = path
    return made


@dataclass
class NamedBatch:
    run: Run
    results: dict[str, dict[str, Any]]
    book: dict[str, dict[str, str]]
    class_dir: Path
    folders: dict[str, dict[bytes, Path]]


@pytest.fixture(scope="module")
def named_batch(tmp_path_factory: pytest.TempPathFactory) -> NamedBatch:
    class_dir = tmp_path_factory.mktemp("names") / "class"
    class_dir.mkdir()
    folders = {a.name: build_named(a, class_dir) for a in of_setup("named_folders")}
    reference_submission(class_dir / HONEST)
    out = class_dir.parent / "out"
    run = run_grader(["grade", "all", str(class_dir), "--out", str(out), "-j", "2"],
                     cwd=class_dir.parent)
    print(f"\nnamed folders: {len(os.listdir(class_dir))} submissions in {run.seconds:.1f} s, "
          f"peak RSS of the grader tree {run.peak_mib:.0f} MiB")
    return NamedBatch(run, load_results(out), gradebook(out), class_dir, folders)


@pytest.mark.slow
def test_named_batch_finishes_with_every_student(named_batch: NamedBatch) -> None:
    assert named_batch.run.code == 0, named_batch.run.stderr[-3000:]
    assert "Traceback" not in named_batch.run.stderr
    expected = 1 + sum(len(f) for f in named_batch.folders.values())
    assert len(named_batch.results) == expected
    assert set(named_batch.book) == set(named_batch.results)  # the gradebook, row for row
    assert named_batch.run.survivors == []


@pytest.mark.slow
@pytest.mark.parametrize("attack", of_setup("named_folders"), ids=lambda p: p.name)
def test_colliding_names_are_distinct_stable_and_graded(attack: Path, named_batch: NamedBatch,
                                                        tmp_path: Path) -> None:
    expect = expectations(attack)
    keeps = {raw_name(n) for n in expect["keeps_name"]}
    folders = named_batch.folders[attack.name]
    names = {os.fsencode(s.source.name): s.student for s in discover(named_batch.class_dir)
             if os.fsencode(s.source.name) in folders}
    assert len(set(names.values())) == len(folders)  # distinct
    for raw, name in names.items():
        if raw in keeps:
            assert name == shown(raw), raw
        else:
            assert name.startswith(shown(raw) + "~") and len(name) > len(shown(raw)) + 1, raw
        result = named_batch.results[name]  # recorded under that very name by the CLI
        assert full_marks(result), (name, result["message"])
        assert named_batch.book[name]["total"] == named_batch.book[name]["max_total"]
    again = tmp_path / "class"
    again.mkdir()
    build_named(attack, again, order=-1)  # another folder, made in the other order
    assert {os.fsencode(s.source.name): s.student for s in discover(again)} == names


# ---------------------------------------------------------------- symlinks in CI


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    proc = subprocess.run(["git", "-c", "core.symlinks=true", *args], cwd=repo,
                          capture_output=True, text=True, env={**os.environ, **env}, check=True)
    return proc.stdout.strip()


def canary_req(canary: str) -> bytes:
    """alice's req.py: correct, but its import raises an error that carries the canary."""
    solution = catalog.get("req").solution.read_text(encoding="utf-8")
    return (solution + f"\nraise RuntimeError({canary!r})\n").encode()


def build_classmate(submissions: Path, name: str, canary: str) -> None:
    if name.endswith(".zip"):
        with zipfile.ZipFile(submissions / name, "w") as archive:
            for a in catalog.assignments():
                data = canary_req(canary) if a.slug == "req" else a.solution.read_bytes()
                archive.writestr(a.file, data)
        return
    folder = reference_submission(submissions / name)
    (folder / "req.py").write_bytes(canary_req(canary))


@dataclass
class CiRun:
    run: Run
    results: dict[str, dict[str, Any]]
    texts: dict[str, str]
    canary: str


@pytest.fixture(scope="module")
def ci_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CiRun]:
    runs = {}
    for attack in of_setup("ci_repository"):
        expect = expectations(attack)
        canary = f"classmate-canary-{uuid.uuid4().hex}"
        work = tmp_path_factory.mktemp(attack.name)
        repo = work / "course"
        submissions = repo / "submissions"
        submissions.mkdir(parents=True)
        git(repo, "init", "-q", "-b", "main")
        for name in expect["classmates"]:
            build_classmate(submissions, name, canary)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "base: the class so far")
        base = git(repo, "rev-parse", "HEAD")
        for name in expect["honest"]:
            reference_submission(submissions / name)
        for name, target in expect["links"].items():
            os.symlink(target, submissions / name)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "pr: links among the submissions")
        for name in expect["links"]:  # git really holds links
            assert git(repo, "ls-files", "-s", f"submissions/{name}").startswith("120000")
        out, summary, junit = work / "out", work / "summary.md", work / "junit.xml"
        run = run_grader(["ci", "--base", base, "--submissions", "submissions",
                          "--min-score", str(expect["min_score"]), "--junit", str(junit),
                          "--out", str(out), "-j", "2"],
                         cwd=repo, env={"GITHUB_STEP_SUMMARY": str(summary),
                                        "GITHUB_ACTIONS": "true"})
        print(f"\n{attack.name}: grader ci in {run.seconds:.1f} s, exit {run.code}, "
              f"peak RSS of the grader tree {run.peak_mib:.0f} MiB")
        texts = {"stdout": run.stdout, "stderr": run.stderr}
        texts |= {path.name: path.read_text(encoding="utf-8")
                  for path in (summary, junit, out / "results.json", out / "gradebook.csv")}
        runs[attack.name] = CiRun(run, load_results(out), texts, canary)
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("attack", of_setup("ci_repository"), ids=lambda p: p.name)
def test_ci_refuses_symlinked_submissions(attack: Path, ci_runs: dict[str, CiRun]) -> None:
    expect = expectations(attack)
    ci = ci_runs[attack.name]
    assert ci.run.code == expect["exit_status"], ci.run.stderr[-3000:]
    assert "Traceback" not in ci.run.stderr
    links = {name.removesuffix(".zip"): name for name in expect["links"]}
    assert set(ci.results) == set(links) | set(expect["honest"])  # classmates not graded
    for student, link in links.items():
        result = ci.results[student]
        assert refused(result, expect["message"]), (student, result["message"])
        assert f"{link} is a symbolic link" in result["message"], result["message"]
        assert student in ci.texts["summary.md"]  # the refusal is shown in the job summary
    for student in expect["honest"]:
        assert full_marks(ci.results[student]), ci.results[student]
    assert ci.run.survivors == []


@pytest.mark.slow
@pytest.mark.parametrize("attack", of_setup("ci_repository"), ids=lambda p: p.name)
def test_no_classmate_file_reaches_any_output(attack: Path, ci_runs: dict[str, CiRun]) -> None:
    ci = ci_runs[attack.name]
    assert set(ci.texts) >= {"stdout", "summary.md", "junit.xml", "results.json"}
    leaked = [where for where, text in ci.texts.items() if ci.canary in text]
    assert leaked == []


# ---------------------------------------------------------------- archives built here


def bomb(path: Path, entries: int, declare: int | None = None) -> None:
    """A valid zip of `entries` empty stored files named 0, 1, ...: all directory, no data.

    Past 65535 entries the count is in a ZIP64 record, as zip tools write it; with
    `declare` the end record states that count instead (zipfile does not check it).
    """
    local, central = bytearray(), bytearray()
    for i in range(entries):
        name = str(i).encode()
        offset = len(local)
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0,
                             len(name), 0) + name
        central += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, 20, 0, 0, 0, 0, 0,
                               0, 0, 0, len(name), 0, 0, 0, 0, 0, offset) + name
    zip64 = declare is None and entries > 0xFFFF
    count = min(entries, 0xFFFF) if declare is None else declare
    with open(path, "wb") as out:
        out.write(local)
        out.write(central)
        if zip64:
            out.write(struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries,
                                  entries, len(central), len(local)))
            out.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, len(local) + len(central), 1))
        out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central),
                              len(local), 0))


def build_zip(attack: Path, folder: Path) -> Path:
    expect = expectations(attack)
    path = folder / f"{attack.name}.zip"
    if "entries" in expect:
        bomb(path, expect["entries"], expect.get("declare"))
        return path
    prefix = expect.get("prefix", "")
    with zipfile.ZipFile(path, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": on purpose
        for a in catalog.assignments():
            archive.writestr(prefix + a.file, a.solution.read_bytes())
        for name, text in expect.get("extra", {}).items():
            archive.writestr(name, text)
    return path


@dataclass
class ZipBatch:
    run: Run
    results: dict[str, dict[str, Any]]
    alone: dict[str, Run]
    sizes: dict[str, int]


@pytest.fixture(scope="module")
def zip_batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZipBatch]:
    class_dir = tmp_path_factory.mktemp("zips") / "class"
    class_dir.mkdir()
    reference_submission(class_dir / HONEST)
    attacks = of_setup("built_zip")
    sizes = {a.name: build_zip(a, class_dir).stat().st_size for a in attacks}
    out = class_dir.parent / "out"
    run = run_grader(["grade", "all", str(class_dir), "--out", str(out), "-j", "2"],
                     cwd=class_dir.parent)
    alone = {}
    for attack in attacks:
        if "max_rss_mib" in expectations(attack):
            alone[attack.name] = run_grader(
                ["grade", str(class_dir / f"{attack.name}.zip"), "--out",
                 str(class_dir.parent / f"out-{attack.name}")], cwd=class_dir.parent)
    for name, size in sizes.items():
        extra = (f", alone: {alone[name].seconds:.1f} s, peak RSS {alone[name].peak_mib:.0f} MiB"
                 if name in alone else "")
        print(f"\n{name}: {size / (1 << 20):.1f} MB archive{extra}")
    print(f"zip class: {run.seconds:.1f} s, peak RSS of the grader tree {run.peak_mib:.0f} MiB")
    yield ZipBatch(run, load_results(out), alone, sizes)
    shutil.rmtree(class_dir, ignore_errors=True)  # the bomb is big on disk


@pytest.mark.slow
def test_zip_batch_finishes_and_the_honest_student_keeps_full_marks(zip_batch: ZipBatch) -> None:
    assert zip_batch.run.code == 0, zip_batch.run.stderr[-3000:]
    assert "Traceback" not in zip_batch.run.stderr
    assert set(zip_batch.results) == {HONEST} | {a.name for a in of_setup("built_zip")}
    assert full_marks(zip_batch.results[HONEST])
    assert zip_batch.run.survivors == []


@pytest.mark.slow
@pytest.mark.parametrize("attack", of_setup("built_zip"), ids=lambda p: p.name)
def test_built_zip_is_refused_naming_the_cause(attack: Path, zip_batch: ZipBatch) -> None:
    expect = expectations(attack)
    result = zip_batch.results[attack.name]
    assert refused(result, expect["message"]), result["message"]
    assert expect["message"].lower() in result["message"].lower()


@pytest.mark.slow
@pytest.mark.parametrize("attack", [a for a in of_setup("built_zip")
                                    if "max_rss_mib" in expectations(a)], ids=lambda p: p.name)
def test_built_zip_is_refused_within_its_memory_bound(attack: Path, zip_batch: ZipBatch) -> None:
    run = zip_batch.alone[attack.name]
    assert run.code == 0, run.stderr[-3000:]
    assert run.peak_mib < expectations(attack)["max_rss_mib"], run.peak_mib
    assert run.survivors == []
