"""Streamed column statistics against pandas' exact ones, merging, the row sample."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthgan.transform import TableTransformer
from synthgan.transform.stats import RowReservoir, scan
from tests.conftest import make_mixed_frame


def batches(df: pd.DataFrame, rows: int):
    for first in range(0, len(df), rows):
        yield df.iloc[first : first + rows].reset_index(drop=True)


@pytest.fixture(scope="module")
def mixed():
    return make_mixed_frame(n=1000, nulls=True)


class TestColumnStats:
    def test_equal_pandas_exact_statistics(self, mixed):
        stats = scan(batches(mixed, 137), seed=0)
        assert stats.rows == len(mixed)
        for name, column in stats.columns.items():
            series = mixed[name]
            assert column.nulls == series.isna().sum(), name
            expected = series.value_counts(dropna=True)
            expected = expected[expected > 0]
            got = column.counts
            assert len(got) == len(expected), name
            assert all(got[value] == count for value, count in expected.items()), name
            if name in ("price", "count", "day", "stamp_tz"):
                assert column.minimum == series.min() and column.maximum == series.max(), name

    def test_merge_of_parts_equals_the_whole(self, mixed):
        whole = scan(batches(mixed, 100), seed=0)
        first = scan(batches(mixed.iloc[:400].reset_index(drop=True), 100), seed=0)
        second = scan(batches(mixed.iloc[400:].reset_index(drop=True), 100), seed=1)
        merged = first.merge(second)
        for name, column in whole.columns.items():
            other = merged.columns[name]
            assert (column.rows, column.nulls) == (other.rows, other.nulls)
            assert column.counts.sort_index().equals(other.counts.sort_index()), name
        assert merged.rows == len(mixed) and len(merged.sample) == len(mixed)

    def test_overflow_keeps_exact_bounds_and_marks_the_column(self, mixed):
        stats = scan(batches(mixed, 100), max_distinct=50, sample_rows=200, seed=0)
        price = stats.columns["price"]
        assert not price.exact and price.counts is None
        assert price.minimum == mixed["price"].min() and price.nulls == mixed["price"].isna().sum()
        assert stats.columns["city"].exact


    @pytest.mark.parametrize("numpy_dtype,nullable", [("int64", "Int64"), ("uint8", "UInt8")])
    def test_an_integer_column_whose_later_batch_holds_nulls(self, numpy_dtype, nullable):
        # io.iter_frames gives a batch with nulls pandas' nullable integers, one without numpy's
        full = pd.DataFrame({"k": pd.array([1, 2, 3, 4], dtype=numpy_dtype)})
        holed = pd.DataFrame({"k": pd.array([5, None], dtype=nullable)})
        stats = scan([full, holed], seed=0)
        assert stats.columns["k"].dtype == nullable
        values, counts = stats.columns["k"].value_table()
        assert values.tolist() == [1, 2, 3, 4, 5] and counts.tolist() == [1] * 5
        merged = scan([full], seed=0).merge(scan([holed], seed=1))
        assert merged.columns["k"].dtype == nullable


class TestRowReservoir:
    def test_small_table_is_kept_whole_in_order(self, mixed):
        stats = scan(batches(mixed, 64), sample_rows=5000, seed=3)
        assert stats.complete
        pd.testing.assert_frame_equal(stats.sample, mixed)

    def test_bounded_uniform_and_seeded(self):
        frame = pd.DataFrame({"x": np.arange(20_000)})
        a = RowReservoir(500, seed=1)
        b = RowReservoir(500, seed=1)
        for part in batches(frame, 999):
            a.update(part)
            b.update(part)
        assert len(a.frame) == 500 and a.frame.equals(b.frame)
        assert a.frame["x"].is_monotonic_increasing
        # uniform: each tenth of the table holds about a tenth of the sample
        share = np.bincount(a.frame["x"] // 2000, minlength=10) / 500
        assert np.all(np.abs(share - 0.1) < 0.05)


class TestFitStats:
    def test_same_state_as_fit_on_the_table(self, mixed):
        kw = {"quantile_knots": 1000, "quantile_bins": 32, "random_state": 0}
        direct = TableTransformer(**kw).fit(mixed)
        streamed = TableTransformer(**kw).fit_stats(scan(batches(mixed, 77), seed=0))
        assert json.dumps(direct.get_state(), default=str) == json.dumps(
            streamed.get_state(), default=str
        )

    def test_overflowed_column_is_fitted_on_the_sample_with_exact_bounds(self, mixed):
        stats = scan(batches(mixed, 100), max_distinct=50, sample_rows=200, seed=0)
        transformer = TableTransformer(quantile_knots=100, quantile_bins=8, random_state=0)
        transformer.fit_stats(stats)
        price = transformer.transformers_["price"]
        assert price.min_ == mixed["price"].min() and price.max_ == mixed["price"].max()
        assert price.has_nulls_

    def test_float_with_a_fraction_outside_the_sample_is_continuous(self):
        values = np.arange(5000, dtype=float)
        values[4321] = 0.5
        frame = pd.DataFrame({"x": values, "k": np.arange(5000) % 7})
        stats = scan(batches(frame, 1000), sample_rows=100, seed=0)
        assert 4321 not in stats.reservoir.rows
        assert stats.schema(None).kind("x").value == "continuous"

    def test_categorical_overflow_names_the_column(self):
        frame = pd.DataFrame({"c": [f"v{i % 300}" for i in range(3000)]})
        stats = scan(batches(frame, 500), max_distinct=100, sample_rows=50, seed=0)
        with pytest.raises(Exception, match=r"Column 'c' has more than 100 distinct values"):
            TableTransformer().fit_stats(stats)
