from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

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
    training_shares = parts.value_counts(normalize=True).sort_index()
    assert whole.totals == tuple(training_shares.reindex(range(whole.low, whole.high + 1), fill_value=0))


def test_independent_or_derived_columns_form_no_group():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({c: rng.integers(0, 10, 2000) for c in "abcd"})
    assert found(frame) == {}
    frame = shares_table()
    kept = find_compositions(frame, resolve_schema(frame, None), exclude={"own"})
    assert [set(c.columns) for c in kept] == [{"married", "together", "other"}]


def test_columns_of_huge_counts_take_no_part_and_raise_no_warning():
    # fuzz seed 20261213 on the oldest versions: values near 2**63 gave NaN variances
    # ("invalid value encountered in divide", a warning in synthgan inspect)
    frame = shares_table(n=200)
    frame["top"] = np.iinfo(np.int64).max - np.random.default_rng(2).integers(0, 30, 200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        groups = found(frame)
    assert set(map(frozenset, groups)) == {
        frozenset({"married", "together", "other"}), frozenset({"rent", "own"})
    }


def test_enforce_moves_only_the_rows_outside_the_range():
    # no shares of the sums (a model file from before them): each row goes to the nearer end
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


def test_moved_rows_fill_the_sums_the_other_rows_fall_short_of():
    group = Composition(("a", "b"), low=9, high=11, shares=(0.5, 0.5), totals=(0.5, 0.3, 0.2))
    # inside the range: four rows sum to 9, one to 10; outside: 2, 3, 15, 20, 4
    frame = pd.DataFrame({"a": [5, 4, 9, 0, 5, 1, 2, 9, 9, 4],
                          "b": [4, 5, 0, 9, 5, 1, 1, 6, 11, 0]})  # fmt: skip
    out = group.enforce(frame, {"a": (0, 20), "b": (0, 20)})
    sums = (out["a"] + out["b"]).tolist()
    assert out.iloc[:5].equals(frame.iloc[:5])  # inside: left alone
    # 10 rows want 5, 3 and 2 of the sums 9, 10 and 11; the moved rows fill 1, 2 and 2 of
    # them, the lowest sums the lowest: 2 -> 9, 3 and 4 -> 10, 15 and 20 -> 11
    assert sums[5:] == [9, 10, 11, 11, 10]
    assert sorted(sums) == [9] * 5 + [10] * 3 + [11] * 2
    assert out.iloc[6].tolist() == [7, 3]  # 2 + 1 scaled to 10 alike, rounded


def test_shares_of_the_sums_that_are_not_shares_are_refused():
    data = Composition(("a", "b"), 9, 11, (0.5, 0.5), (0.5, 0.3, 0.2)).to_dict()
    assert Composition.from_dict(data).totals == (0.5, 0.3, 0.2)
    for totals in ([0.5, 0.5], [0.5, float("nan"), 0.5], [0.0, 0.0, 0.0], [1.0, -0.5, 0.5]):
        with pytest.raises(ValueError, match="shares of its sums"):
            Composition.from_dict({**data, "totals": totals})


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
    # the moved rows fill the sums the rows inside the range fall short of
    shares = parts.value_counts(normalize=True).reindex(range(whole.low, whole.high + 1))
    assert np.abs(shares.fillna(0).to_numpy() - np.array(whole.totals)).max() < 0.01
    assert out[["age", "children"]].equals(noisy[["age", "children"]])
    again = TableTransformer.from_state(tt.get_state())
    assert again.compositions_ == tt.compositions_
    older = {k: v for k, v in tt.get_state().items() if k != "compositions"}
    assert TableTransformer.from_state(older).compositions_ == []


def test_no_group_without_derive_columns():
    tt = TableTransformer(derive_columns=False, random_state=0).fit(shares_table(500))
    assert tt.compositions_ == []


def test_reaching_the_bounds_keeps_every_row_within_its_whole():
    # reach_bounds moves a column's smallest and largest value onto the training bounds; for a
    # part it moves the extreme among the rows whose group sum stays in range
    frame = shares_table()
    tt = TableTransformer(derive_columns=True, random_state=0).fit(frame)
    names = ["married", "together", "other"]
    whole = next(c for c in tt.compositions_ if "married" in c.columns)
    rng = np.random.default_rng(3)
    sample = tt.inverse_transform(tt.transform(frame.sample(2000, random_state=4)))
    sample = sample.assign(**{n: rng.permutation(sample[n].to_numpy()) for n in names})
    sample = tt.inverse_transform(tt.transform(sample))  # sums in range again
    reached = tt.reach_bounds(sample)
    assert reached[names].sum(axis=1).between(whole.low, whole.high).all()
    for name in names:  # a row that can take each bound exists in 2,000 rows
        assert (reached[name].min(), reached[name].max()) == (frame[name].min(), frame[name].max())
    assert reached["age"].max() == frame["age"].max()  # not a part: as before
    # the row holding the largest "together" sums to the top of the range already: the next
    # largest takes the bound
    top = int(frame["together"].max())
    rows = frame.iloc[:3].copy().reset_index(drop=True)
    rows[names] = [[1, top - 1, 11 - top], [0, top - 2, 11 - top], [5, 1, 4]]  # 11, 9, 10
    reached = tt.reach_bounds(rows)
    assert reached[names].sum(axis=1).between(whole.low, whole.high).all()
    assert reached["together"].tolist() == [top - 1, top, frame["together"].min()]
