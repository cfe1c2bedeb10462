"""Engine tests (Spark, Ray): marked ``engines``, left out of the default suite; CI installs the
extras and runs them in their own step (``pytest -m engines``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def engines_import_this_checkout():
    """Processes the engines start (Spark's Python workers, torchrun's) import synthgan from
    this checkout, as the test process does."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), before) if p)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Spark's workers: this interpreter
    yield
    if before is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = before
