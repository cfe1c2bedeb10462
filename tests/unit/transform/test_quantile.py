from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from synthgan import TableTransformer
from synthgan.transform.quantile import QuantileMap


def fitted(x: np.ndarray, knots: int = 1000) -> QuantileMap:
    values, counts = np.unique(x, return_counts=True)
    return QuantileMap.fit(values, counts, knots)


class TestQuantileMap:
    @pytest.mark.parametrize("magnitude", [1e-6, 1.0, 1e6])
    def test_round_trip_through_float32(self, magnitude):
        rng = np.random.default_rng(0)
        x = rng.lognormal(size=5000) * magnitude
        quantiles = fitted(x)
        z = quantiles.to_normal(x, rng).astype(np.float32)
        span = x.max() - x.min()
        np.testing.assert_allclose(quantiles.from_normal(z.astype(np.float64)), x,
                                   atol=1e-5 * span, rtol=0)  # fmt: skip

    def test_extremes_and_tied_values_come_back_exactly(self):
        rng = np.random.default_rng(1)
        x = rng.integers(17, 91, 10_000).astype(float)  # ages: ties everywhere
        quantiles = fitted(x)
        back = quantiles.from_normal(quantiles.to_normal(x, rng).astype(np.float32))
        np.testing.assert_array_equal(back, x)

    @pytest.mark.parametrize("kind", ["skewed", "integers", "bimodal"])
    def test_z_is_standard_normal(self, kind):
        rng = np.random.default_rng(2)
        x = {
            "skewed": rng.exponential(size=20_000),
            "integers": rng.poisson(3, 20_000).astype(float),
            "bimodal": np.r_[rng.normal(0, 1, 10_000), rng.normal(50, 0.1, 10_000)],
        }[kind]
        z = fitted(x).to_normal(x, rng)
        assert stats.kstest(z, "norm").statistic < 0.01

    def test_normal_draws_give_the_real_marginal(self):
        rng = np.random.default_rng(3)
        x = rng.gamma(2.0, size=20_000)
        drawn = fitted(x).from_normal(rng.normal(size=20_000))
        assert stats.ks_2samp(drawn, x).statistic < 0.02

    def test_values_near_the_float_range_give_finite_knots_and_draws(self):
        # found by the fuzz suite (rotating seed 20261203): the midpoint of two values near
        # +-1.6e308 overflowed, and np.interp between knots further apart than the largest
        # float returns inf
        rng = np.random.default_rng(5)
        x = np.array([-1.643806e308, -1.560690e308, -7.827252e307, 1.483250e307,
                      1.065119e308, 1.403369e308, 1.479246e308])  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            quantiles = fitted(x)
            assert quantiles.spans_beyond_float_range
            assert np.isfinite(quantiles.values).all()
            drawn = quantiles.from_normal(rng.normal(size=2000))
            z = quantiles.to_normal(x, rng)
        assert np.isfinite(drawn).all() and np.isfinite(z).all()
        assert x.min() <= drawn.min() and drawn.max() <= x.max()
        assert (drawn < 0).any() and (drawn > 0).any()  # across the gap, not piled on one knot
        np.testing.assert_array_equal(quantiles.from_uniform(quantiles.levels[[0, -1]]),
                                      x[[0, -1]])  # fmt: skip
        assert np.all(np.diff(z) > 0)  # order kept

    def test_ordinary_knots_are_unchanged_by_the_wide_range_path(self):
        x = np.array([1.0, 2.0, 4.0, 8.0])
        quantiles = fitted(x, knots=3)
        assert not quantiles.spans_beyond_float_range
        np.testing.assert_array_equal(quantiles.values, [1.0, 3.0, 6.0, 8.0])

    def test_state_round_trip(self):
        rng = np.random.default_rng(4)
        quantiles = fitted(rng.normal(size=300), knots=50)
        again = QuantileMap.from_state(quantiles.get_state())
        np.testing.assert_array_equal(again.levels, quantiles.levels)
        np.testing.assert_array_equal(again.values, quantiles.values)


def test_table_transformer_with_quantile_knots_round_trips_and_saves():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"age": rng.integers(17, 91, 3000),
                          "income": rng.lognormal(10, 1, 3000),
                          "gain": np.where(rng.random(3000) < 0.9, 0, rng.integers(1, 10**5, 3000))})  # fmt: skip
    transformer = TableTransformer(random_state=0, quantile_knots=200).fit(frame)
    data = transformer.transform(frame)
    back = TableTransformer.from_state(transformer.get_state()).inverse_transform(data)
    np.testing.assert_array_equal(back["age"], frame["age"])
    np.testing.assert_array_equal(back["gain"], frame["gain"])
    np.testing.assert_allclose(back["income"], frame["income"], rtol=1e-4)


def test_bad_quantile_knots():
    with pytest.raises(Exception, match="quantile_knots None or >= 2"):
        TableTransformer(quantile_knots=1).fit(pd.DataFrame({"a": [1.0, 2.5, 3.5]}))


class TestQuantileBins:
    def test_bins_hold_equal_shares_and_places_are_uniform(self):
        rng = np.random.default_rng(6)
        x = rng.lognormal(size=40_000)
        quantiles = fitted(x)
        index, place = quantiles.bin_of(quantiles.to_uniform(x, rng), 20)
        shares = np.bincount(index, minlength=20) / len(x)
        np.testing.assert_allclose(shares, 1 / 20, atol=0.005)
        assert place.min() >= -1.0 and place.max() <= 1.0
        assert stats.kstest((place + 1) / 2, "uniform").statistic < 0.01

    def test_bin_and_place_decode_exactly(self):
        rng = np.random.default_rng(7)
        x = np.r_[rng.integers(17, 91, 5000).astype(float), rng.normal(size=5000)]
        quantiles = fitted(x)
        index, place = quantiles.bin_of(quantiles.to_uniform(x, rng), 32)
        back = quantiles.from_bin(index, place.astype(np.float32), 32)
        np.testing.assert_allclose(back, x, atol=1e-4 * np.ptp(x), rtol=0)
        integers = x[:5000]
        np.testing.assert_array_equal(np.round(back[:5000]), integers)


def test_table_transformer_with_quantile_bins_round_trips_and_saves():
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"age": rng.integers(17, 91, 3000),
                          "income": np.where(rng.random(3000) < 0.1, np.nan,
                                             rng.lognormal(10, 1, 3000)),
                          "when": pd.Timestamp("2020-01-01")
                          + pd.to_timedelta(rng.integers(0, 1000, 3000), unit="D"),
                          "gain": np.where(rng.random(3000) < 0.9, 0, rng.integers(1, 10**5, 3000))})  # fmt: skip
    transformer = TableTransformer(random_state=0, quantile_knots=200, quantile_bins=16).fit(frame)
    assert all(t.n_bins_ == 16 for t in transformer.transformers_.values())
    data = transformer.transform(frame)
    back = TableTransformer.from_state(transformer.get_state()).inverse_transform(data)
    for column in ("age", "when", "gain"):
        pd.testing.assert_series_equal(back[column], frame[column])
    np.testing.assert_allclose(back["income"], frame["income"], rtol=1e-4)


def test_few_distinct_values_get_no_more_bins_than_values():
    frame = pd.DataFrame({"a": np.tile(np.arange(30.0) * 1.5, 40)})
    transformer = TableTransformer(random_state=0, quantile_knots=100, max_point_masses=0,
                                   quantile_bins=64).fit(frame)  # fmt: skip
    assert transformer.transformers_["a"].n_bins_ == 30
    back = transformer.inverse_transform(transformer.transform(frame))
    pd.testing.assert_series_equal(back["a"], frame["a"])
