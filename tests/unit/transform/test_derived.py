from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from synthgan import TableTransformer
from synthgan.schema import resolve_schema
from synthgan.transform.derived import Lookup, Monotone, Sum, find_derivations


def related_table(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    levels = ["Bachelors", "HS-grad", "Masters", "Some-college"]
    education = rng.choice(levels, n)
    day = rng.integers(1, 366, n)
    logwage = rng.normal(4.6, 0.4, n).round(6)
    casual = rng.integers(0, 100, n)
    registered = rng.integers(0, 500, n)
    return pd.DataFrame({
        "education": education,
        "education_num": pd.Series(education).map({"Bachelors": 13, "HS-grad": 9, "Masters": 14,
                                                   "Some-college": 10}).to_numpy(),
        "day": day,
        "month": np.minimum((day - 1) // 31 + 1, 12),
        "logwage": logwage,
        "wage": np.exp(logwage),
        "casual": casual,
        "registered": registered,
        "bikers": casual + registered,
        "noise": rng.normal(size=n),
    })  # fmt: skip


def found(frame: pd.DataFrame, **kwargs) -> dict:
    relations = find_derivations(frame, resolve_schema(frame, None), **kwargs)
    return {r.target: r for r in relations}


def test_finds_each_kind_of_relation():
    relations = found(related_table())
    assert isinstance(relations["education_num"], Lookup)
    assert relations["education_num"].source == "education"
    assert isinstance(relations["month"], Lookup) and relations["month"].source == "day"
    assert isinstance(relations["wage"], Monotone) and relations["wage"].source == "logwage"
    assert isinstance(relations["bikers"], Sum)
    assert {relations["bikers"].left, relations["bikers"].right} == {"casual", "registered"}
    assert set(relations) == {"education_num", "month", "wage", "bikers"}


def test_a_relation_broken_by_one_row_is_not_found():
    frame = related_table()
    frame.loc[7, "month"] = 12 if frame.loc[7, "month"] != 12 else 1
    frame.loc[8, "bikers"] += 1
    frame.loc[9, "wage"] = frame["wage"].max() + 1.0
    assert set(found(frame)) == {"education_num"}


def test_unique_keys_determine_nothing_and_kept_columns_stay_modelled():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"key": np.arange(500) * 1.5, "flag": rng.choice(["a", "b"], 500)})
    assert found(frame) == {}  # every key once: no evidence of a relation
    frame = related_table()
    assert "education_num" not in found(frame, keep=("education_num",))


def test_sums_near_the_float_maximum_overflow_without_a_warning():
    # fuzz seed 20261206 on the oldest versions: "overflow encountered in add" (a warning)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=10) * 1e300, "b": rng.normal(size=10) * 1e300,
                          "c": rng.uniform(-0.85e308, 0.85e308, 10) * 2})  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert found(frame) == {}


def test_columns_with_nulls_take_no_part():
    frame = related_table()
    frame.loc[3, "education"] = None
    assert "education_num" not in found(frame)


def test_derived_columns_leave_the_layout_and_come_back_exactly():
    frame = related_table()
    transformer = TableTransformer(random_state=0, quantile_knots=500, quantile_bins=16,
                                   derive_columns=True).fit(frame)  # fmt: skip
    plain = TableTransformer(random_state=0, quantile_knots=500, quantile_bins=16).fit(frame)
    assert transformer.layout_.dim < plain.layout_.dim
    assert {r.target for r in transformer.derivations} == {"education_num", "month", "wage",
                                                           "bikers"}  # fmt: skip
    again = TableTransformer.from_state(transformer.get_state())
    back = again.inverse_transform(transformer.transform(frame))
    assert list(back.columns) == list(frame.columns)
    for column in ("education", "education_num", "day", "month", "casual", "registered", "bikers"):
        pd.testing.assert_series_equal(back[column], frame[column], check_names=False)
    np.testing.assert_allclose(back["wage"], frame["wage"], rtol=1e-2)


def test_decoded_rows_keep_every_relation_whatever_the_sources():
    frame = related_table()
    transformer = TableTransformer(random_state=0, quantile_knots=500, quantile_bins=16,
                                   derive_columns=True).fit(frame)  # fmt: skip
    rng = np.random.default_rng(2)
    layout = transformer.layout_
    n = 3000
    scalars = rng.uniform(-1, 1, (len(layout.tanh_spans), n))
    codes = np.stack([rng.integers(0, span.width, n) for span in layout.softmax_spans])
    rows = transformer.decode(scalars, codes)
    lookup = {"Bachelors": 13, "HS-grad": 9, "Masters": 14, "Some-college": 10}
    assert (rows["education_num"] == rows["education"].map(lookup)).all()
    assert (rows["bikers"] == rows["casual"] + rows["registered"]).all()
    assert rows["month"].between(1, 12).all()
    day_to_month = frame.groupby("day")["month"].first()
    seen = rows["day"].isin(day_to_month.index)  # an unseen day takes the nearest seen one's
    assert seen.mean() > 0.9
    assert (rows["month"][seen] == rows["day"][seen].map(day_to_month)).all()
    order = np.argsort(rows["logwage"].to_numpy())
    assert np.all(np.diff(rows["wage"].to_numpy()[order]) >= 0)
    assert str(rows["education_num"].dtype) == str(frame["education_num"].dtype)


@pytest.mark.parametrize("value", [13, (9, 10)])
def test_conditions_on_a_derived_column(value):
    from synthgan import Synthesizer

    frame = related_table(600)
    model = Synthesizer(epochs=1, batch_size=100, pac=10, random_state=0, verbose=False,
                        rejection=False).fit(frame)  # fmt: skip
    rows = model.sample(50, conditions={"education_num": value})
    low, high = value if isinstance(value, tuple) else (value, value)
    assert len(rows) == 50 and rows["education_num"].between(low, high).all()
