"""Imputation: each null cell filled with a value drawn from the model given the row's known
cells (``Synthesizer.impute``).

A row's known cells become its conditions (one row of a frame of conditions,
:mod:`synthgan.model.conditions`), so the filled cells follow the model's conditional
distribution given them; known cells are returned untouched. A known cell the model cannot
condition on (a category or a number outside what it saw, an id, a column another column is
computed from when that one is known too) still stays as it is, it only does not steer the draw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError
from synthgan.model.conditions import NOT_NULL
from synthgan.schema import ColumnKind
from synthgan.transform.categorical import CategoricalColumnTransformer
from synthgan.transform.derived import DerivedColumnTransformer, Lookup
from synthgan.transform.identifier import IdColumnTransformer
from synthgan.transform.numeric import NumericColumnTransformer


def impute(model, data: pd.DataFrame, *, random_state: int | None, max_tries: int) -> pd.DataFrame:
    """``data`` with the nulls of the model's columns filled (see the module docstring)."""
    if not isinstance(data, pd.DataFrame):
        raise InvalidDataError(f"impute expects a pandas DataFrame, got {type(data).__name__}.")
    transformer = model.transformer_
    columns = [c for c in data.columns if c in transformer.transformers_
               and not isinstance(transformer.transformers_[c], IdColumnTransformer)]  # fmt: skip
    if not columns:
        raise InvalidDataError(
            "impute: the frame shares no column with the model's table "
            f"({', '.join(map(repr, transformer.output_columns[:5]))}, ...)."
        )
    frame = data.reset_index(drop=True)
    nulls = frame[columns].isna().to_numpy()
    todo = np.flatnonzero(nulls.any(axis=1))
    out = data.copy()
    if not len(todo):
        return out
    rows = frame.iloc[todo].reset_index(drop=True)
    conditions = pd.DataFrame({c: _usable(rows, c, transformer) for c in columns})
    for column in columns:  # a cell to fill gets a value, never a null
        t = transformer.transformers_[column]
        if getattr(t, "has_nulls_", False) and not isinstance(t, DerivedColumnTransformer):
            conditions[column] = conditions[column].where(rows[column].notna(), NOT_NULL)
    if getattr(model, "rules_", None) is not None:
        raise InvalidDataError(
            "impute is not available for a model fitted with rules yet; fit one without rules "
            "to impute."
        )
    drawn = model.sample(len(rows), conditions, random_state=random_state, max_tries=max_tries)
    positions = out.columns
    for column in columns:
        missing = nulls[todo, columns.index(column)]
        if not missing.any():
            continue
        target = todo[missing]
        values = drawn[column].iloc[np.flatnonzero(missing)]
        filled = out[column].copy()
        try:
            values = values.astype(filled.dtype)
        except (TypeError, ValueError):
            filled = filled.astype(object)
        filled.iloc[target] = values.to_numpy()
        out[column] = filled
    return out[positions]


def _usable(rows: pd.DataFrame, column: str, transformer) -> pd.Series:
    """The known cells of ``column`` the model can condition on; None elsewhere."""
    t = transformer.transformers_[column]
    series = rows[column].astype(object).where(rows[column].notna(), None)
    if isinstance(t, DerivedColumnTransformer):
        relation = t.derivation
        if not isinstance(relation, Lookup) or relation.source not in rows.columns:
            return pd.Series([None] * len(rows), dtype=object)
        # steers the draw only where its source is to be filled
        series = series.where(rows[relation.source].isna(), None)
        t = t.inner
        if isinstance(t, CategoricalColumnTransformer):
            return _known_categories(series, t)
        known = set(relation.values)
        return series.where(series.isin(known), None)
    if isinstance(t, CategoricalColumnTransformer):
        return _known_categories(series, t)
    if isinstance(t, NumericColumnTransformer):
        present = rows[column].notna().to_numpy()
        x = np.full(len(rows), np.nan)
        if present.any():
            try:
                x[present] = t._to_float(rows[column][present], fitting=False)
            except InvalidDataError:
                return pd.Series([None] * len(rows), dtype=object)
        with np.errstate(invalid="ignore"):
            ok = (x >= t.min_) & (x <= t.max_)
            if t.kind is not ColumnKind.CONTINUOUS:
                ok &= x == np.round(x)
            if not t.n_modes:  # only its spikes: a value the model makes
                ok &= np.isin(x, t.point_masses_)
        return series.where(ok, None)
    return pd.Series([None] * len(rows), dtype=object)


def _known_categories(series: pd.Series, t: CategoricalColumnTransformer) -> pd.Series:
    index = pd.Index(t.categories_, dtype=object).get_indexer(series.astype(object))
    return series.where(index >= 0, None)
