"""Attacks on the box itself (kind = "box" in tests/adversarial): the disk, and the install.

Each attack is graded by the real command line (`python -m grader grade all`) in a
process of its own whose TMPDIR is a folder of the test's, so the grader's whole
scratch area is known: its size is watched while the batch runs, and it must be
empty when the grader exits.

- probe = "disk": the attacked file fills its folder. The host disk under the
  scratch area must not grow past the folder's cap (sandbox.Limits.folder_bytes).
- probe = "install": the grader runs from an install `layout` built for real
  ("editable": this repository's venv; "git-editable": a venv whose prefix holds a
  copy of the checkout under src/grader, installed editable from there by pip,
  as `pip install -e git+URL#egg=grader` leaves it). The attacked file searches
  the whole filesystem it can see for the course; it must find nothing, while
  the same search outside the box finds the reference solutions (the control).

Every batch must finish, the honest submission keeps full marks, the attacked
assignment scores no more than expect.toml says, and no process of the batch
survives it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader import catalog, sandbox
from tests.conftest import reference_submission

pytestmark = pytest.mark.slow  # each probe grades a small class with the real CLI

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "adversarial"
KIND = "box"
REFERENCE = "honest_reference"
COURSE_FOLDERS = ("solutions", "tests", "examples", "grader")  # grader/ holds assignments/
NOT_SECRET = ("grader/worker/",)  # the worker's own code runs in the box by design
MIN_NEEDLE_BYTES = 100  # smaller files (empty __init__.py) match too much to mean anything
GRADE_SECONDS = 600
PURELIB = "import sysconfig; print(sysconfig.get_path('purelib'))"
SURVIVOR_GRACE = 3.0


def expectations(attack: Path) -> dict[str, Any]:
    return tomllib.loads((attack / "expect.toml").read_text(encoding="utf-8"))


ATTACKS = sorted(p for p in CORPUS.iterdir()
                 if (p / "expect.toml").is_file() and expectations(p).get("kind") == KIND)


SOLUTIONS = {f"solutions/{a.slug}/{a.file}" for a in catalog.assignments()}


def needs_bwrap() -> None:
    if sandbox.level() != "bwrap":
        pytest.skip(f"the box's promises hold at bwrap level (here: {sandbox.isolation()})")


# ---------------------------------------------------------------- install layouts


def editable_layout(tmp: Path) -> tuple[Path, Path]:
    """This repository's own install: (its interpreter, the checkout)."""
    return Path(sys.executable), ROOT


def git_editable_layout(tmp: Path) -> tuple[Path, Path]:
    """What `pip install -e git+URL#egg=grader` leaves: the checkout in <venv>/src/grader.

    The checkout is a copy of this one's files; the venv gets the grader installed
    editable from it by pip (as pip does after cloning), and its dependencies as
    this repository's venv has them (copied in: no index needed).
    """
    venv = tmp / "venv"
    base = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)], check=True)
    checkout = venv / "src" / "grader"
    ignore = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", ".ruff_cache")
    shutil.copytree(ROOT, checkout, ignore=ignore)
    python = venv / "bin" / "python"
    site, deps = (subprocess.run([str(p), "-c", PURELIB], capture_output=True, text=True,
                                 check=True).stdout.strip() for p in (python, sys.executable))
    shutil.copytree(deps, site, dirs_exist_ok=True, symlinks=True,
                    ignore=shutil.ignore_patterns("__editable__*", "grader-*", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "-e", str(checkout)],
                   check=True, capture_output=True)
    where = subprocess.run([str(python), "-c", "import grader; print(grader.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp).stdout
    assert Path(where.strip()).is_relative_to(checkout), where  # the layout is what it claims
    return python, checkout


LAYOUTS = {"editable": editable_layout, "git-editable": git_editable_layout}


def needles(checkout: Path) -> dict[str, str]:
    """sha256 -> label of every file of the course and of the grader's source."""
    found = {}
    for top in COURSE_FOLDERS:
        for path in sorted((checkout / top).rglob("*")):
            label = str(path.relative_to(checkout))
            if (not path.is_file() or path.is_symlink() or "__pycache__" in path.parts
                    or label.startswith(NOT_SECRET)
                    or not MIN_NEEDLE_BYTES <= path.stat().st_size <= 2 << 20):
                continue
            found.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), label)
    return found


# ---------------------------------------------------------------- grading a class


class ScratchWatch:
    """The peak disk usage of the grader's scratch copies, polled while the batch runs.

    The grader's /etc copy and its view of Python (hard links to installed
    files) are left out: they are made once per grader process, not per run.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def usage(self) -> int:
        total = 0
        for top in self.root.glob("grader-*"):
            if top.name.startswith(("grader-etc-", "grader-view-")):
                continue
            for folder, _dirs, files in os.walk(top):
                for name in files:
                    try:
                        total += os.lstat(os.path.join(folder, name)).st_blocks * 512
                    except OSError:
                        continue
        return total

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.usage())
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


@dataclass
class Graded:
    results: dict[str, Any]  # student -> its entry of results.json
    returncode: int
    stderr: str
    peak_scratch: int
    left_in_scratch: list[str]
    survivors: list[str]
    seconds: float


def fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    return text


def build_class(attack: Path, class_dir: Path, values: dict[str, str], *,
                full_submission: bool) -> None:
    reference_submission(class_dir / REFERENCE)
    folder = class_dir / attack.name
    if full_submission:
        reference_submission(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for path in attack.glob("*.py"):
        (folder / path.name).write_text(fill(path.read_text(encoding="utf-8"), values),
                                        encoding="utf-8")


def survivors(marker: str) -> list[str]:
    """Live processes whose command line names the batch's scratch area."""
    deadline = time.monotonic() + SURVIVOR_GRACE
    while True:
        left = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes()
                state = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if marker.encode() in cmdline and state != "Z":
                left.append(f"{entry.name}: {cmdline[:120]!r}")
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A short TMPDIR for the grader: its Unix socket paths must stay under 108 bytes."""
    path = Path(tempfile.mkdtemp(prefix="gbx-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def grade_class(python: Path, class_dir: Path, out: Path, scratch: Path) -> Graded:
    """`python -m grader grade all CLASS` with its TMPDIR in `scratch`."""
    env = {**os.environ, "TMPDIR": str(scratch)}
    env.pop("GRADER_SANDBOX_SETUP", None)
    watch = ScratchWatch(scratch)
    start = time.monotonic()
    try:
        proc = subprocess.run([str(python), "-m", "grader", "grade", "all", str(class_dir),
                               "--out", str(out), "-j", "2"], capture_output=True, text=True,
                              env=env, cwd=out.parent, timeout=GRADE_SECONDS)
    finally:
        watch.stop()
    seconds = time.monotonic() - start
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    results = {entry["student"]: entry for entry in data["submissions"]}
    return Graded(results, proc.returncode, proc.stderr[-3000:], watch.peak,
                  sorted(p.name for p in scratch.iterdir()), survivors(str(scratch)), seconds)


# ---------------------------------------------------------------- the checks


def check_batch(attack: Path, graded: Graded, *, full_submission: bool) -> dict[str, Any]:
    """What every attack must get; returns the attacked assignment's entry."""
    expect = expectations(attack)
    assert set(graded.results) == {REFERENCE, attack.name}, graded.stderr
    honest = graded.results[REFERENCE]["assignments"]
    for slug, entry in honest.items():
        assert entry["score"] == entry["max_score"], (slug, entry["message"], graded.stderr)
    mine = graded.results[attack.name]["assignments"]
    attacked = mine[expect["attacked"]]
    assert attacked["score"] <= expect["max_score"], attacked
    if "status" in expect:
        assert attacked["status"] == expect["status"], attacked["message"]
    texts = "\n".join([attacked["message"], *(t["message"] for t in attacked["tests"])])
    assert expect["message"].lower() in texts.lower(), attacked["message"]
    if full_submission:
        for slug, entry in mine.items():
            if slug != expect["attacked"]:
                assert entry["score"] == entry["max_score"], (slug, entry["message"])
    assert "internal grader error" not in json.dumps(graded.results)
    assert graded.survivors == []
    assert graded.left_in_scratch == [], "scratch copies outlived the batch"
    return attacked


@pytest.mark.parametrize("attack", [a for a in ATTACKS if expectations(a)["probe"] == "disk"],
                         ids=lambda p: p.name)
def test_disk_fill_costs_only_its_assignment(attack: Path, tmp_path: Path,
                                             scratch: Path) -> None:
    needs_bwrap()
    class_dir, out = tmp_path / "class", tmp_path / "out"
    build_class(attack, class_dir, {}, full_submission=True)
    graded = grade_class(Path(sys.executable), class_dir, out, scratch)
    attacked = check_batch(attack, graded, full_submission=True)
    cap = sandbox.Limits(wall_seconds=0).folder_bytes
    wrote = int(attacked["message"].split("(wrote ")[1].split(" MiB")[0])
    submission = sum(p.stat().st_size for p in (class_dir / attack.name).iterdir())
    print(f"\ndisk fill: the attack wrote {wrote} MiB into a {cap >> 20} MiB folder; "
          f"host scratch area peaked at {graded.peak_scratch / 1e6:.2f} MB; "
          f"batch {graded.seconds:.1f} s")
    assert (cap - submission) >> 20 >= wrote >= (cap >> 20) - 8, "it filled the cap, no more"
    assert graded.peak_scratch < cap, "writes reached the host disk"


@pytest.mark.parametrize("attack", [a for a in ATTACKS if expectations(a)["probe"] == "install"],
                         ids=lambda p: p.name)
def test_the_course_is_nowhere_in_the_box(attack: Path, tmp_path: Path,
                                          scratch: Path) -> None:
    needs_bwrap()
    python, checkout = LAYOUTS[expectations(attack)["layout"]](tmp_path / "layout")
    secret = needles(checkout)
    labels = set(secret.values())
    assert SOLUTIONS <= labels
    values = {"NEEDLES": json.dumps(secret).encode().hex()}
    class_dir, out = tmp_path / "class", tmp_path / "out"
    build_class(attack, class_dir, values, full_submission=False)
    control_root = python.parent.parent if python.parent.parent != ROOT / ".venv" else ROOT
    control = json.loads(subprocess.run(
        [sys.executable, str(class_dir / attack.name / "req.py"), str(control_root)],
        capture_output=True, text=True, check=True).stdout)
    assert SOLUTIONS <= \
        {line.split(" at ")[0] for line in control["found"]}, "the control found nothing"
    graded = grade_class(python, class_dir, out, scratch)
    attacked = check_batch(attack, graded, full_submission=False)
    report = json.loads(attacked["message"].split("SEARCH ", 1)[1].split("\n")[0]
                        .rsplit("}", 1)[0] + "}")
    print(f"\n{attack.name}: the box showed {report['seen']} files, {report['hashed']} hashed, "
          f"complete={report['complete']}, found {report['found']}; control found "
          f"{len(control['found'])} course files under {control_root}; "
          f"batch {graded.seconds:.1f} s")
    assert report["found"] == []
    assert report["complete"], "the search ran out of time: it proves nothing"
    assert report["hashed"] > 1000, "it saw too little to be a search of the filesystem"
