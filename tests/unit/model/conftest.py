"""Fixtures shared by the model tests: small, fast settings and a fitted model on the mixed frame."""

from __future__ import annotations

import pytest

from synthgan import Synthesizer
from tests.conftest import make_mixed_frame

FAST = {"epochs": 1, "batch_size": 100, "pac": 10, "verbose": False, "device": "cpu"}


@pytest.fixture(scope="module")
def mixed():
    return make_mixed_frame(n=300, nulls=True)


@pytest.fixture(scope="module")
def mixed_model(mixed):
    return Synthesizer(random_state=0, **{**FAST, "epochs": 2}).fit(mixed)
