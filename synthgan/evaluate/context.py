"""The inputs of one evaluation and the intermediate results metrics share (computed once)."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from synthgan.evaluate._columns import evaluated_columns
from synthgan.schema import Schema

T = TypeVar("T")


@dataclass
class EvaluationContext:
    """What every metric function receives.

    Attributes
    ----------
    real : DataFrame
        The rows the model was trained on.
    synthetic : DataFrame
        The generated rows (same columns as ``real``).
    holdout : DataFrame or None
        Real rows the model never saw.
    target : str or None
        The column the utility model predicts.
    schema : Schema
        Column kinds, inferred from ``real``.
    random_state : int or None
    n_threads : int or None
        Threads for model fits and nearest-neighbour searches (None: all cores).
    """

    real: pd.DataFrame
    synthetic: pd.DataFrame
    holdout: pd.DataFrame | None
    target: str | None
    schema: Schema
    random_state: int | None
    n_threads: int | None = 1
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def columns(self) -> list[str]:
        """The columns the fidelity metrics compare (numeric and categorical; not ids)."""
        return evaluated_columns(self.schema)

    def rng(self, purpose: str) -> np.random.Generator:
        """A generator of its own for each purpose, so that adding or skipping a metric does not
        change the random draws of another."""
        if self.random_state is None:
            return np.random.default_rng()
        return np.random.default_rng([self.random_state, zlib.crc32(purpose.encode())])

    def as_baseline(self) -> EvaluationContext:
        """The same evaluation with the holdout in the synthetic table's place (and no holdout).

        A metric computed on it gives the value a fresh sample of real rows gets: the baseline
        its synthetic figure is read against. Subsamples use the same seeds, so both figures see
        the same training rows. Results are cached apart from this context's.
        """
        if self.holdout is None:
            raise ValueError("as_baseline() needs a holdout.")  # a programming error
        return EvaluationContext(
            real=self.real,
            synthetic=self.holdout,
            holdout=None,
            target=self.target,
            schema=self.schema,
            random_state=self.random_state,
            n_threads=self.n_threads,
        )

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked for, the stored result afterwards."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]


def subsample(df: pd.DataFrame, n_max: int, rng: np.random.Generator) -> pd.DataFrame:
    """At most ``n_max`` rows of ``df``, drawn without replacement (all of them, in order, if fewer)."""
    if len(df) <= n_max:
        return df
    return df.iloc[np.sort(rng.choice(len(df), size=n_max, replace=False))]
