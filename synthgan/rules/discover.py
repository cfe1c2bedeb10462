"""Rules that hold on every row of a table, found for the user to accept (``synthgan inspect
--rules-out``) or to fit with at once (``Synthesizer(rules="auto")``).

* **Functional dependencies**: a column fixed by another (Adult's education-num by education)
  becomes a fixed combination of the two; a column that is the sum of two others, a formula.
  Both come from the exact relations a fit finds (:func:`synthgan.transform.derived.find_derivations`).
* **Null-together groups**: columns null on exactly the same rows (some, not all).
* **Inequalities**: ``a <= b`` between two numeric (or two date) columns on every row where both
  are present, when their ranges overlap (a pair whose ranges do not overlap holds it by the
  ranges alone, which the model keeps anyway) and ``a < b`` on some row.

A column is rewritten by one rule at most (the plan's condition): a rule whose columns an
earlier one took is left out. Monotone functions are not rules; the fit computes them anyway.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from synthgan.rules.definitions import FixedCombinations, Formula, Inequality, NullTogether, Rule
from synthgan.schema import ColumnKind, Schema, epoch_seconds, resolve_schema
from synthgan.transform.derived import Lookup, Sum, find_derivations

MAX_INEQUALITY_COLUMNS = 40
"""Numeric columns compared pairwise at most (the first ones)."""
MAX_COMBINATIONS = 1000
"""A dependency whose pairs of values exceed this is not made a fixed combination (the joint
category would be too wide)."""


def discover_rules(data: pd.DataFrame, schema: Schema | None = None) -> list[Rule]:
    """The rules that hold on every row of ``data``, in a set a RulePlan accepts."""
    schema = resolve_schema(data, schema)
    kinds = {c.name: c.kind for c in schema.columns}
    taken: set[str] = set()
    rules: list[Rule] = []
    relations = find_derivations(data, schema)
    fixed_by: dict[str, list[str]] = {}  # a source and the columns it fixes: one joint rule
    for relation in relations:
        if isinstance(relation, Lookup) and _combinable(kinds, (relation.source, relation.target)):
            fixed_by.setdefault(relation.source, []).append(relation.target)
    for source, targets in fixed_by.items():
        columns = [source, *targets]
        if not taken & set(columns) and (
            len(data[columns].drop_duplicates()) <= MAX_COMBINATIONS
        ):
            rules.append(FixedCombinations(columns))
            taken.update(columns)
    for relation in relations:
        columns = relation.sources + (relation.target,)
        if isinstance(relation, Sum) and not taken & set(columns):
            rules.append(Formula(relation.target, f"{relation.left} + {relation.right}"))
            taken.add(relation.target)
    for group in _null_groups(data, kinds):
        if not taken & set(group):
            rules.append(NullTogether(group))
            taken.update(group)
    highs: set[str] = set()
    for low, high in _inequalities(data, kinds):
        if high in taken or high in highs or low in taken:
            continue
        rules.append(Inequality(low, high))
        highs.add(high)
    return rules


def _combinable(kinds: dict, columns) -> bool:
    return all(kinds[c].is_categorical or kinds[c] is ColumnKind.INTEGER for c in columns)


def _null_groups(data: pd.DataFrame, kinds: dict) -> list[list[str]]:
    groups: dict[bytes, list[str]] = {}
    for name, kind in kinds.items():
        if kind in (ColumnKind.ID, ColumnKind.IGNORED):
            continue
        null = data[name].isna().to_numpy()
        if 0 < null.sum() < len(null):
            groups.setdefault(np.packbits(null).tobytes(), []).append(name)
    return [names for names in groups.values() if len(names) >= 2]


def _epoch_seconds(series: pd.Series) -> np.ndarray:
    """Seconds since 1970 (UTC for zoned columns), NaN for null; a column of strings parsed as
    dates first. A datetime column is not sent through ``to_datetime(utc=True)``, which raised
    NotImplementedError beyond the year 9999 on pandas 3.0 (zoning a naive stamp goes through
    Python's datetime)."""
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        series = pd.to_datetime(series, utc=True)
    return epoch_seconds(series)


def _inequalities(data: pd.DataFrame, kinds: dict) -> list[tuple[str, str]]:
    """(low, high) pairs with low <= high wherever both are present."""
    found = []
    for family in ((ColumnKind.CONTINUOUS, ColumnKind.INTEGER), (ColumnKind.DATETIME,)):
        names = [n for n, k in kinds.items() if k in family and data[n].nunique() > 1]
        names = names[:MAX_INEQUALITY_COLUMNS]
        if family[0] is ColumnKind.DATETIME:
            values = {}
            for n in names:
                try:  # a column that will not parse is skipped
                    values[n] = _epoch_seconds(data[n])
                except (ValueError, TypeError, OverflowError):
                    continue
            names = list(values)
        else:
            values = {n: data[n].to_numpy(dtype=np.float64, na_value=np.nan) for n in names}
        for a, b in itertools.permutations(names, 2):
            x, y = values[a], values[b]
            both = ~np.isnan(x) & ~np.isnan(y)
            if both.sum() < 2:
                continue
            x, y = x[both], y[both]
            if x.max() < y.min():  # held by the ranges alone
                continue
            if (x <= y).all() and (x < y).any():
                found.append((a, b))
    return found
