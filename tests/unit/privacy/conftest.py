from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("opacus")

SMALL = dict(
    epochs=1, batch_size=100, generator_dims=(32,), discriminator_dims=(32,), embedding_dim=16,
    random_state=0, device="cpu", verbose=False,
)  # fmt: skip


@pytest.fixture(autouse=True)
def _quiet_opacus():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order", category=UserWarning)
        yield


def private_frame(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Numbers, categories with one rare value, a boolean, nulls and an id column."""
    rng = np.random.default_rng(seed)
    city = rng.choice(["Berlin", "Paris", "Rome"], n, p=[0.5, 0.3, 0.2]).astype(object)
    city[0] = "Atlantis"  # one row's unique category
    price = np.where(rng.random(n) < 0.5, rng.normal(20, 2, n), rng.normal(80, 5, n))
    price[1] = 1e9  # one extreme value
    return pd.DataFrame(
        {
            "price": price,
            "age": rng.integers(18, 90, n),
            "city": city,
            "flag": rng.random(n) < 0.3,
            "gain": np.where(rng.random(n) < 0.8, 0, rng.integers(1, 5000, n)),
            "user_id": np.arange(5000, 5000 + n),
        }
    )
