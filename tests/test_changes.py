"""Which submissions a pull request touched (grader.changes), links and odd names included."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from grader import changes
from grader.submission import SubmissionError, prepare


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True,
                          env={**os.environ, **env}).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A course repository with alice in its base commit (tagged `base`)."""
    root = tmp_path / "course"
    (root / "submissions" / "alice").mkdir(parents=True)
    (root / "submissions" / "alice" / "req.py").write_text("ALICE = 1\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "tag", "base")
    monkeypatch.chdir(root)
    return root


def commit(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", "pr")


def test_links_a_pull_request_adds_are_listed_unresolved_and_refused(repo: Path,
                                                                     tmp_path: Path) -> None:
    subs = repo / "submissions"
    os.symlink(".", subs / "eve")
    os.symlink("alice", subs / "mallory")
    os.symlink("../nowhere", subs / "dangling")
    (subs / "carol").mkdir()
    (subs / "carol" / "req.py").write_text("CAROL = 1\n")
    commit(repo)
    found = changes.changed_submissions("base", Path("submissions"))
    assert [(s.student, s.source.name) for s in found] == [
        ("carol", "carol"), ("dangling", "dangling"), ("eve", "eve"), ("mallory", "mallory")]
    for i, submission in enumerate(found[1:]):
        dest = tmp_path / f"dest{i}"
        dest.mkdir()
        with pytest.raises(SubmissionError, match=f"{submission.source.name} is a symbolic link"):
            prepare(submission, dest)


def test_a_folder_name_that_is_not_utf8_is_still_found(repo: Path) -> None:
    folder = Path(os.fsdecode(os.fsencode(repo / "submissions") + b"/bad\xff"))
    folder.mkdir()
    (folder / "req.py").write_text("X = 1\n")
    commit(repo)
    [found] = changes.changed_submissions("base", Path("submissions"))
    assert os.fsencode(found.source.name) == b"bad\xff"
    assert found.student == "bad\\xff"


def test_a_submissions_folder_that_is_a_link_is_refused(repo: Path) -> None:
    os.symlink("submissions", repo / "linked")
    commit(repo)
    with pytest.raises(changes.GitError, match="linked is a symbolic link"):
        changes.changed_submissions("base", Path("linked"))
