"""The labels ``y`` an augmenting estimator is fitted on, checked before any sampler sees them:
one per row of ``X``, present, finite and of one type (imbalanced-learn's own checks cast NaN
labels to integers, which warns, and sort labels holding None or mixing text with numbers,
which raises a TypeError that names no input)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import _num_samples

from synthgan.exceptions import InvalidDataError


def num_rows(data: Any, name: str) -> int:
    """The rows of ``X`` or ``y``, or InvalidDataError naming ``name`` when it has none."""
    try:
        return int(_num_samples(data))
    except TypeError as exc:
        raise InvalidDataError(f"{name} must be array-like with rows: {exc}") from exc


def check_labels(y: Any, n_rows: int) -> None:
    """Raise InvalidDataError when ``y`` does not hold one label per row of ``X`` (``n_rows``),
    or holds a missing (None, NaN, NA, NaT) or infinite label, or mixes text with other labels.

    Missing and infinite labels are worded as scikit-learn words them ("Input y contains NaN",
    "Input y contains infinity"); each message names the first row and the fix. A ``y`` of other
    than one dimension (or one column) is left to scikit-learn's own check.
    """
    if y is None:  # the estimator's own check says y is required
        return
    if isinstance(y, pd.Series):
        labels = y
    else:
        values = np.asarray(y)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values.ravel()
        if values.ndim != 1:
            return
        labels = pd.Series(values)
    if len(labels) != n_rows:
        raise InvalidDataError(
            f"X has {n_rows} rows and y {len(labels)} labels: give one label per row of X."
        )
    missing = labels.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)
        raise InvalidDataError(
            f"Input y contains NaN: {rows.size} missing label(s) (first at row {rows[0]}). A "
            "class label cannot be missing: drop those rows, or give them a class of their own, "
            "e.g. y.fillna('unknown')."
        )
    values = labels.to_numpy()
    if values.dtype.kind == "O":
        text = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
        if text.any() and not text.all():
            row = int(np.flatnonzero(~text)[0])
            raise InvalidDataError(
                f"y mixes text labels with {type(values[row]).__name__} labels (first at row "
                f"{row}): classes of different types cannot be ordered. Give every label one "
                "type, e.g. y.astype(str)."
            )
    if values.dtype.kind in "fc":
        infinite = np.isinf(values)
    elif values.dtype.kind == "O":  # only floats can be infinite (the string "inf" is a class)
        infinite = np.fromiter(
            (isinstance(v, float) and math.isinf(v) for v in values), dtype=bool, count=len(values)
        )
    else:
        infinite = np.zeros(len(values), dtype=bool)
    if infinite.any():
        rows = np.flatnonzero(infinite)
        raise InvalidDataError(
            f"Input y contains infinity: {rows.size} infinite label(s) (first at row {rows[0]}). "
            "Drop those rows or replace them with a class."
        )
