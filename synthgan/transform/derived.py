"""Columns that are exact functions of other columns: found at fit, computed, never learnt.

Real tables carry the same fact twice: Adult's education and education-num are one column in two
spellings, a day of the year fixes its month, season and weekday, ``wage`` is ``exp(logwage)``,
``bikers`` is ``casual + registered``. A generator that learns each column separately gets such
a relation almost right, and "almost" is the first thing a real-vs-synthetic classifier finds.
:func:`find_derivations` looks for three kinds of exact relation on the training rows; the
target column of each is then left out of the model and computed from its sources after
decoding, so every synthetic row keeps the relation by construction:

* :class:`Lookup`: a discrete-like column (categorical, or at most ``MAX_LOOKUP_VALUES`` distinct
  numbers) fixed by another column whose values repeat (on average at least
  ``MIN_ROWS_PER_KEY`` rows per value). The model file keeps the key -> value table: values
  that many rows share, as categories and point masses are kept already.
* :class:`Monotone`: a numeric column that is an increasing or decreasing function of another
  (rank for rank), with at least ``MIN_MONOTONE_VALUES`` distinct values: computed by
  interpolating between paired quantiles of the two, as the quantile map does.
* :class:`Sum`: a numeric column equal to the sum of two others on every row.

Columns with nulls, datetimes and id-like columns take no part. A relation must hold on every
training row; a source is never itself derived, so one pass computes every target.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthgan.schema import ColumnKind, Schema

MAX_LOOKUP_VALUES = 64
"""A Lookup's target has at most this many distinct values."""
MIN_ROWS_PER_KEY = 5
"""A Lookup's source has at most n_rows / this many distinct values: a relation read off keys
that each appear once or twice says nothing (any unique column "determines" every other)."""
MIN_MONOTONE_VALUES = 20
MONOTONE_KNOTS = 1000
SUM_SCREEN_ROWS = 256
"""Rows a candidate sum is screened on before it is checked on every row."""
SUM_MAX_COLUMNS = 200
"""Wider tables skip the search for sums (its cost grows with the cube of the column count)."""
RELATIVE_TOLERANCE = 1e-9


def _kinds(schema: Schema) -> dict[str, ColumnKind]:
    return {spec.name: spec.kind for spec in schema.output}


def _plain(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


# -- the relations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """``target = table[source]``; a numeric source value not in the table takes the nearest
    key's value."""

    source: str
    target: str
    keys: list
    values: list
    numeric_source: bool

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,)

    def compute(self, frame: pd.DataFrame) -> np.ndarray:
        source = frame[self.source]
        values = np.empty(len(self.values), dtype=object)
        values[:] = self.values
        if self.numeric_source:
            keys = np.asarray(self.keys, dtype=np.float64)
            x = source.to_numpy(dtype=np.float64, na_value=np.nan)
            right = np.clip(np.searchsorted(keys, x), 1, len(keys) - 1) if len(keys) > 1 else None
            if right is None:
                return values[np.zeros(len(x), dtype=np.int64)]
            nearer_left = np.abs(x - keys[right - 1]) <= np.abs(keys[right] - x)
            return values[np.where(nearer_left, right - 1, right)]
        index = pd.Index(self.keys, dtype=object).get_indexer(source.astype(object))
        return values[np.maximum(index, 0)]

    def describe(self, name: Callable[[str], str] = str) -> str:
        """The relation in words, each column name written by ``name``."""
        return f"{name(self.target)} is fixed by {name(self.source)}"

    def to_dict(self) -> dict:
        return {"type": "lookup", "source": self.source, "target": self.target,
                "keys": self.keys, "values": self.values,
                "numeric_source": self.numeric_source}  # fmt: skip


@dataclass(frozen=True)
class Monotone:
    """``target = g(source)`` for an increasing or decreasing g, interpolated between knots."""

    source: str
    target: str
    source_knots: list
    target_knots: list

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,)

    def compute(self, frame: pd.DataFrame) -> np.ndarray:
        x = frame[self.source].to_numpy(dtype=np.float64, na_value=np.nan)
        return np.interp(x, self.source_knots, self.target_knots)

    def describe(self, name: Callable[[str], str] = str) -> str:
        """The relation in words, each column name written by ``name``."""
        return f"{name(self.target)} is a monotone function of {name(self.source)}"

    def to_dict(self) -> dict:
        return {"type": "monotone", "source": self.source, "target": self.target,
                "source_knots": self.source_knots, "target_knots": self.target_knots}  # fmt: skip


@dataclass(frozen=True)
class Sum:
    """``target = left + right``."""

    target: str
    left: str
    right: str

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.left, self.right)

    def compute(self, frame: pd.DataFrame) -> np.ndarray:
        left = frame[self.left].to_numpy(dtype=np.float64, na_value=np.nan)
        return left + frame[self.right].to_numpy(dtype=np.float64, na_value=np.nan)

    def describe(self, name: Callable[[str], str] = str) -> str:
        """The relation in words, each column name written by ``name``."""
        return f"{name(self.target)} = {name(self.left)} + {name(self.right)}"

    def to_dict(self) -> dict:
        return {"type": "sum", "target": self.target, "left": self.left, "right": self.right}


Derivation = Lookup | Monotone | Sum


def derivation_from_dict(state: dict) -> Derivation:
    kind = state["type"]
    if kind == "lookup":
        return Lookup(state["source"], state["target"], list(state["keys"]),
                      list(state["values"]), bool(state["numeric_source"]))  # fmt: skip
    if kind == "monotone":
        return Monotone(state["source"], state["target"], list(state["source_knots"]),
                        list(state["target_knots"]))  # fmt: skip
    if kind == "sum":
        return Sum(state["target"], state["left"], state["right"])
    raise ValueError(f"unknown derivation type {kind!r}")


# -- finding them ---------------------------------------------------------------------------------


def find_derivations(
    df: pd.DataFrame, schema: Schema, *, keep: tuple[str, ...] = ()
) -> list[Derivation]:
    """The exact relations of ``df``'s columns, each target a column of its own; columns in
    ``keep`` are never targets (a model's prediction target must stay modelled)."""
    kinds = _kinds(schema)
    usable = [
        name for name, kind in kinds.items()
        if (kind.is_categorical or kind in (ColumnKind.CONTINUOUS, ColumnKind.INTEGER))
        and not df[name].isna().any() and df[name].nunique() > 1
    ]  # fmt: skip
    if len(df) < 2 * MIN_ROWS_PER_KEY or len(usable) < 2:
        return []
    derived: dict[str, Derivation] = {}
    sources: set[str] = set()

    def accept(relation: Derivation) -> None:
        derived[relation.target] = relation
        sources.update(relation.sources)

    def free(target: str, *relation_sources: str) -> bool:
        return (
            target not in derived and target not in sources and target not in keep
            and not any(s in derived for s in relation_sources)
        )  # fmt: skip

    codes = {name: pd.factorize(df[name], sort=True) for name in usable}
    distinct = {name: len(codes[name][1]) for name in usable}
    for target, source in _lookup_candidates(usable, distinct, kinds, len(df)):
        if free(target, source) and _determines(codes[source][0], codes[target][0],
                                                 distinct[target]):  # fmt: skip
            accept(_lookup(df, source, target, kinds, codes[source]))
    numeric = [n for n in usable if kinds[n].is_numeric]
    values = {name: df[name].to_numpy(dtype=np.float64) for name in numeric}
    for source, target in itertools.permutations(numeric, 2):
        if (
            distinct[source] >= MIN_MONOTONE_VALUES and distinct[target] >= MIN_MONOTONE_VALUES
            and free(target, source) and _is_monotone(values[source], values[target])
        ):  # fmt: skip
            accept(_monotone(values[source], values[target], source, target))
    if len(numeric) <= SUM_MAX_COLUMNS:
        for target, left, right in _sum_candidates(numeric, values):
            if free(target, left, right):
                accept(Sum(target, left, right))
    return [derived[name] for name in kinds if name in derived]


def _lookup_candidates(usable, distinct, kinds, n_rows):
    """(target, source) pairs worth checking, sources with more distinct values first."""
    targets = [
        n for n in usable
        if distinct[n] <= MAX_LOOKUP_VALUES and (kinds[n].is_categorical or kinds[n].is_numeric)
    ]  # fmt: skip
    pairs = []
    for target in targets:
        for source in usable:
            if source == target or distinct[source] * MIN_ROWS_PER_KEY > n_rows:
                continue
            if distinct[source] < distinct[target]:
                continue
            # one spelling of a pair that determine each other is kept: the earlier column
            if distinct[source] == distinct[target] and usable.index(source) > usable.index(target):
                continue
            pairs.append((target, source))
    return sorted(pairs, key=lambda p: (-distinct[p[1]], usable.index(p[0])))


def _determines(source: np.ndarray, target: np.ndarray, n_target: int) -> bool:
    """Every source code meets one target code."""
    pairs = np.unique(source.astype(np.int64) * n_target + target)
    return len(pairs) == len(np.unique(source))


def _lookup(df, source, target, kinds, source_codes) -> Lookup:
    code, keys = source_codes
    first = np.full(len(keys), -1, dtype=np.int64)
    first[code[::-1]] = np.arange(len(code))[::-1]  # each key's first row
    values = [_plain(v) for v in df[target].to_numpy(dtype=object)[first]]
    numeric = kinds[source].is_numeric
    keys = [_plain(k) for k in (keys.to_numpy(dtype=np.float64) if numeric else keys)]
    return Lookup(source, target, keys, values, numeric)


def _is_monotone(x: np.ndarray, y: np.ndarray) -> bool:
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    # neighbours compared, not subtracted: a difference overflows near the float maximum
    same = xs[1:] == xs[:-1]
    if np.any(ys[1:][same] != ys[:-1][same]):  # one x, two y: not a function
        return False
    before, after = ys[:-1][~same], ys[1:][~same]
    return bool(np.all(after > before) or np.all(after < before))


def _monotone(x: np.ndarray, y: np.ndarray, source: str, target: str) -> Monotone:
    distinct, first, counts = np.unique(x, return_index=True, return_counts=True)
    paired = y[first]
    cumulative = np.cumsum(counts) / counts.sum()
    index = np.unique(np.clip(np.searchsorted(cumulative, np.linspace(0, 1, MONOTONE_KNOTS + 1)),
                              0, len(distinct) - 1))  # fmt: skip
    xs, ys = distinct[index], paired[index]
    # a value held by one row is stored as the midpoint to the next (as the quantile map does)
    single = (counts[index] == 1) & (index + 1 < len(distinct)) & (index > 0)
    xs[single] = (distinct[index[single]] + distinct[index[single] + 1]) / 2
    ys[single] = (paired[index[single]] + paired[index[single] + 1]) / 2
    return Monotone(source, target, xs.tolist(), ys.tolist())


def _sum_candidates(numeric: list[str], values: dict[str, np.ndarray]):
    """(target, left, right) with target == left + right on every row; left before right."""
    if len(numeric) < 3:
        return []
    n = len(next(iter(values.values())))
    screen = np.linspace(0, n - 1, min(n, SUM_SCREEN_ROWS)).astype(np.int64)
    matrix = np.stack([values[c][screen] for c in numeric], axis=1)  # (rows, k)
    scale = np.abs(matrix).max(axis=0) + 1e-300
    found = []
    # near the float maximum a sum or a difference overflows to inf (or inf - inf to NaN),
    # which matches no target: no warning for it
    with np.errstate(over="ignore", invalid="ignore"):
        sums = matrix[:, :, None] + matrix[:, None, :]  # (rows, k, k)
        for t, target in enumerate(numeric):
            close = np.abs(sums - matrix[:, t, None, None]) <= RELATIVE_TOLERANCE * scale[t]
            hits = np.argwhere(close.all(axis=0))
            for i, j in hits:
                if i < j and t not in (i, j):
                    left, right = numeric[i], numeric[j]
                    full = values[left] + values[right]
                    tolerance = RELATIVE_TOLERANCE * np.abs(values[target]).max()
                    if np.all(np.abs(full - values[target]) <= tolerance):
                        found.append((target, left, right))
    return found


# -- the column's place in the transformer -----------------------------------------------------------


class DerivedColumnTransformer:
    """A derived column in the TableTransformer: no span of its own; decoding computes it from
    the decoded sources and restores its dtype through ``inner``, the column's own transformer
    fitted as usual (kept for its dtype, categories and bounds, never for a span)."""

    def __init__(self, derivation: Derivation, inner) -> None:
        self.derivation = derivation
        self.inner = inner
        self.kind = inner.kind
        self.column_ = inner.column_

    output_width = 0

    def span_plan(self) -> list:
        return []

    def transform(self, series: pd.Series, rng=None) -> np.ndarray:
        return np.zeros((len(series), 0), dtype=np.float32)

    def decode_from(self, frame: pd.DataFrame) -> pd.Series:
        """The column computed from the decoded ``frame`` (which holds its sources)."""
        values = self.derivation.compute(frame)
        index = frame.index
        if self.inner.kind.is_categorical:
            codes = self.inner.codes(pd.Series(values, index=index, dtype=object))
            return self.inner.decode(codes, index)
        values = np.asarray(values, dtype=np.float64)
        if self.inner.int_origin_ is not None:  # the inner transformer counts from its origin
            values = values - self.inner.int_origin_
        # not clipped to the training range: the relation is the truth (two parts at their
        # largest make a sum beyond the largest seen)
        series = self.inner._from_float(values, index)
        series.name = self.column_
        return series

    def get_state(self) -> dict:
        return {**self.inner.get_state(), "derived": self.derivation.to_dict()}
