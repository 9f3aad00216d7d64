"""Which submission folders a pull request added or changed, from `git diff`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePosixPath

from grader.submission import Submission, SubmissionError, submission_for


class GitError(Exception):
    """git could not answer (not a repository, unknown ref): a usage problem."""


def default_base() -> str:
    """The pull request's base branch on GitHub Actions, else origin/main."""
    base = os.environ.get("GITHUB_BASE_REF")
    return f"origin/{base}" if base else "origin/main"


def changed_paths(base: str) -> list[str]:
    """Paths changed between the merge base of `base` and HEAD (repo-relative, POSIX)."""
    proc = subprocess.run(
        ["git", "diff", "--name-only", "-z", f"{base}...HEAD"],
        capture_output=True, check=False,
    )
    if proc.returncode != 0:
        raise GitError(f"git diff against {base} failed: "
                       f"{proc.stderr.decode(errors='replace').strip()}")
    return [p for p in proc.stdout.decode("utf-8", errors="replace").split("\0") if p]


def repo_root() -> Path:
    proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise GitError("not inside a git repository")
    return Path(proc.stdout.strip())


def changed_submissions(base: str, submissions_dir: Path) -> list[Submission]:
    """Submissions (folders or .zip) directly under `submissions_dir` touched since `base`."""
    root = repo_root()
    prefix = PurePosixPath(os.path.relpath(submissions_dir.resolve(), root))
    names: set[str] = set()
    for path in changed_paths(base):
        parts = PurePosixPath(path).parts
        if parts[: len(prefix.parts)] == prefix.parts and len(parts) > len(prefix.parts):
            names.add(parts[len(prefix.parts)])
    found = []
    for name in sorted(names):
        candidate = submissions_dir / name
        if candidate.exists():  # a deleted submission is not graded
            try:
                found.append(submission_for(candidate))
            except SubmissionError:
                continue
    return found
