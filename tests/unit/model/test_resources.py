from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgan import InvalidDataError, Synthesizer
from synthgan.model import resources
from synthgan.model.resources import GIB, check_fit_memory, estimate_fit_memory


class TestEstimate:
    def test_counts_the_encoded_table_in_float32(self):
        estimate = estimate_fit_memory(1_000_000, {"a": 100, "b": 24}, (256, 256), 0)
        assert estimate.table_bytes == 4 * 1_000_000 * 124
        assert estimate.widest[0] == ("a", 100)
        assert estimate.peak_bytes > estimate.table_bytes

    def test_a_fit_that_fits_passes(self):
        check_fit_memory(estimate_fit_memory(1000, {"a": 10}, (8,), 0), available=GIB)
        check_fit_memory(estimate_fit_memory(10**9, {"a": 10**6}, (8,), 0), available=None)

    def test_a_fit_too_large_names_the_widest_column_and_the_fix(self):
        estimate = estimate_fit_memory(10**6, {"city": 300_000, "x": 11}, (256, 256), 0)
        with pytest.raises(InvalidDataError, match=r"'city' \(300,000 slots\).*pool its rare"):
            check_fit_memory(estimate, available=16 * GIB)


def test_a_fit_refuses_before_encoding(monkeypatch):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"city": rng.choice([f"c{i}" for i in range(400)], 2000),
                          "x": rng.normal(size=2000)})  # fmt: skip
    from synthgan.model import synthesizer

    monkeypatch.setattr(synthesizer, "available_memory", lambda: 1024)
    with pytest.raises(InvalidDataError, match=r"'city' \(\d+ slots\)"):
        Synthesizer(epochs=1, verbose=False, device="cpu").fit(frame)


def test_available_memory_is_read():
    available = resources.available_memory()
    assert available is None or available > 0
