"""Error carried forward: what wiki_stats imports from timing.py is graded as if correct."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import catalog
from grader.runner import put_stand_ins

STAND_IN = Path(catalog.SUITES_DIR / "timing" / "stand_in.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("make", [
    lambda p: p.write_text("def async_timeit(f):\n    return f\n", encoding="utf-8"),
    lambda p: p.symlink_to("/etc/passwd"),
    lambda p: p.mkdir(),
    lambda p: None,  # missing
], ids=["flawed", "symlink", "folder", "missing"])
def test_wiki_stats_copy_gets_the_stand_in_timing(tmp_path: Path, make) -> None:
    make(tmp_path / "timing.py")
    (tmp_path / "wiki_stats.py").write_text("# the student's", encoding="utf-8")
    put_stand_ins(catalog.get("wiki_stats"), tmp_path)
    assert (tmp_path / "timing.py").read_text(encoding="utf-8") == STAND_IN
    assert (tmp_path / "wiki_stats.py").read_text(encoding="utf-8") == "# the student's"


def test_other_assignments_keep_the_students_files(tmp_path: Path) -> None:
    (tmp_path / "timing.py").write_text("# the student's", encoding="utf-8")
    put_stand_ins(catalog.get("timing"), tmp_path)
    assert (tmp_path / "timing.py").read_text(encoding="utf-8") == "# the student's"
