"""How the evaluator reads a column: as numbers or as category labels, the same way everywhere.

Integer columns count as continuous and datetimes as numbers (seconds since 1970, UTC for
tz-aware columns); discrete and boolean columns are compared as string labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError
from synthgan.schema import ColumnKind, Schema, epoch_seconds

NUMERIC_KINDS = (ColumnKind.CONTINUOUS, ColumnKind.INTEGER, ColumnKind.DATETIME)
CATEGORICAL_KINDS = (ColumnKind.DISCRETE, ColumnKind.BOOLEAN)
NULL_LABEL = "\x00null"
"""The label a null category gets where nulls count as a value of their own."""


def is_numeric(kind: ColumnKind) -> bool:
    return kind in NUMERIC_KINDS


def is_categorical(kind: ColumnKind) -> bool:
    return kind in CATEGORICAL_KINDS


def evaluated_columns(schema: Schema) -> list[str]:
    """Columns the fidelity metrics compare: every numeric and categorical one (not ids)."""
    return [c.name for c in schema.columns if is_numeric(c.kind) or is_categorical(c.kind)]


def largest_magnitude(*arrays: np.ndarray) -> float:
    """The largest absolute value in ``arrays`` (each non-empty, without NaN), at least the
    smallest normal float: columns divided by it keep their ranks, ratios and correlations, and
    their differences and sums of squares do not overflow near +-1.7e308."""
    return max(*(float(np.abs(values).max()) for values in arrays), np.finfo(float).tiny)


def numeric_values(series: pd.Series, *, table: str = "table") -> np.ndarray:
    """The values of a numeric or datetime column as float64, nulls as NaN.

    Returns
    -------
    ndarray of shape (n,)
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return epoch_seconds(series)
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    try:
        converted = pd.to_numeric(series, errors="raise")
    except (ValueError, TypeError):
        raise InvalidDataError(
            f"Column {series.name!r} of the {table} holds non-numeric values ({series.dtype}) "
            "where the real data has numbers. Convert it, e.g. "
            "df[col] = pandas.to_numeric(df[col])."
        ) from None
    return converted.to_numpy(dtype="float64", na_value=np.nan)


def category_labels(series: pd.Series) -> np.ndarray:
    """The values of a column as string labels (object array), nulls as None.

    Returns
    -------
    ndarray of shape (n,), dtype object
    """
    return series.astype("string").to_numpy(dtype=object, na_value=None)


def row_keys(schema: Schema, columns: list[str], df: pd.DataFrame, table: str) -> np.ndarray:
    """A 64-bit hash of each row's values in ``columns`` (numbers as floats, categories as labels,
    null as a value), equal for rows that are identical in those columns.

    Returns
    -------
    ndarray of shape (n_rows,), dtype uint64
    """
    values = {}
    for name in columns:
        if is_numeric(schema.kind(name)):
            values[name] = numeric_values(df[name], table=table)
        else:
            labels = category_labels(df[name])
            labels[pd.isna(labels)] = NULL_LABEL
            values[name] = labels
    return pd.util.hash_pandas_object(pd.DataFrame(values), index=False).to_numpy()
