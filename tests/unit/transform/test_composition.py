from __future__ import annotations

import numpy as np
import pandas as pd

from synthgan import TableTransformer
from synthgan.schema import resolve_schema
from synthgan.transform.composition import Composition, find_compositions


def shares_table(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Three households' shares of a postcode in tenths (rounded, so they add up to 9 to 11), a
    group of two that adds up to 9 or 10, and independent integer columns."""
    rng = np.random.default_rng(seed)
    whole = rng.dirichlet([2.0, 1.0, 1.5], n) * 10
    pair = rng.integers(0, 10, n)
    return pd.DataFrame({
        "married": whole[:, 0].round().astype(int),
        "together": whole[:, 1].round().astype(int),
        "other": whole[:, 2].round().astype(int),
        "rent": pair,
        "own": 9 - pair + (rng.random(n) < 0.02),
        "age": rng.integers(18, 90, n),
        "children": rng.integers(0, 5, n),
    })  # fmt: skip


def found(frame: pd.DataFrame) -> dict:
    return {c.columns: c for c in find_compositions(frame, resolve_schema(frame, None))}


def test_finds_the_parts_of_a_whole_and_nothing_else():
    frame = shares_table()
    groups = found(frame)
    assert set(map(frozenset, groups)) == {
        frozenset({"married", "together", "other"}), frozenset({"rent", "own"})
    }
    by_columns = {frozenset(c): g for c, g in groups.items()}
    parts = frame[["married", "together", "other"]].sum(axis=1)
    whole = by_columns[frozenset({"married", "together", "other"})]
    assert (whole.low, whole.high) == (parts.min(), parts.max())
    assert by_columns[frozenset({"rent", "own"})].high == 10


def test_independent_or_derived_columns_form_no_group():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({c: rng.integers(0, 10, 2000) for c in "abcd"})
    assert found(frame) == {}
    frame = shares_table()
    kept = find_compositions(frame, resolve_schema(frame, None), exclude={"own"})
    assert [set(c.columns) for c in kept] == [{"married", "together", "other"}]


def test_enforce_moves_only_the_rows_outside_the_range():
    group = Composition(("a", "b", "c"), low=9, high=11, shares=(0.5, 0.25, 0.25))
    frame = pd.DataFrame({
        "a": [4, 8, 0, 5, 9, None],
        "b": [3, 4, 0, 3, 9, 2],
        "c": [3, 1, 0, 3, 9, 2],
        "x": ["p", "q", "r", "s", "t", "u"],
    }).astype({"a": "Int64"})  # fmt: skip
    bounds = {"a": (0, 9), "b": (0, 9), "c": (0, 9)}
    out = group.enforce(frame, bounds)
    sums = out[["a", "b", "c"]].sum(axis=1, skipna=False)
    assert sums.iloc[:5].between(9, 11).all()
    assert out.iloc[[0, 3]].equals(frame.iloc[[0, 3]])  # 10 and 11: inside already
    assert out.iloc[1].tolist() == [7, 3, 1, "q"]  # 13 -> 11, parts scaled alike, rounded
    assert out.iloc[2, :3].tolist() == [5, 2, 2]  # every part 0: split by the shares
    assert out.iloc[4, :3].tolist() == [4, 4, 3]  # 27 -> 11, largest remainders first
    assert pd.isna(out.iloc[5, 0]) and out.iloc[5, 1] == 2  # a null: left alone
    assert out.dtypes.equals(frame.dtypes)


def test_enforce_keeps_each_part_within_its_bounds():
    group = Composition(("a", "b"), low=10, high=10, shares=(0.5, 0.5))
    frame = pd.DataFrame({"a": [1, 0], "b": [2, 3]})
    out = group.enforce(frame, {"a": (0, 2), "b": (0, 9)})
    assert out["a"].le(2).all() and (out["a"] + out["b"]).eq(10).all()


def test_the_transformer_keeps_the_sums_and_round_trips_exactly():
    frame = shares_table()
    tt = TableTransformer(derive_columns=True, random_state=0).fit(frame)
    assert len(tt.compositions_) == 2
    assert tt.inverse_transform(tt.transform(frame)).equals(frame)
    rng = np.random.default_rng(2)
    noisy = frame.copy()
    for name in ("married", "together", "other"):
        noisy[name] = rng.permutation(noisy[name].to_numpy())  # sums from 0 to 27
    out = tt.inverse_transform(tt.transform(noisy))
    parts = out[["married", "together", "other"]].sum(axis=1)
    whole = next(c for c in tt.compositions_ if "married" in c.columns)
    assert parts.between(whole.low, whole.high).all()
    assert out[["age", "children"]].equals(noisy[["age", "children"]])
    again = TableTransformer.from_state(tt.get_state())
    assert again.compositions_ == tt.compositions_
    older = {k: v for k, v in tt.get_state().items() if k != "compositions"}
    assert TableTransformer.from_state(older).compositions_ == []


def test_no_group_without_derive_columns():
    tt = TableTransformer(derive_columns=False, random_state=0).fit(shares_table(500))
    assert tt.compositions_ == []
