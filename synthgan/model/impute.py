"""Imputation: each null cell filled with a value drawn from the model given the row's known
cells (``Synthesizer.impute``).

A row's known cells become its conditions (one row of a frame of conditions,
:mod:`synthgan.model.conditions`), so the filled cells follow the model's conditional
distribution given them; known cells are returned untouched. A known cell the model cannot
condition on (a category or a number outside what it saw, an id, a column another column is
computed from when that one is known too) still stays as it is, it only does not steer the draw.

Under rules, only the columns the model holds as they are steer the draw; a cell a rule builds
(a formula's result, the later column of an inequality held as a gap) is computed from the row's
own cells, and a row whose filled cells break a rule beside its known ones is drawn again, within
``max_tries`` rounds. A row no draw can fill keeps its nulls, with a warning counting them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError
from synthgan.model.conditions import NOT_NULL
from synthgan.model.runtime import block_seed, seed_from
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
    plan = getattr(model, "rules_", None)
    names = transformer.output_columns if plan is None else plan.columns_
    ids = {n for n, t in transformer.transformers_.items() if isinstance(t, IdColumnTransformer)}
    columns = [c for c in data.columns if c in names and c not in ids]
    if not columns:
        raise InvalidDataError(
            "impute: the frame shares no column with the model's table "
            f"({', '.join(map(repr, names[:5]))}, ...)."
        )
    frame = data.reset_index(drop=True)
    nulls = frame[columns].isna().to_numpy()
    todo = np.flatnonzero(nulls.any(axis=1))
    out = data.copy()
    if not len(todo):
        return out
    rows = frame.iloc[todo].reset_index(drop=True)
    # under rules, the model holds some columns in another form: their known cells stay, but
    # only the columns it holds as they are steer the draw
    steering = [c for c in columns if c in transformer.transformers_
                and (plan is None or c not in plan.rewritten)]  # fmt: skip
    conditions = pd.DataFrame({c: _usable(rows, c, transformer) for c in steering})
    for column in steering:  # a cell to fill gets a value, never a null
        t = transformer.transformers_[column]
        if getattr(t, "has_nulls_", False) and not isinstance(t, DerivedColumnTransformer):
            conditions[column] = conditions[column].where(rows[column].notna(), NOT_NULL)
    drawn = model.sample(len(rows), conditions if steering else None, random_state=random_state,
                         max_tries=max_tries, reach_bounds=False)  # fmt: skip
    unmet = np.zeros(len(rows), dtype=bool)
    if plan is not None:
        drawn, broken = _within_rules(model, plan, rows, drawn, conditions if steering else None,
                                      columns, random_state, max_tries)  # fmt: skip
        unmet[broken] = True
        if len(broken):
            warnings.warn(
                f"impute: {len(broken)} of {len(rows)} rows keep their nulls: no value drawn in "
                f"{max_tries} rounds met the rules together with their known cells (a formula's "
                "input to fill beside its known result has no single value the model draws). "
                "Fill them by hand, or raise max_tries.",
                UserWarning,
                stacklevel=3,
            )
    positions = out.columns
    for column in columns:
        missing = nulls[todo, columns.index(column)] & ~unmet
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


def _within_rules(model, plan, rows, drawn, conditions, columns, random_state, max_tries):
    """``drawn`` with formula columns to fill computed from the row, and the rows whose filled
    cells break a rule together with the row's known cells drawn again, for at most
    ``max_tries`` rounds; and the positions of the rows still breaking one. A row whose known
    cells already break a rule is left as it is (no filling mends it)."""
    known = rows[columns].notna()
    already_broken = ~plan.holds(_merge(drawn, rows, columns, known, keep_fills=False))
    seed = seed_from(random_state)
    drawn = _computed(plan, drawn, rows, columns, known)
    for round_number in range(1, max(int(max_tries), 1) + 1):
        bad = _breaking(plan, drawn, rows, columns, known, already_broken)
        if not len(bad):
            return drawn, bad
        again = model.sample(len(bad), None if conditions is None else conditions.iloc[bad],
                             random_state=block_seed(seed, round_number),
                             max_tries=max_tries, reach_bounds=False)  # fmt: skip
        drawn = drawn.copy()
        for column in drawn.columns:
            values = drawn[column].copy()
            values.iloc[bad] = again[column].to_numpy()
            drawn[column] = values
        drawn = _computed(plan, drawn, rows, columns, known)
    return drawn, _breaking(plan, drawn, rows, columns, known, already_broken)


def _breaking(plan, drawn, rows, columns, known, already_broken) -> np.ndarray:
    """Positions of the rows whose filled cells break a rule with their known cells, or where a
    cell to fill of a column a rule builds is still null (a rule does not apply to a null, so a
    gap drawn null would leave the later date unfilled)."""
    merged = _merge(drawn, rows, columns, known)
    unfilled = np.zeros(len(merged), dtype=bool)
    for column in [c for c in columns if c in plan.built]:
        unfilled |= ~known[column].to_numpy() & merged[column].isna().to_numpy()
    return np.flatnonzero((~plan.holds(merged) | unfilled) & ~already_broken)


def _computed(plan, drawn, rows, columns, known) -> pd.DataFrame:
    """``drawn`` with the cells to fill of a column a rule builds (a formula's result, the
    later of an inequality) computed from the row's cells."""
    built = plan.built
    for column in [c for c in columns if c in built]:
        fill = ~known[column].to_numpy()
        if not fill.any():
            continue
        values = plan.computed(_merge(drawn, rows, columns, known), column, drawn)
        drawn = drawn.copy()
        drawn[column] = drawn[column].where(~fill | values.isna(), values)
    return drawn


def _merge(drawn, rows, columns, known, *, keep_fills: bool = True) -> pd.DataFrame:
    """The drawn rows with the known cells put back (the filled ones nulled when not
    ``keep_fills``)."""
    merged = drawn.copy()
    for column in columns:
        mask = known[column].to_numpy()
        values = merged[column].copy() if keep_fills else merged[column].where(mask)
        if mask.any():
            try:
                values.iloc[mask] = rows[column].iloc[mask].astype(values.dtype).to_numpy()
            except (TypeError, ValueError):
                values = values.astype(object)
                values.iloc[mask] = rows[column].iloc[mask].to_numpy()
        merged[column] = values
    return merged


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
