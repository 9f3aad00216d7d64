"""The adversarial corpus of tests/adversarial: the sandbox and the verdict cannot be fooled.

Each attack folder is a submission whose one attacked file tries to escape the
sandbox, forge its verdict or take the batch down (see tests/adversarial/README.md);
the other files are the reference solutions. The whole class (every attack, an
honest reference submission and a "victim" submission the attacks try to delete)
is graded ONCE, in one batch of four jobs, then checked:

- every submission has a result and the grader never failed on its own;
- the attacked assignment scores no more than its honest parts earn (expect.toml),
  with words naming the cause; every other assignment keeps full marks;
- nothing outside the scratch copies changed (class folder, victim, canaries);
- no process of the batch survives it, and no secret of the grader leaks.

The attacks are real (they delete, kill, fork and flood), so they run only where
the grader's strongest isolation (bubblewrap) is available; elsewhere this module
is skipped rather than let them loose on the machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import stat
import tempfile
import threading
import time
import tomllib
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader import catalog, grading, sandbox
from grader.reports.feedback import render_check
from grader.reports.results_file import ResultsFile
from grader.results import SubmissionResult
from grader.submission import discover
from tests.conftest import reference_submission

pytestmark = pytest.mark.slow  # the whole attack class is graded once, in about two minutes

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "adversarial"
REFERENCE = "honest_reference"
VICTIM = "victim"
JOBS = 4
MARKER = "grader-adversarial-marker"  # in the fork attack's command lines, the threads' names
SECRET_NAME = "GRADER_TEST_SECRET"
ESCAPE = "grader-adversarial-escape"  # where zip entries climbing out with '..' would land
MAX_RESULT_BYTES = 200_000  # one submission's result, as JSON
SURVIVOR_GRACE = 3.0  # seconds for killed processes to be gone from /proc


def expectations(attack: Path) -> dict[str, Any]:
    return tomllib.loads((attack / "expect.toml").read_text(encoding="utf-8"))


ATTACKS = sorted(p for p in CORPUS.iterdir()
                 if (p / "expect.toml").is_file() and "kind" not in expectations(p))


# ---------------------------------------------------------------- building the class


def fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    return text


def attack_files(attack: Path, values: dict[str, str]) -> dict[str, bytes]:
    """The attack's own files, placeholders filled, in the encoding it asks for."""
    encoding = expectations(attack).get("encoding", "utf-8")
    return {p.name: fill(p.read_text(encoding="utf-8"), values).encode(encoding)
            for p in sorted(attack.glob("*.py"))}


def build_attack(attack: Path, class_dir: Path, values: dict[str, str]) -> None:
    """The reference solutions, then the attack's files (or links, or a zip) on top."""
    expect = expectations(attack)
    files = attack_files(attack, values)
    if "zip" in expect:
        with zipfile.ZipFile(class_dir / f"{attack.name}.zip", "w") as archive:
            for a in catalog.assignments():
                archive.writestr(f"{attack.name}/{a.file}", a.solution.read_bytes())
            for name, data in files.items():
                archive.writestr(f"{attack.name}/{name}", data)
            for entry in expect["zip"]:
                archive.writestr(entry, "ESCAPED = True\n")
        return
    folder = reference_submission(class_dir / attack.name)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    for name, target in expect.get("symlinks", {}).items():
        (folder / name).unlink(missing_ok=True)
        os.symlink(fill(target, values), folder / name)


def fingerprint(root: Path) -> dict[str, Any]:
    """Every entry under `root` (links not followed): kind, mode, owner, content hash."""
    found: dict[str, Any] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            info = path.lstat()
            key = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                found[key] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                found[key] = ("file", stat.S_IMODE(info.st_mode), info.st_uid, digest)
            else:
                found[key] = ("dir", stat.S_IMODE(info.st_mode), info.st_uid)
    return found


# ---------------------------------------------------------------- watching from outside


class LoopbackServer:
    """A TCP server on the host's loopback (and UDP on the same port) recording what arrives."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[tuple[str, bytes]] = []
        self.udp: socket.socket | None = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.udp.bind(("127.0.0.1", self.port))
            self.udp.setblocking(False)
        except OSError:  # the UDP port is taken: TCP is what the attack is about
            self.udp.close()
            self.udp = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    data = conn.recv(1 << 16)
                except OSError:
                    data = b""
            self.received.append((str(peer), data))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        while self.udp is not None:
            try:
                data, peer = self.udp.recvfrom(1 << 16)
            except OSError:
                self.udp.close()
                self.udp = None
                break
            self.received.append((f"udp {peer}", data))


@dataclass
class Proc:
    pid: int
    ppid: int
    uid: int
    state: str
    cmdline: str
    cgroup: str

    def __str__(self) -> str:
        return f"pid {self.pid} uid {self.uid} [{self.state}] {self.cmdline[:120]!r}"


def processes() -> Iterator[Proc]:
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat_line = Path(entry.path, "stat").read_text()
            status = Path(entry.path, "status").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ")
            cgroup = Path(entry.path, "cgroup").read_text()
        except OSError:
            continue
        fields = stat_line.rsplit(")", 1)[1].split()
        uid = next(int(line.split()[1]) for line in status.splitlines()
                   if line.startswith("Uid:"))
        yield Proc(int(entry.name), int(fields[1]), uid, fields[0],
                   cmdline.decode(errors="replace"), cgroup)


def run_uids(pid: int) -> int:
    """The first of the 100 run uids grader process `pid` hands out (grader/sandbox/spawn.py)."""
    return sandbox.spawn._RUN_UID_BASE + (pid % 10_000) * 100


class ChildWatcher:
    """Records the test processes the batch starts: the children of our children (the zygote).

    A sandboxed run of test process P gets a uid of P's own range and a pids
    cgroup named grader-P-k (grader/sandbox/cgroups.py): what survives the batch is
    recognised by those, even after P itself is gone. It also notes whether a
    marked process (the fork attack's shells) was ever seen: the attack really ran.
    """

    def __init__(self) -> None:
        self.pids: set[int] = set()
        self.children: set[int] = set()
        self.saw_marker = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            for entry in os.scandir("/proc"):  # /proc/PID/stat only: this runs all along
                if not entry.name.isdigit():
                    continue
                try:
                    text = Path(entry.path, "stat").read_text()
                    comm, rest = text[text.index("(") + 1:].rsplit(")", 1)
                    parent = int(rest.split()[1])
                    if parent == me:  # the zygote (multiprocessing's fork server) among them
                        self.children.add(int(entry.name))
                        self.pids.add(int(entry.name))
                    elif parent in self.children:  # the test processes, forked by the zygote
                        self.pids.add(int(entry.name))
                    elif comm in ("sh", "dash", "bash") and not self.saw_marker:
                        self.saw_marker = MARKER.encode() in Path(entry.path,
                                                                  "cmdline").read_bytes()
                except (OSError, ValueError):
                    continue
            self._stop.wait(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def ours(self, proc: Proc) -> bool:
        """A process of one of our runs: the attacks' marker, its run cgroup, or its uid.

        Other helpers may grade at the same time: a process in another grader
        process's run cgroup is theirs, whatever its uid.
        """
        if MARKER in proc.cmdline:
            return True
        owner = re.search(r"/grader-(\d+)-\d+", proc.cgroup)
        if owner:
            return int(owner.group(1)) in self.pids
        return any(low <= proc.uid < low + 100 for low in map(run_uids, self.pids))

    def survivors(self) -> list[Proc]:
        """Live processes of the batch, waiting a little for killed ones to leave /proc."""
        deadline = time.monotonic() + SURVIVOR_GRACE
        while True:
            left = [p for p in processes() if p.pid != os.getpid() and p.state != "Z"
                    and self.ours(p)]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.1)

    def leftover_cgroups(self) -> list[str]:
        setup = sandbox.detect.setup()
        if setup.cgroup is None:
            return []
        return [str(path) for pid in self.pids
                for path in setup.cgroup.parent.glob(f"grader-{pid}-*")]


# ---------------------------------------------------------------- the graded class


@dataclass
class Graded:
    results: dict[str, SubmissionResult]
    seconds: float
    class_dir: Path
    out: Path
    before: dict[str, Any]
    after: dict[str, Any]
    canaries: dict[Path, str]
    survivors: list[Proc]
    cgroups: list[str]
    saw_marker: bool
    received: list[tuple[str, bytes]]
    secret: str


def watched_trees(class_dir: Path, outside: Path) -> dict[str, Path]:
    return {"class": class_dir, "outside": outside, "solutions": ROOT / "solutions",
            "corpus": CORPUS}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graded]:
    if sandbox.level() != "bwrap":
        pytest.skip("the attacks are real: they run only under bubblewrap "
                    f"(this machine: {sandbox.isolation()})")
    secret = f"s3cret-{uuid.uuid4().hex}"
    class_dir = tmp_path_factory.mktemp("class")
    outside = tmp_path_factory.mktemp("outside")
    out = tmp_path_factory.mktemp("out")
    canaries = {outside / "canary.txt": f"canary {secret}\n",
                Path(tempfile.gettempdir()) / f"grader-adversarial-canary-{uuid.uuid4().hex}":
                    f"canary {secret}\n"}
    server = LoopbackServer()
    saved = os.environ.get(SECRET_NAME)
    os.environ[SECRET_NAME] = secret
    try:
        for path, text in canaries.items():
            path.write_text(text, encoding="utf-8")
        values = {"PORT": str(server.port), "VICTIM": str(class_dir / VICTIM),
                  "CLASS_DIR": str(class_dir), "CANARIES": "|".join(map(str, canaries)),
                  "MARKER": MARKER}
        reference_submission(class_dir / REFERENCE)
        reference_submission(class_dir / VICTIM)
        for attack in ATTACKS:
            build_attack(attack, class_dir, values)
        trees = watched_trees(class_dir, outside)
        before = {name: fingerprint(root) for name, root in trees.items()}
        results_file = ResultsFile(out, isolation=sandbox.isolation())
        watcher = ChildWatcher()
        start = time.monotonic()
        try:
            results = grading.grade(discover(class_dir), jobs=JOBS, on_result=results_file.add)
        finally:
            watcher.stop()
        seconds = time.monotonic() - start
        survivors = watcher.survivors()
        after = {name: fingerprint(root) for name, root in trees.items()}
        server.close()
        print(f"\nadversarial class: {len(results)} submissions graded in {seconds:.1f} s "
              f"with {JOBS} jobs")
        yield Graded({r.student: r for r in results}, seconds, class_dir, out, before, after,
                     {path: path.read_text(encoding="utf-8") if path.is_file() else ""
                      for path in canaries},
                     survivors, watcher.leftover_cgroups(), watcher.saw_marker,
                     list(server.received), secret)
    finally:
        server.close()
        if saved is None:
            os.environ.pop(SECRET_NAME, None)
        else:
            os.environ[SECRET_NAME] = saved
        for path in canaries:
            path.unlink(missing_ok=True)


# ---------------------------------------------------------------- the whole batch


def test_corpus_covers_the_attacks() -> None:
    assert len(ATTACKS) >= 20, [a.name for a in ATTACKS]
    slugs = {a.slug for a in catalog.assignments()}
    for attack in ATTACKS:
        expect = expectations(attack)
        assert expect["attacked"] in slugs, attack.name
        assert expect.get("why"), f"{attack.name}: say why"
        files = {p.name for p in attack.glob("*.py")}
        attacked_file = catalog.get(expect["attacked"]).file
        assert files <= {attacked_file}, f"{attack.name}: attack only {attacked_file}"


def test_every_submission_has_a_result(graded: Graded) -> None:
    expected = {a.name for a in ATTACKS} | {REFERENCE, VICTIM}
    assert set(graded.results) == expected
    slugs = {a.slug for a in catalog.assignments()}
    for name, result in graded.results.items():
        assert set(result.assignments) == slugs, name


def test_the_grader_never_failed_on_its_own(graded: Graded) -> None:
    assert grading.internal_errors(graded.results.values()) == []
    blamed = [f"{name}/{t.id}: {t.message}" for name, r in graded.results.items()
              for a in r.assignments.values() for t in a.tests
              if t.message.startswith("the grader failed")]
    assert blamed == []


def test_honest_submissions_get_full_marks(graded: Graded) -> None:
    for name in (REFERENCE, VICTIM):
        for slug, a in graded.results[name].assignments.items():
            failed = [(t.id, t.message) for t in a.tests if t.status != "passed"]
            assert a.score == a.max_score, (name, slug, a.status, a.message, failed)


def test_nothing_outside_the_scratch_copies_changed(graded: Graded) -> None:
    for name in graded.before:
        before, after = graded.before[name], graded.after[name]
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        assert not changed, f"{name}: {changed[:20]}"


def test_canaries_outside_the_class_are_intact(graded: Graded) -> None:
    for path, text in graded.canaries.items():
        assert text == f"canary {graded.secret}\n", path


def test_zip_entries_did_not_escape(graded: Graded) -> None:
    bases = [graded.class_dir, Path(tempfile.gettempdir()) / "a" / "b", ROOT, Path.cwd()]
    landed = [str(folder / ESCAPE) for base in bases for folder in [base, *base.parents]
              if (folder / ESCAPE).exists()]
    assert landed == []


def test_no_process_survives_the_batch(graded: Graded) -> None:
    assert graded.saw_marker, "the fork attack's shells were never seen: did it run at all?"
    assert [str(p) for p in graded.survivors] == []
    assert graded.cgroups == []


def test_no_process_bears_the_attack_marker(graded: Graded) -> None:
    marked = [str(p) for p in processes() if MARKER in p.cmdline and p.pid != os.getpid()
              and p.state != "Z"]
    assert marked == []


def test_the_loopback_server_received_nothing(graded: Graded) -> None:
    assert graded.received == []


def test_the_secret_appears_nowhere(graded: Graded) -> None:
    texts = {path.relative_to(graded.out).as_posix(): path.read_text(encoding="utf-8")
             for path in graded.out.rglob("*") if path.is_file()}  # the store's files too
    for name, result in graded.results.items():
        texts[f"feedback of {name}"] = render_check(result, color=False)
        texts[f"result of {name}"] = json.dumps(result.to_dict(), ensure_ascii=False)
    assert "results.json" in texts and "gradebook.csv" in texts
    leaked = [where for where, text in texts.items() if graded.secret in text]
    assert leaked == []


def test_results_stay_small(graded: Graded) -> None:
    for name, result in graded.results.items():
        size = len(json.dumps(result.to_dict(), ensure_ascii=False).encode())
        assert size < MAX_RESULT_BYTES, (name, size)


# ---------------------------------------------------------------- attack by attack


def _messages(result: SubmissionResult, slug: str) -> str:
    assignment = result.assignments[slug]
    return "\n".join([assignment.message, *(t.message for t in assignment.tests)])


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda p: p.name)
def test_attack_scores_no_more_than_it_earns(attack: Path, graded: Graded) -> None:
    expect = expectations(attack)
    result = graded.results[attack.name]
    slug = expect["attacked"]
    assignment = result.assignments[slug]
    lost = [(t.id, t.status, t.message[:150]) for t in assignment.tests if t.status != "passed"]
    assert assignment.score <= expect["max_score"], (assignment.score, assignment.message, lost)
    assert assignment.score >= expect.get("min_score", 0), (assignment.score, assignment.message,
                                                            lost)
    if "status" in expect:
        assert assignment.status == expect["status"], (assignment.status, assignment.message)
    if "message" in expect:
        assert expect["message"].lower() in _messages(result, slug).lower(), \
            (assignment.message, lost)
    if "submission_message" in expect:
        assert expect["submission_message"].lower() in result.message.lower(), result.message


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda p: p.name)
def test_attack_does_not_spill_over(attack: Path, graded: Graded) -> None:
    expect = expectations(attack)
    result = graded.results[attack.name]
    for slug, a in result.assignments.items():
        if expect.get("rejects_submission"):  # refused whole: every assignment says why
            assert (a.status, a.score) == ("error", 0), (slug, a.status, a.message)
            assert expect["message"].lower() in a.message.lower(), (slug, a.message)
        elif slug != expect["attacked"]:
            failed = [(t.id, t.message[:150]) for t in a.tests if t.status != "passed"]
            assert a.score == a.max_score, (slug, a.status, a.message, failed)
