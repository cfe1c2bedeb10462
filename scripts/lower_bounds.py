"""Print a pip constraints file pinning every dependency to the lowest version pyproject claims.

    python3 scripts/lower_bounds.py > constraints.txt   # then: pip install -c constraints.txt .

Reads ``[project] dependencies`` and the ``test`` extra; every ``name>=X`` becomes ``name==X``.
torch is the exception (see TORCH_ON_THIS_MACHINE): only its CPU build lies on this machine's disk.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
TORCH_ON_THIS_MACHINE = "2.13.0"
"""Older torch releases on the package index are CUDA builds of several GB each; the oldest run
uses the CPU build at hand, so torch's lower bound (2.2) is claimed, not tested, here."""
LOWER_BOUND = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)")


def lower_bounds(pyproject: Path = PYPROJECT) -> dict[str, str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    pins = {}
    for requirement in requirements:
        match = LOWER_BOUND.match(requirement)
        if match is None:
            sys.exit(f"{pyproject}: {requirement!r} has no '>=' lower bound to pin.")
        pins[match.group(1).lower()] = match.group(3)
    pins["torch"] = TORCH_ON_THIS_MACHINE
    return pins


if __name__ == "__main__":
    for name, version in lower_bounds().items():
        print(f"{name}=={version}")
