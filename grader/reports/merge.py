"""[parent] `grader merge`: combine OUT folders (shards, late or re-graded submissions) in one.

Outputs are only comparable when the same grader and the same hidden suites
produced them, so a difference in either is refused, never papered over.
A student found in several outputs keeps the newest result: the one with the
latest `graded_at` (the UTC time its grading finished, recorded per
submission). Results without a `graded_at` (files from before it existed),
or two results graded at the same moment, must agree, else the merge is refused.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from grader.reports.results_file import RESULTS_NAME, load_results, student_sort_key
from grader.results import SubmissionResult

_MUST_AGREE = {"suite_hash": "hidden suites (suite_hash)", "grader_version": "grader versions"}

Shard = tuple[Path, dict[str, Any], list[SubmissionResult]]


def _load_shard(folder: Path) -> Shard:
    folder = Path(folder)
    path = folder if folder.is_file() else folder / RESULTS_NAME
    if not path.is_file():
        raise ValueError(
            f"{folder}: no {RESULTS_NAME} here — "
            "pass the --out folders of `grader grade all --shard K/N` runs"
        )
    meta, results = load_results(path)
    return folder, meta, results


def _common_meta(shards: list[Shard]) -> dict[str, Any]:
    """The top-level fields every shard shares; isolation lists each kind the shards used."""
    meta: dict[str, Any] = {}
    for key, label in _MUST_AGREE.items():
        values = {shard_meta[key] for _, shard_meta, _ in shards}
        if len(values) > 1:
            found = "; ".join(f"{folder}: {shard_meta[key]}" for folder, shard_meta, _ in shards)
            raise ValueError(f"cannot merge results graded with different {label}: {found}")
        meta[key] = values.pop()
    kinds = {shard_meta.get("isolation", "") for _, shard_meta, _ in shards}
    meta["isolation"] = ", ".join(sorted(kind for kind in kinds if kind))
    return meta


def _verdicts(result: SubmissionResult) -> dict[str, Any]:
    """What a result says about the student; how long the suites took, and when, are not."""
    data = result.to_dict()
    data.pop("graded_at", None)
    data.pop("content_hash", None)
    for assignment in data["assignments"].values():
        assignment.pop("duration", None)
    return data


def _graded_at(result: SubmissionResult) -> datetime | None:
    """When the result was made; None when its file did not say (validated: ISO 8601)."""
    return datetime.fromisoformat(result.graded_at) if result.graded_at else None


def _newer(first: SubmissionResult, second: SubmissionResult) -> SubmissionResult | None:
    """The newer of two results of one student, or None when their times cannot tell."""
    when_first, when_second = _graded_at(first), _graded_at(second)
    if when_first is None or when_second is None or when_first == when_second:
        return None
    return second if when_second > when_first else first


def _combine(shards: list[Shard]) -> list[SubmissionResult]:
    chosen: dict[str, tuple[Path, SubmissionResult]] = {}
    for folder, _, results in shards:
        for result in results:
            if result.student not in chosen:
                chosen[result.student] = (folder, result)
                continue
            first_folder, first = chosen[result.student]
            newer = _newer(first, result)
            if newer is not None:
                chosen[result.student] = (folder, result) if newer is result else (
                    first_folder, first)
            elif _verdicts(first) != _verdicts(result):
                raise ValueError(
                    f"student {result.student!r} appears in {first_folder} and {folder} "
                    "with different results and no way to tell which is newer (no or equal "
                    "graded_at): grade them again in one run"
                )
    return sorted((result for _, result in chosen.values()), key=student_sort_key)


def merge_with_meta(outputs: list[Path]) -> tuple[dict[str, Any], list[SubmissionResult]]:
    """The merged submissions and the shared top-level fields to write them under."""
    if not outputs:
        raise ValueError("nothing to merge: name at least one output folder")
    shards = [_load_shard(folder) for folder in outputs]
    return _common_meta(shards), _combine(shards)


def merge(outputs: list[Path]) -> list[SubmissionResult]:
    """All submissions of the outputs, sorted by student; a student found twice: the newest."""
    return merge_with_meta(outputs)[1]
