from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from synthgan.evaluate import evaluate
from synthgan.evaluate.fidelity import ks_statistic, total_variation


class TestKsStatistic:
    def test_matches_scipy(self):
        rng = np.random.default_rng(0)
        a, b = rng.normal(size=300), rng.normal(0.3, 1.2, size=200)
        assert ks_statistic(a, b) == pytest.approx(ks_2samp(a, b).statistic)

    def test_with_ties(self):
        a = np.array([1.0, 1.0, 2.0, 3.0])
        b = np.array([1.0, 2.0, 2.0, 2.0])
        assert ks_statistic(a, b) == pytest.approx(ks_2samp(a, b).statistic)

    def test_disjoint_samples(self):
        assert ks_statistic(np.arange(5.0), np.arange(10.0, 15.0)) == 1.0


class TestTotalVariation:
    def test_known_value(self):
        real = np.array(["a", "a", "b", "b"], dtype=object)
        synth = np.array(["a", "b", "b", "c"], dtype=object)
        # |0.5-0.25| + |0.5-0.5| + |0-0.25| = 0.5, halved
        assert total_variation(real, synth) == pytest.approx(0.25)

    def test_identical(self):
        labels = np.array(["x", "y", "y"], dtype=object)
        assert total_variation(labels, labels[::-1]) == 0.0


def frame(values: dict) -> pd.DataFrame:
    return pd.DataFrame(values)


class TestPerColumnScores:
    def test_coverage_and_adherence_of_a_half_range(self):
        real = frame({"v": np.linspace(0, 10, 101), "c": ["a", "b", "c", "d"] * 25 + ["a"]})
        synth = frame({"v": np.linspace(5, 15, 101), "c": ["a", "b", "z", "z"] * 25 + ["a"]})
        table = evaluate(real, synth, metrics=["coverage"]).columns.set_index("column")
        assert table.loc["v", "coverage"] == pytest.approx(0.5)
        assert table.loc["v", "adherence"] == pytest.approx(51 / 101)
        assert table.loc["c", "coverage"] == pytest.approx(0.5)  # a and b of a, b, c, d
        assert table.loc["c", "adherence"] == pytest.approx(51 / 101)

    def test_null_rate_difference(self):
        real = frame({"v": [1.0, 2.0, np.nan, np.nan]})
        synth = frame({"v": [1.0, 2.0, 3.0, np.nan]})
        report = evaluate(real, synth, metrics=["null_rate_difference", "column_shapes"])
        assert report.scores["null_rate_difference"] == pytest.approx(0.25)
        # shapes compare the non-null values only
        assert report.columns.loc[0, "shape"] == pytest.approx(1 - 1 / 3)

    def test_wasserstein_of_a_shift_by_one_deviation(self):
        rng = np.random.default_rng(0)
        values = rng.normal(10, 2, size=2000)
        report = evaluate(frame({"v": values}), frame({"v": values + 2}), metrics=["wasserstein"])
        assert report.scores["wasserstein"] == pytest.approx(1.0, rel=0.01)

    def test_all_null_synthetic_column_scores_zero(self):
        real = frame({"v": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
        synth = frame({"v": [np.nan] * 3, "c": [None] * 3})
        table = evaluate(real, synth, metrics=["column_shapes"]).columns
        assert table["shape"].tolist() == [0.0, 0.0]

    def test_datetimes_compare_as_numbers(self):
        days = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(100), unit="D")
        later = days + pd.Timedelta(days=1000)
        report = evaluate(frame({"d": days}), frame({"d": later}), metrics=["column_shapes"])
        assert report.scores["column_shapes"] == 0.0
        assert report.columns.loc[0, "kind"] == "datetime"

    def test_tz_aware_datetimes(self):
        stamps = pd.Series(pd.date_range("2021-01-01", periods=60, freq="h", tz="Europe/Berlin"))
        report = evaluate(frame({"t": stamps}), frame({"t": stamps}), metrics=["column_shapes"])
        assert report.scores["column_shapes"] == 1.0


class TestColumnPairs:
    def test_reversed_correlation_scores_zero(self):
        x = np.linspace(-1, 1, 200)
        real, synth = frame({"x": x, "y": x}), frame({"x": x, "y": -x})
        assert evaluate(real, synth, metrics=["column_pairs"]).scores["column_pairs"] == (
            pytest.approx(0.0)
        )

    def test_contingency_similarity_of_swapped_labels(self):
        real = frame({"a": ["p", "q"] * 50, "b": ["u", "v"] * 50})
        synth = frame({"a": ["p", "q"] * 50, "b": ["v", "u"] * 50})
        # joint frequencies {pu: .5, qv: .5} vs {pv: .5, qu: .5}: disjoint
        assert evaluate(real, synth, metrics=["column_pairs"]).scores["column_pairs"] == 0.0

    def test_heatmap_matrix_is_symmetric_with_unit_diagonal(self, known_reports):
        pairs = known_reports["shuffled"].plots["pairs"]
        np.testing.assert_allclose(pairs.to_numpy(), pairs.to_numpy().T)
        np.testing.assert_allclose(np.diag(pairs.to_numpy()), 1.0)
        assert "row_id" not in pairs.columns  # id-like columns are not compared
