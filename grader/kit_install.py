"""[parent] The kit README's install line: the packages the public examples need, with the
grader's own bounds.

The bounds are read from the grader's installed metadata (pyproject.toml's
`dependencies`), never repeated here: a pin added there (aiohttp < 3.14, which
aioresponses breaks on) reaches the students' install line with the next handout.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# What `pytest test_example_*.py` in the kit imports.
KIT_PACKAGES = ("aiohttp", "aioresponses", "pytest", "pytest-asyncio")
_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _declared() -> list[str]:
    """The grader's requirements: installed metadata, else a clone's pyproject.toml."""
    try:
        return metadata.requires("grader") or []
    except metadata.PackageNotFoundError:
        project = tomllib.loads(_PYPROJECT.read_text(encoding="utf-8"))["project"]
        return list(project["dependencies"])


def grader_requirements() -> dict[str, Requirement]:
    """The grader's own run-time requirements (no extras), by canonical name."""
    found: dict[str, Requirement] = {}
    for text in _declared():
        requirement = Requirement(text)
        if requirement.marker is None:
            found[canonicalize_name(requirement.name)] = requirement
    return found


def kit_requirements() -> list[Requirement]:
    """The kit's packages with the grader's bounds, in KIT_PACKAGES order."""
    own = grader_requirements()
    return [own.get(canonicalize_name(name)) or Requirement(name) for name in KIT_PACKAGES]


def install_line() -> str:
    """`pip install "aiohttp<3.14,>=3.11" ...`: double quotes work in bash, PowerShell and cmd."""
    return "pip install " + " ".join(f'"{requirement}"' for requirement in kit_requirements())
