"""The class labels ``y`` an augmenting estimator is fitted on: present and finite, checked before
any sampler sees them (imbalanced-learn's own checks cast NaN to an integer, which warns, and
sort labels holding None, which raises a TypeError that names no input)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError


def check_labels(y: Any) -> None:
    """Raise InvalidDataError when ``y`` holds a missing (None, NaN, NA, NaT) or infinite label.

    The message starts "Input y contains NaN" or "Input y contains infinity", scikit-learn's own
    wording, and names the first row and the fix.
    """
    if y is None:  # the estimator's own check says y is required
        return
    labels = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y).ravel())
    missing = labels.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)
        raise InvalidDataError(
            f"Input y contains NaN: {rows.size} missing label(s) (first at row {rows[0]}). A "
            "class label cannot be missing: drop those rows, or give them a class of their own, "
            "e.g. y.fillna('unknown')."
        )
    values = labels.to_numpy()
    if values.dtype.kind in "fc":
        infinite = np.isinf(values)
    else:  # other dtypes: only floats can be infinite (the string "inf" is a class)
        infinite = np.fromiter(
            (isinstance(v, float) and math.isinf(v) for v in values), dtype=bool, count=len(values)
        )
    if infinite.any():
        rows = np.flatnonzero(infinite)
        raise InvalidDataError(
            f"Input y contains infinity: {rows.size} infinite label(s) (first at row {rows[0]}). "
            "Drop those rows or replace them with a class."
        )
