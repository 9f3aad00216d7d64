"""[parent, test process] The results model: what grading one submission produces.

These classes mirror `results.json` (see grader/schema/results.schema.json)
one to one; reports only read them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from grader.worker.codec import cap

__all__ = ["cap"]  # the one cut both ends of the worker's channel make

# Caps on every text a record holds (characters). Much of it quotes the submission
# (names, exception messages, printed output), which may be any size: a record stays
# small whatever the student's code does, and the cut is said where it happened.
NAME_LIMIT = 300  # a folder name is at most 255 bytes: real names are never cut
MESSAGE_LIMIT = 2000
HINT_LIMIT = 1000
TITLE_LIMIT = 300
TIMELINE_LIMIT = 100  # [sent, answered] pairs a test keeps (grader/suites/web.py keeps as many)

Timeline = list[list[float | None]]  # [sent, answered] seconds from the call's start


TestStatus = Literal["passed", "failed", "error", "timeout", "skipped"]
AssignmentStatus = Literal["graded", "missing", "error"]


@dataclass
class TestResult:
    """One hidden test: its verdict and the feedback written for the student."""

    __test__ = False  # not a pytest test class, despite the name

    id: str  # "<slug>::<test name>"
    status: TestStatus
    points: float
    max_points: float
    message: str = ""  # what was observed and what was expected
    hint: str = ""  # what to try next
    title: str = ""  # the clause the test checks, as the student reads it (its docstring)
    # The requests of the run the test judged (long_func's and wiki_stats' overlap tests),
    # for the report's timeline picture; None for every other test.
    timeline: Timeline | None = None
    # Where the student's code failed (the deepest frame in the submission), for CI
    # annotations on the diff: a plain file name of the submission and a line; ""/0 unknown.
    file: str = ""
    line: int = 0

    def __post_init__(self) -> None:
        self.message = cap(self.message, MESSAGE_LIMIT)
        self.hint = cap(self.hint, HINT_LIMIT)
        self.title = cap(self.title, TITLE_LIMIT)
        if self.timeline is not None:
            self.timeline = self.timeline[:TIMELINE_LIMIT]
        self.file, self.line = checked_location(self.file, self.line)

    @property
    def name(self) -> str:
        return self.id.split("::", 1)[-1]

    @property
    def heading(self) -> str:
        """What a person sees as the test's name: its title, else its name."""
        return self.title or self.name


_WHERE = re.compile(r"([^/\\\n]{1,255}\.py), line ([1-9][0-9]{0,6})")


def checked_location(file: object, line: object) -> tuple[str, int]:
    """A file name and line fit for a report, or ("", 0): the worker that found them may lie."""
    if (isinstance(file, str) and isinstance(line, int) and not isinstance(line, bool)
            and _WHERE.fullmatch(f"{file}, line {line}") and file not in (".py", "..py")):
        return file, line
    return "", 0


def location_of(where: str) -> tuple[str, int]:
    """`("req.py", 12)` from the worker's `"req.py, line 12"`; ("", 0) for anything else."""
    match = _WHERE.fullmatch(where)
    return checked_location(match.group(1), int(match.group(2))) if match else ("", 0)


@dataclass
class AssignmentResult:
    """One assignment of one submission."""

    slug: str
    score: float
    max_score: float
    status: AssignmentStatus
    message: str = ""  # why the status is missing/error; empty when graded cleanly
    tests: list[TestResult] = field(default_factory=list)
    duration: float = 0.0  # seconds of wall time the hidden suite took

    def __post_init__(self) -> None:
        self.message = cap(self.message, MESSAGE_LIMIT)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["slug"]
        data["duration"] = round(self.duration, 3)
        for test in data["tests"]:
            for optional in ("title", "file", "line"):
                if not test[optional]:
                    del test[optional]  # optional in results.json: absent rather than empty
            if test["timeline"] is None:
                del test["timeline"]  # optional too: only the overlap tests keep one
        return data

    @classmethod
    def from_dict(cls, slug: str, data: dict[str, Any]) -> AssignmentResult:
        tests = [TestResult(**t) for t in data.get("tests", [])]
        fields = {k: v for k, v in data.items() if k != "tests"}
        return cls(slug=slug, tests=tests, **fields)


@dataclass
class SubmissionResult:
    """One student's submission: every assignment, in course order."""

    student: str
    assignments: dict[str, AssignmentResult]
    message: str = ""  # a problem with the submission as a whole (bad zip, ...)
    isolation: str = ""  # the sandbox level its code ran under (sandbox.LEVELS)
    syscall_filter: str = ""  # "seccomp" or "none": the filter its code ran under
    # What was graded and when (results_file's store reuses a result only for the same
    # content; `grader merge` keeps the newest): sha256 of the files after intake, and
    # the UTC time the grading finished. Empty when unknown (older files, unreadable hand-ins).
    content_hash: str = ""
    graded_at: str = ""
    language: str = ""  # the language its messages are in (i18n); "" in older files

    def __post_init__(self) -> None:
        self.student = cap(self.student, NAME_LIMIT)
        self.message = cap(self.message, MESSAGE_LIMIT)

    @property
    def score(self) -> float:
        return round(sum(a.score for a in self.assignments.values()), 2)

    @property
    def max_score(self) -> float:
        return sum(a.max_score for a in self.assignments.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "score": self.score,
            "max_score": self.max_score,
            "message": self.message,
            **({"isolation": self.isolation} if self.isolation else {}),
            **({"syscall_filter": self.syscall_filter} if self.syscall_filter else {}),
            **({"content_hash": self.content_hash} if self.content_hash else {}),
            **({"graded_at": self.graded_at} if self.graded_at else {}),
            **({"language": self.language} if self.language else {}),
            "assignments": {slug: a.to_dict() for slug, a in self.assignments.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        return cls(
            student=data["student"],
            message=data.get("message", ""),
            isolation=data.get("isolation", ""),
            syscall_filter=data.get("syscall_filter", ""),
            content_hash=data.get("content_hash", ""),
            graded_at=data.get("graded_at", ""),
            language=data.get("language", ""),
            assignments={
                slug: AssignmentResult.from_dict(slug, a)
                for slug, a in data["assignments"].items()
            },
        )
