from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Tiny test networks run fastest (and reproducibly) on one thread; busy machines made
    two-thread fits 50-100x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def short_private_tuning(monkeypatch):
    """A private fit tunes its generator for TUNE_STEPS steps of 4,096 rows after DP-SGD (4 s
    with a test's tiny network); tests of the fit's mechanics need a few steps, and the tuning's
    own test sets its steps."""
    from synthgan.privacy import dp_marginals

    monkeypatch.setattr(dp_marginals, "TUNE_STEPS", 10)


@pytest.fixture(scope="session")
def adult():
    from synthgan.datasets import load_adult

    return load_adult()


def make_mixed_frame(n: int = 400, *, nulls: bool, seed: int = 0) -> pd.DataFrame:
    """A hand-made frame with one column of every kind (and dtype variant)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "price": np.concatenate([rng.normal(10, 1, n // 2), rng.normal(100, 5, n - n // 2)]),
            "count": rng.poisson(3, n).astype("int64"),
            "count_nullable": pd.array(rng.integers(-5, 5, n), dtype="Int64"),
            "city": rng.choice(["Berlin", "Paris", "Rome"], n),
            "city_string": pd.array(rng.choice(["a", "b", "c"], n), dtype="string"),
            "grade": pd.Categorical(
                rng.choice(["low", "mid", "high"], n), categories=["low", "mid", "high"]
            ),
            "flag": rng.random(n) < 0.3,
            "flag_nullable": pd.array(rng.random(n) < 0.5, dtype="boolean"),
            "day": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
            "stamp_tz": (
                pd.Timestamp("2021-06-01", tz="Europe/Berlin")
                + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s")
            ),
            "user_id": np.arange(1000, 1000 + n),
            "code": [f"AB-{i:05d}" for i in rng.permutation(n)],
            "constant": np.full(n, 7.5),
        }
    )
    if nulls:
        for col in [
            "price",
            "count_nullable",
            "city",
            "city_string",
            "grade",
            "flag_nullable",
            "day",
            "stamp_tz",
        ]:
            mask = rng.random(n) < 0.1
            df.loc[mask, col] = None
    return df


@pytest.fixture
def interrupt_second_epoch(monkeypatch):
    """Make the second training epoch raise KeyboardInterrupt, as Ctrl-C would."""
    from synthgan.model import training

    calls = {"n": 0}
    original = training.Trainer.run_epoch

    def run_epoch(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(training.Trainer, "run_epoch", run_epoch)
