"""What a correct result is, checked column by column; and what a clean refusal must say."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd

from synthgan.schema import ColumnKind
from tests.fuzz.strategies import BAD, EITHER, OK, TableCase

ROUND_TRIP_RTOL = 2e-6
"""A numeric value modelled by a Gaussian mode comes back through a float32 scalar, within
2e-6 of the column's spread (float32 keeps 6e-8; the factor leaves room for the float64 steps).
Integers and datetimes are rounded to whole units, so a spread below 250,000 units comes back
exactly; point masses (a column's common exact values) always come back exactly."""

TABLE_MESSAGES = {
    "empty": "The table is empty",
    "duplicate": "Duplicate column names",
    "non-string": "Column names must be strings",
}


@contextlib.contextmanager
def no_warnings():
    """Fail on any warning the code under test raises (pyproject turns ours into errors too)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    shown = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught]
    assert not shown, "warnings raised:\n" + "\n".join(shown)


def refusal_is_clean(case: TableCase, message: str) -> None:
    """A SynthganError for ``case`` must be expected and say what is wrong and where."""
    assert message and "\n" not in message.strip(), f"not one line: {message!r}"
    problems = {case.table_problem} | ({"empty"} if len(case.df) == 0 else set())
    problems.discard("")
    if problems:
        wanted = [TABLE_MESSAGES[p] for p in problems]
        assert any(w in message for w in wanted), f"{message!r} does not say {wanted}"
        return
    assert case.expect in (BAD, EITHER), f"refused a table synthgan must model: {message!r}"
    named = [repr(str(name)) for name in case.suspects]
    assert any(n in message for n in named), f"{message!r} names none of {named}"


def _integers(series: pd.Series) -> list[int]:
    """Exact Python ints of the non-null values (datetimes: in the dtype's own unit)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [int(v) for v in series.dropna().array.asi8]
    return [int(v) for v in series.dropna().astype(object)]


def assert_numbers_close(name, original: pd.Series, restored: pd.Series) -> None:
    if pd.api.types.is_float_dtype(original.dtype):
        a = original.dropna().to_numpy(np.float64) / 2  # halves: no overflow at 1.7e308
        b = restored.dropna().to_numpy(np.float64) / 2
        tolerance = ROUND_TRIP_RTOL * (a.max() - a.min()) if a.size else 0.0
        worst = np.abs(b - a).max() if a.size else 0.0
        assert worst <= tolerance, (
            f"{name!r}: round trip off by {2 * worst:.6g} (tolerance {2 * tolerance:.6g}); "
            f"first values {original.dropna().head(3).tolist()} -> "
            f"{restored.dropna().head(3).tolist()}"
        )
        return
    a, b = _integers(original), _integers(restored)
    tolerance = ROUND_TRIP_RTOL * (max(a) - min(a)) if a else 0
    worst = max((abs(x - y) for x, y in zip(a, b)), default=0)
    assert worst <= tolerance, (
        f"{name!r}: round trip off by {worst} units (tolerance {tolerance:.3g}); first values "
        f"{original.dropna().head(3).tolist()} -> {restored.dropna().head(3).tolist()}"
    )


def assert_restored(name, kind: ColumnKind, original: pd.Series, restored: pd.Series) -> None:
    """``restored`` is ``original`` after a round trip through the transformer."""
    assert restored.dtype == original.dtype, (
        f"{name!r}: dtype {original.dtype} came back as {restored.dtype}"
    )
    assert len(restored) == len(original), f"{name!r}: {len(original)} rows -> {len(restored)}"
    if kind is ColumnKind.ID:
        present = restored.dropna()
        assert present.is_unique, f"{name!r}: regenerated ids repeat"
        if pd.api.types.is_integer_dtype(original.dtype):
            assert not set(present) & set(original.dropna()), f"{name!r}: an id was copied"
        return
    np.testing.assert_array_equal(
        original.isna().to_numpy(), restored.isna().to_numpy(), err_msg=f"{name!r}: nulls moved"
    )
    if kind.is_numeric:
        assert_numbers_close(name, original, restored)
        return
    a = original.dropna().astype(object).to_numpy()
    b = restored.dropna().astype(object).to_numpy()
    same = [x == y and type(x) is type(y) for x, y in zip(a, b)]
    assert all(same), (
        f"{name!r}: values changed, e.g. {a[~np.array(same)][:3].tolist()} -> "
        f"{b[~np.array(same)][:3].tolist()}"
    )


def assert_sample_matches(name, kind: ColumnKind, original: pd.Series, sampled: pd.Series) -> None:
    """A synthetic column: the input's dtype, values within its bounds / categories, and no
    null where the input had none."""
    assert sampled.dtype == original.dtype, (
        f"{name!r}: dtype {original.dtype} sampled as {sampled.dtype}"
    )
    if kind is ColumnKind.ID:
        assert sampled.dropna().is_unique, f"{name!r}: sampled ids repeat"
        return
    if not original.isna().any():
        assert not sampled.isna().any(), f"{name!r}: nulls sampled where the input had none"
    present = sampled.dropna()
    if not len(present):
        return
    if kind.is_numeric:
        if pd.api.types.is_float_dtype(original.dtype):
            lo, hi = original.min(), original.max()
            assert np.isfinite(present.to_numpy(np.float64)).all(), f"{name!r}: inf sampled"
        else:
            ints = _integers(original)
            lo, hi = min(ints), max(ints)
            present = pd.Series(_integers(present), dtype=object)
        assert present.min() >= lo and present.max() <= hi, (
            f"{name!r}: sampled range [{present.min()}, {present.max()}] outside [{lo}, {hi}]"
        )
        return
    seen = set(original.dropna().astype(object))
    unseen = [v for v in present.astype(object) if v not in seen]
    assert not unseen, f"{name!r}: sampled categories never seen: {unseen[:3]}"


__all__ = [
    "BAD",
    "EITHER",
    "OK",
    "assert_restored",
    "assert_sample_matches",
    "no_warnings",
    "refusal_is_clean",
]
