"""How fast the grader gets through a class. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/grade_class.py [--students 16] [--jobs 1 2 4]

The class is made of copies of the demo class (all kinds of submissions:
correct, partial, missing files, a syntax error, an import that hangs).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from grader import catalog, grading, sandbox
from grader.submission import discover


def make_class(root: Path, students: int) -> Path:
    demo = sorted(p for p in catalog.demo_class_dir().iterdir()
                  if p.is_dir())
    folder = root / "class"
    for n in range(students):
        source = demo[n % len(demo)]
        shutil.copytree(source, folder / f"{n:03d}_{source.name}")
    return folder


def bench(folder: Path, jobs: int) -> None:
    submissions = discover(folder)
    started = time.perf_counter()
    results = grading.grade(submissions, jobs=jobs)
    wall = time.perf_counter() - started
    durations = [a.duration for r in results for a in r.assignments.values() if a.duration]
    print(f"-j {jobs}: {len(results)} submissions in {wall:6.1f} s "
          f"= {wall / len(results):5.2f} s each; "
          f"suite run median {statistics.median(durations):.2f} s, "
          f"max {max(durations):.2f} s over {len(durations)} runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=16)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, os.cpu_count() or 2])
    args = parser.parse_args()
    catalog.assignments()
    print(f"isolation: {sandbox.isolation()}; cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        folder = make_class(Path(tmp), args.students)
        for jobs in args.jobs:
            bench(folder, jobs)


if __name__ == "__main__":
    main()
