from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgan import InvalidDataError, NotFittedError, TableTransformer
from synthgan.transform import Activation, SpanRole
from tests.conftest import make_mixed_frame

MODELLED = [
    "price",
    "count",
    "count_nullable",
    "city",
    "city_string",
    "grade",
    "flag",
    "flag_nullable",
    "day",
    "stamp_tz",
    "constant",
]


def assert_restored(original: pd.DataFrame, restored: pd.DataFrame, columns) -> None:
    for name in columns:
        a, b = original[name], restored[name]
        assert b.dtype == a.dtype, name
        np.testing.assert_array_equal(a.isna().to_numpy(), b.isna().to_numpy(), err_msg=name)
        present = a.notna().to_numpy()
        if pd.api.types.is_float_dtype(a.dtype):
            span = float(a.max() - a.min()) or 1.0
            np.testing.assert_allclose(
                b[present].to_numpy(float),
                a[present].to_numpy(float),
                atol=1e-5 * span,
                err_msg=name,
            )
        else:
            assert (b[present].to_numpy() == a[present].to_numpy()).all(), name


@pytest.mark.parametrize("nulls", [False, True], ids=["no-nulls", "nulls"])
class TestRoundTrip:
    def test_every_kind(self, nulls):
        df = make_mixed_frame(nulls=nulls)
        tt = TableTransformer(random_state=0).fit(df)
        data = tt.transform(df)
        assert data.dtype == np.float32 and data.shape == (len(df), tt.layout_.dim)
        back = tt.inverse_transform(data)
        assert list(back.columns) == list(df.columns)
        assert_restored(df, back, MODELLED)

    def test_ids_are_regenerated_with_the_same_shape(self, nulls):
        df = make_mixed_frame(nulls=nulls)
        tt = TableTransformer(random_state=0).fit(df)
        back = tt.inverse_transform(tt.transform(df))
        assert back["user_id"].is_unique and back["code"].is_unique
        assert not set(back["user_id"]) & set(df["user_id"])
        assert back["code"].str.fullmatch(r"[A-Z]{2}-\d{5}").all()
        assert back["user_id"].dtype == df["user_id"].dtype


def test_adult_round_trip_is_exact(adult):
    train = adult[0]
    tt = TableTransformer(random_state=0).fit(train)
    back = tt.inverse_transform(tt.transform(train))
    assert_restored(train, back, train.columns)


def test_ordered_categorical_stays_ordered():
    grades = pd.Categorical(
        ["low", "high", "mid"] * 10, categories=["low", "mid", "high"], ordered=True
    )
    df = pd.DataFrame({"grade": grades})
    tt = TableTransformer(random_state=0).fit(df)
    back = TableTransformer.from_state(tt.get_state()).inverse_transform(tt.transform(df))
    assert back["grade"].dtype == df["grade"].dtype and back["grade"].cat.ordered
    assert (back["grade"] == df["grade"]).all()


def test_layout_describes_every_span():
    df = make_mixed_frame(nulls=True)
    tt = TableTransformer(random_state=0).fit(df)
    spans = tt.layout_.spans
    assert spans[0].start == 0
    for before, after in zip(spans, spans[1:]):
        assert after.start == before.stop
    price = tt.layout_.spans_of("price")
    assert [s.role for s in price] == [SpanRole.SCALAR, SpanRole.COMPONENT]
    assert [s.activation for s in price] == [Activation.TANH, Activation.SOFTMAX]
    assert [s.column for s in tt.layout_.discrete_spans] == [
        "city",
        "city_string",
        "grade",
        "flag",
        "flag_nullable",
    ]
    assert tt.layout_.spans_of("user_id") == ()


def test_datetime_keeps_resolution_and_zone():
    df = make_mixed_frame(nulls=False)
    tt = TableTransformer(random_state=0).fit(df)
    data = tt.transform(df)
    data[:, tt.layout_.spans_of("day")[0].start] += 0.0013  # a nudge well inside one day
    back = tt.inverse_transform(data)
    assert (back["day"].dt.normalize() == back["day"]).all()
    assert str(back["stamp_tz"].dt.tz) == "Europe/Berlin"


def test_inverse_clips_to_the_observed_range():
    df = pd.DataFrame({"age": np.random.default_rng(0).integers(18, 90, 500)})
    tt = TableTransformer(random_state=0).fit(df)
    data = tt.transform(df)
    data[:, 0] = 1.0  # every scalar at the top of its mode
    back = tt.inverse_transform(data)
    assert back["age"].between(18, 89).all() and back["age"].dtype == np.int64
    unclipped = TableTransformer(random_state=0, clip=False).fit(df)
    data = unclipped.transform(df)
    data[:, 0] = 1.0
    assert unclipped.inverse_transform(data)["age"].max() > 89


def test_state_round_trip_gives_the_same_transformer():
    df = make_mixed_frame(nulls=True)
    tt = TableTransformer(random_state=0).fit(df)
    data = tt.transform(df)
    clone = TableTransformer.from_state(tt.get_state())
    assert clone.layout_ == tt.layout_
    a = tt.inverse_transform(data, random_state=1)
    b = clone.inverse_transform(data, random_state=1)
    pd.testing.assert_frame_equal(a, b)


def test_random_state_makes_transform_reproducible():
    df = make_mixed_frame(nulls=True)
    a = TableTransformer(random_state=3).fit(df).transform(df)
    b = TableTransformer(random_state=3).fit(df).transform(df)
    np.testing.assert_array_equal(a, b)


class TestErrors:
    def test_not_fitted(self):
        with pytest.raises(NotFittedError, match="This TableTransformer is not fitted yet"):
            TableTransformer().transform(pd.DataFrame({"a": [1]}))

    def test_unseen_category(self):
        df = pd.DataFrame({"c": ["a", "b"] * 10})
        tt = TableTransformer().fit(df)
        with pytest.raises(
            InvalidDataError, match=r"Column 'c' has categories not seen at fit time: \['z'\]"
        ):
            tt.transform(pd.DataFrame({"c": ["a", "z"]}))

    def test_missing_column(self):
        df = pd.DataFrame({"amount": [1.0, 2.5] * 10, "c": ["a", "b"] * 10})
        tt = TableTransformer().fit(df)
        with pytest.raises(
            InvalidDataError, match="Columns missing from the table: \\['amount'\\]"
        ):
            tt.transform(pd.DataFrame({"amont": [1.0], "c": ["a"]}))

    def test_wrong_array_width(self):
        tt = TableTransformer().fit(pd.DataFrame({"c": ["a", "b"] * 10}))
        with pytest.raises(InvalidDataError, match=r"expects an array of shape \(n, 2\)"):
            tt.inverse_transform(np.zeros((3, 5)))

    def test_bad_parameter(self):
        with pytest.raises(InvalidDataError, match="max_modes=0"):
            TableTransformer(max_modes=0).fit(pd.DataFrame({"a": [1.0, 2.0]}))


class TestReachBounds:
    def test_one_row_per_bound_moves_onto_it_exactly(self):
        df = make_mixed_frame(nulls=True)
        tt = TableTransformer(random_state=0).fit(df)
        numeric = ["price", "count", "count_nullable", "day", "stamp_tz"]
        inside = df.copy()
        for column in numeric:  # every row strictly inside the training range
            low, high = df[column].min(), df[column].max()
            inside = inside[inside[column].isna() | inside[column].between(low, high, "neither")]
        inside = inside.reset_index(drop=True)
        moved = tt.reach_bounds(inside)
        for column in numeric:
            assert moved[column].min() == df[column].min()
            assert moved[column].max() == df[column].max()
            assert moved[column].dtype == df[column].dtype
            changed = moved[column].ne(inside[column]) & inside[column].notna()
            assert changed.sum() == 2
        pd.testing.assert_frame_equal(moved.drop(columns=numeric), inside.drop(columns=numeric))
        assert moved[numeric].isna().equals(inside[numeric].isna())

    def test_derived_columns_follow_their_moved_sources(self):
        rng = np.random.default_rng(0)
        df = pd.DataFrame({"a": rng.integers(0, 100, 400), "b": rng.integers(0, 50, 400)})
        df["total"] = df["a"] + df["b"]
        tt = TableTransformer(random_state=0, derive_columns=True).fit(df)
        assert [d.target for d in tt.derivations] == ["total"]
        inside = df[df["a"].between(1, 98) & df["b"].between(1, 48)].reset_index(drop=True)
        moved = tt.reach_bounds(inside)
        assert (moved["a"].min(), moved["a"].max()) == (df["a"].min(), df["a"].max())
        assert (moved["total"] == moved["a"] + moved["b"]).all()

    def test_integers_beyond_float_precision_land_on_their_bounds_exactly(self):
        rng = np.random.default_rng(0)
        values = rng.integers(0, 2**59, 80)
        values[:2] = [-(2**61) - 3, 2**60 + 1]  # offsets from the minimum a float rounds down
        df = pd.DataFrame({"big": rng.choice(values, 2000)})
        tt = TableTransformer(random_state=0).fit(df)
        inside = df[df["big"].between(-(2**61) - 2, 2**60)].reset_index(drop=True)
        moved = tt.reach_bounds(inside)
        assert moved["big"].min() == -(2**61) - 3 and moved["big"].max() == 2**60 + 1
