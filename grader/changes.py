"""[parent] Which submission folders a pull request added or changed, from `git diff`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePosixPath

from grader.submission import Submission, SubmissionError, distinct, submission_for


class GitError(Exception):
    """git could not answer (not a repository, unknown ref): a usage problem."""


def default_base() -> str:
    """The pull request's base branch on GitHub Actions, else origin/main."""
    base = os.environ.get("GITHUB_BASE_REF")
    return f"origin/{base}" if base else "origin/main"


def changed_paths(base: str) -> list[str]:
    """Paths changed between the merge base of `base` and HEAD (repo-relative, POSIX).

    With -z git writes names as raw bytes: they are decoded as the file system
    does (undecodable bytes kept as surrogate escapes), so each still names its file.
    """
    proc = subprocess.run(
        ["git", "diff", "--name-only", "--no-renames", "-z", f"{base}...HEAD"],
        capture_output=True, check=False,
    )
    if proc.returncode != 0:
        raise GitError(f"git diff against {base} failed: "
                       f"{proc.stderr.decode(errors='replace').strip()}")
    return [os.fsdecode(p) for p in proc.stdout.split(b"\0") if p]


def repo_root() -> Path:
    proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise GitError("not inside a git repository")
    return Path(proc.stdout.strip())


def _no_links_down_to(folder: Path, root: Path) -> None:
    """Refuse a submissions folder reached through a symbolic link inside the repository.

    A link is content a pull request can change: `submissions -> elsewhere` would
    move which folders get graded.
    """
    here = Path(os.path.abspath(folder))
    while here != root and root in here.parents:
        if here.is_symlink():
            raise GitError(f"{here.relative_to(root)} is a symbolic link: the submissions "
                           "folder must be a real folder of the repository")
        here = here.parent


def changed_submissions(base: str, submissions_dir: Path) -> list[Submission]:
    """Submissions directly under `submissions_dir` touched since `base`, named distinctly.

    A changed entry that is a symbolic link is listed all the same (even a
    dangling one), so that grading refuses it by name rather than skip it quietly.
    """
    root = Path(os.path.realpath(repo_root()))
    _no_links_down_to(submissions_dir, root)
    prefix = PurePosixPath(os.path.relpath(os.path.realpath(submissions_dir), root))
    names: set[str] = set()
    for path in changed_paths(base):
        parts = PurePosixPath(path).parts
        if parts[: len(prefix.parts)] == prefix.parts and len(parts) > len(prefix.parts):
            names.add(parts[len(prefix.parts)])
    found = []
    for name in sorted(names):
        candidate = submissions_dir / name
        if os.path.lexists(candidate):  # a deleted submission is not graded
            try:
                found.append(submission_for(candidate))
            except SubmissionError:
                continue
    return distinct(found)
