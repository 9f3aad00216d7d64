"""The box (grader.sandbox.view and the bwrap mounts): what the worker sees, and its disk.

What a submission may import comes from the assignments' contract (aiohttp and
the standard library; aioresponses for the handout's tests); everything else of
the install stays out. The run's folder is a capped tmpfs at bwrap level; the
grader's scratch copies go as soon as they are graded.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from grader import catalog, grading, runner, sandbox
from grader.sandbox import Limits
from grader.submission import submission_for
from tests.conftest import reference_submission

needs_box = pytest.mark.skipif(sandbox.level() != "bwrap" or not sandbox.detect.setup().tmpfs_size,
                               reason=f"needs bubblewrap 0.7+ (here: {sandbox.isolation()})")


def boxed(code: str, workdir: Path, **limits: int) -> sandbox.Outcome:
    """Run Python code as the worker runs: the grader's interpreter, a scrubbed environment."""
    argv = [sys.executable, "-s", "-P", "-c", textwrap.dedent(code)]
    return sandbox.run(argv, workdir=workdir, limits=Limits(wall_seconds=30, **limits),
                       env={"PATH": "/usr/bin:/bin"})


def test_the_allowed_distributions_and_what_they_require() -> None:
    names = {d.metadata["Name"].lower() for d in sandbox.view.distributions(sandbox.view.ALLOWED)}
    assert {"aiohttp", "aioresponses", "yarl", "multidict", "aiosignal"} <= names
    assert names.isdisjoint({"grader", "pytest", "pip", "setuptools", "jsonschema", "click"})


def test_the_view_holds_only_the_allowed_files() -> None:
    view = sandbox.view.view()
    site = view.site_packages()
    tops = {p.name.split("-")[0].split(".")[0] for p in site.iterdir()}
    assert {"aiohttp", "aioresponses", "yarl", "multidict"} <= tops
    assert tops.isdisjoint({"grader", "pytest", "_pytest", "pip", "setuptools", "__editable__",
                            "jsonschema", "click"}), tops
    assert not list(site.glob("*.pth"))  # nothing runs at start-up
    assert (view.folder / "pyvenv.cfg").read_text().count("include-system-site-packages = false")


@needs_box
def test_a_submission_imports_what_the_contract_allows_and_nothing_else(
        tmp_path: Path) -> None:
    code = """
        import importlib, json
        result = {}
        for name in ["aiohttp", "aioresponses", "asyncio", "json", "sqlite3", "ssl",
                     "grader", "pytest", "_pytest", "pip", "setuptools", "jsonschema", "click",
                     "numpy", "requests", "__editable___grader_0_1_0_finder"]:
            try:
                importlib.import_module(name)
                result[name] = True
            except ImportError:
                result[name] = False
        print(json.dumps(result))
    """
    outcome = boxed(code, tmp_path)
    assert outcome.returncode == 0, outcome.stderr
    imported = json.loads(outcome.stdout)
    allowed = ["aiohttp", "aioresponses", "asyncio", "json", "sqlite3", "ssl"]
    assert [name for name in allowed if not imported[name]] == []
    assert [name for name, ok in imported.items() if ok and name not in allowed] == []


@needs_box
def test_the_install_and_the_course_are_not_in_the_box(tmp_path: Path) -> None:
    course = catalog.course_dir().resolve()
    prefix = Path(sys.prefix)
    code = f"""
        import os, json
        paths = [{str(course)!r}, {str(course / "solutions")!r}, {str(catalog.PACKAGE_DIR)!r},
                 {str(prefix / "lib")!r}, {str(Path(sys.base_prefix))!r}]
        print(json.dumps({{p: sorted(os.listdir(p)) if os.path.isdir(p) else None
                           for p in paths}}))
    """
    outcome = boxed(code, tmp_path)
    assert outcome.returncode == 0, outcome.stderr
    seen = json.loads(outcome.stdout)
    assert seen[str(course / "solutions")] is None
    assert seen[str(catalog.PACKAGE_DIR)] is None
    assert seen[str(course)] in (None, [], [prefix.name])  # at most the way to the venv
    lib = seen[str(prefix / "lib")]
    assert lib == [f"python{sys.version_info.major}.{sys.version_info.minor}"], lib
    assert set(seen[str(Path(sys.base_prefix))]) <= {"bin", "lib"}


@needs_box
def test_the_folder_is_capped_and_the_host_copy_never_changes(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text("VALUE = 1\n")
    cap = 8 << 20
    code = """
        import os
        print(open("mine.py").read().strip())
        with open("mine.py", "a") as f:
            f.write("MORE = 2\\n")
        written = 0
        try:
            with open("fill.bin", "wb") as f:
                while written < 64 << 20:
                    f.write(b"x" * (1 << 20))
                    f.flush()
                    written += 1 << 20
        except OSError as exc:
            print(exc.strerror)
        print(written >> 20)
        print(os.path.exists("/run/box/original/mine.py") and os.access("/run/box", os.R_OK))
    """
    outcome = boxed(code, tmp_path, folder_bytes=cap)
    assert outcome.returncode == 0, outcome.stderr
    first, error, written, original = outcome.stdout.split("\n")[:4]
    assert first == "VALUE = 1"  # the submission's files are in the folder
    assert error == runner.NO_SPACE
    assert 4 <= int(written) <= 8
    if os.geteuid() == 0:  # the host copy is under a folder the run's uid cannot enter
        assert original == "False"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.py"]
    assert (tmp_path / "mine.py").read_text() == "VALUE = 1\n"


def test_a_full_disk_is_named_as_the_students_quota() -> None:
    message = "could not import req.py: OSError: [Errno 28] No space left on device"
    worded = runner.explain_full_disk(message)
    if sandbox.level() == "bwrap" and sandbox.detect.setup().tmpfs_size:
        assert worded.startswith(message) and "disk quota" in worded
        assert runner.explain_full_disk(worded) == worded  # once
    else:  # no cap here: a full disk is the machine's, not a quota
        assert worded == message
    assert runner.explain_full_disk("ValueError: nope") == "ValueError: nope"


def test_each_scratch_copy_goes_as_soon_as_it_is_graded(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.export_setup()  # the /etc copy and the view are made once, elsewhere
    scratch = Path(tempfile.mkdtemp(prefix="gbs-"))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    students = [reference_submission(tmp_path / name) for name in ("ann", "bob", "cid")]
    left_when_done: dict[str, list[str]] = {}

    def copies() -> list[str]:
        return sorted(p.name for p in scratch.glob("grader-*") if (p / "submission").is_dir())

    def on_result(result: object) -> None:
        left_when_done[result.student] = copies()  # type: ignore[attr-defined]

    try:
        results = grading.grade([submission_for(s) for s in students], jobs=1,
                                on_result=on_result, only=["long_func"])
        assert [r.assignments["long_func"].score for r in results] == [20, 20, 20]
        remaining = [len(left_when_done[r.student]) for r in results]
        assert remaining == [2, 1, 0]  # each copy went when its submission was done
        assert copies() == []
    finally:
        monkeypatch.undo()
        shutil.rmtree(scratch, ignore_errors=True)
