"""Bundled demo data: the UCI Adult benchmark (CC BY 4.0; see datasets/adult/README.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["load_adult", "adult_path"]


def _adult_dir() -> Path:
    # In a wheel the data sits beside this module; in a source checkout (editable install) it is
    # the repository's datasets/ folder, the single copy the wheel is built from.
    here = Path(__file__).resolve().parent
    for candidate in (here / "adult", here.parents[1] / "datasets" / "adult"):
        if (candidate / "train.parquet").is_file():
            return candidate
    raise FileNotFoundError(
        "The bundled Adult data is missing from this installation; reinstall synthgan."
    )


def adult_path(split: str = "train") -> Path:
    """Path of the bundled Adult Parquet file for ``split`` ('train' or 'test')."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    return _adult_dir() / f"{split}.parquet"


def load_adult() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Adult census table: (train, test), 32,561 and 16,281 rows, target column ``income``.

    Source: Becker & Kohavi (1996), UCI Machine Learning Repository, doi:10.24432/C5XW20,
    licensed CC BY 4.0.
    """
    return pd.read_parquet(adult_path("train")), pd.read_parquet(adult_path("test"))
