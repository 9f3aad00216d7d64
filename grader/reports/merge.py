"""`grader merge`: combine the OUT folders of `grade all --shard K/N` runs into one result.

Shards are only comparable when the same grader and the same hidden suites
produced them, so a difference in either is refused, never papered over.
"""

from __future__ import annotations

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
    """What a result says about the student; how long the suites took is not part of it."""
    data = result.to_dict()
    for assignment in data["assignments"].values():
        assignment.pop("duration", None)
    return data


def _combine(shards: list[Shard]) -> list[SubmissionResult]:
    chosen: dict[str, tuple[Path, SubmissionResult]] = {}
    for folder, _, results in shards:
        for result in results:
            if result.student not in chosen:
                chosen[result.student] = (folder, result)
                continue
            first_folder, first = chosen[result.student]
            if _verdicts(first) != _verdicts(result):
                raise ValueError(
                    f"student {result.student!r} appears in {first_folder} and {folder} "
                    "with different results: grade them again in one run"
                )
    return sorted((result for _, result in chosen.values()), key=student_sort_key)


def merge_with_meta(outputs: list[Path]) -> tuple[dict[str, Any], list[SubmissionResult]]:
    """The merged submissions and the shared top-level fields to write them under."""
    if not outputs:
        raise ValueError("nothing to merge: name at least one output folder")
    shards = [_load_shard(folder) for folder in outputs]
    return _common_meta(shards), _combine(shards)


def merge(outputs: list[Path]) -> list[SubmissionResult]:
    """All submissions of the shard outputs, sorted by student; a student found twice must agree."""
    return merge_with_meta(outputs)[1]
