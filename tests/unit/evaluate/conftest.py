"""Tables drawn from one known distribution, and reports on them shared by the evaluate tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgan.evaluate import evaluate

N_ROWS = 400


def draw_known(n: int, seed: int) -> pd.DataFrame:
    """x and y correlated (rho 0.8); colour and flag depend on x; an id column; nulls in y."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 0.8 * x + 0.6 * rng.normal(size=n)
    y[rng.random(n) < 0.05] = np.nan
    colour = np.where(x > 0.5, "red", np.where(x < -0.5, "blue", "green"))
    flip = rng.random(n) < 0.1
    colour = np.where(flip, rng.choice(["red", "green", "blue"], n), colour)
    return pd.DataFrame(
        {
            "row_id": rng.permutation(10**6)[:n],
            "x": x,
            "y": y,
            "count": rng.poisson(np.exp(0.5 * x + 1)).astype("int64"),
            "colour": colour,
            "flag": (x + rng.normal(size=n)) > 0,
            "day": pd.Timestamp("2021-01-01")
            + pd.to_timedelta(np.round(30 * x + 100).astype(int), unit="D"),
        }
    )


def shuffle_columns(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Each column permuted on its own: the same marginals, no relationships."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: df[c].to_numpy()[rng.permutation(len(df))] for c in df.columns}).astype(
        df.dtypes.to_dict()
    )


def draw_noise(like: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Values unrelated to the real distribution: numbers uniform over five times the real range,
    categories uniform, dates uniform over ten years; same columns and dtypes as ``like``."""
    rng = np.random.default_rng(seed)
    n = len(like)
    return pd.DataFrame(
        {
            "row_id": rng.permutation(10**6)[:n],
            "x": rng.uniform(-10, 10, n),
            "y": rng.uniform(-10, 10, n),
            "count": rng.integers(0, 50, n).astype("int64"),
            "colour": rng.choice(["red", "green", "blue"], n),
            "flag": rng.random(n) < 0.5,
            "day": pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.integers(0, 3650, n), unit="D"),
        }
    )


@pytest.fixture(scope="session")
def known_tables() -> dict[str, pd.DataFrame]:
    real = draw_known(N_ROWS, seed=0)
    return {
        "real": real,
        "holdout": draw_known(N_ROWS, seed=1),
        "copy": real.copy(),
        "fresh": draw_known(N_ROWS, seed=2),
        "shuffled": shuffle_columns(real, seed=3),
        "noise": draw_noise(real, seed=4),
    }


@pytest.fixture(scope="session")
def known_reports(known_tables):
    """Reports of the copy, fresh-draw, shuffled and noise synthetic tables (computed once)."""
    return {
        name: evaluate(
            known_tables["real"],
            known_tables[name],
            holdout=known_tables["holdout"],
            target="flag",
        )
        for name in ("copy", "fresh", "shuffled", "noise")
    }


REQUIRED_SCORES = [
    "column_shapes",
    "column_pairs",
    "detection_auc",
    "utility_real",
    "utility_synthetic",
    "dcr_share",
    "exact_copy_rate",
    "mia_auc",
]
"""The scores issue 4 requires in every Report."""
