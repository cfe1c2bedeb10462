"""Conditions for sampling: one discrete condition through the condition vector, the rest by
rejection."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import pandas as pd

from synthgan.exceptions import InvalidDataError
from synthgan.schema import unknown_column_message
from synthgan.transform import TableTransformer
from synthgan.transform.categorical import CategoricalColumnTransformer
from synthgan.transform.derived import DerivedColumnTransformer
from synthgan.transform.numeric import NumericColumnTransformer


@dataclass
class Conditions:
    """``span``/``category``: the condition fed to the generator (None when there is none);
    ``filters``: (column, description, predicate) checked on generated rows."""

    span: int | None = None
    category: int | None = None
    filters: list = field(default_factory=list)

    def filter(self, rows: pd.DataFrame) -> pd.DataFrame:
        if not self.filters:
            return rows
        keep = pd.Series(True, index=rows.index)
        for _, _, predicate in self.filters:
            keep &= predicate(rows)
        return rows[keep.to_numpy()].reset_index(drop=True)

    def failure_message(self, generated: int, produced: int, wanted: int) -> str:
        names = ", ".join(description for _, description, _ in self.filters)
        return (
            f"Could not meet the conditions {names}: {produced} of {wanted} rows after generating "
            f"{generated}. The model rarely produces such rows; relax the condition or raise "
            "max_tries."
        )


def _category_hint(transformer: CategoricalColumnTransformer, value) -> str:
    known = [str(c) for c in transformer.categories_]
    close = difflib.get_close_matches(str(value), known, n=1, cutoff=0.0)
    return f" The closest known category is {close[0]!r}." if close else ""


def parse_conditions(
    conditions: dict | None, transformer: TableTransformer, condition_columns: list[str]
) -> Conditions:
    """Check ``conditions`` against the fitted transformer and split them; the first categorical
    one becomes the condition vector's (``condition_columns``: the sampler's span columns)."""
    parsed = Conditions()
    if not conditions:
        return parsed
    if not isinstance(conditions, dict):
        raise InvalidDataError(
            "conditions must be a dict such as {'sex': 'Female'} or {'age': (30, 40)}."
        )
    for column, value in conditions.items():
        if column not in transformer.transformers_:
            raise InvalidDataError(
                "Cannot condition: " + unknown_column_message(column, transformer.output_columns)
            )
        column_transformer = transformer.transformers_[column]
        if isinstance(column_transformer, CategoricalColumnTransformer):
            try:
                slot = column_transformer.category_index(value)
            except KeyError:
                raise InvalidDataError(
                    f"Column {column!r} has no category {value!r}."
                    + _category_hint(column_transformer, value)
                ) from None
            if parsed.span is None:
                parsed.span, parsed.category = condition_columns.index(column), slot
                continue
            parsed.filters.append(
                (
                    column,
                    f"{column}={value!r}",
                    lambda rows, c=column, v=value: _equals(rows[c], v),
                )
            )
        elif isinstance(column_transformer, DerivedColumnTransformer):
            parsed.filters.append(_derived_filter(column, column_transformer, value))
        elif isinstance(column_transformer, NumericColumnTransformer):
            low, high = _as_range(column, value)
            parsed.filters.append(
                (
                    column,
                    f"{low!r} <= {column} <= {high!r}",
                    lambda rows, c=column, lo=low, hi=high: rows[c].between(lo, hi).fillna(False),
                )
            )
        else:
            raise InvalidDataError(
                f"Column {column!r} is id-like: it is regenerated, so it cannot be a condition."
            )
    return parsed


def _derived_filter(column: str, transformer: DerivedColumnTransformer, value) -> tuple:
    """A column computed from others: met by rejection, like any further condition."""
    inner = transformer.inner
    if isinstance(inner, CategoricalColumnTransformer):
        try:
            inner.category_index(value)
        except KeyError:
            raise InvalidDataError(
                f"Column {column!r} has no category {value!r}." + _category_hint(inner, value)
            ) from None
        return column, f"{column}={value!r}", lambda rows, c=column, v=value: _equals(rows[c], v)
    low, high = _as_range(column, value)
    return (
        column,
        f"{low!r} <= {column} <= {high!r}",
        lambda rows, c=column, lo=low, hi=high: rows[c].between(lo, hi).fillna(False),
    )


def _equals(values: pd.Series, value) -> pd.Series:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return values.isna()
    return (values.astype(str) == str(value)).fillna(False)


def _as_range(column: str, value):
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value, value
    if isinstance(value, pd.Timestamp):
        return value, value
    raise InvalidDataError(
        f"Condition on numeric column {column!r} must be a number or a (low, high) pair, "
        f"got {value!r}."
    )
