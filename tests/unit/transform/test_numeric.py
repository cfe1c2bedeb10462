from __future__ import annotations

import numpy as np
import pandas as pd

from synthgan.schema import ColumnKind
from synthgan.transform.numeric import NumericColumnTransformer


def fit(values, **params) -> NumericColumnTransformer:
    series = pd.Series(values, name="x")
    return NumericColumnTransformer(kind=ColumnKind.CONTINUOUS, **params).fit(
        series, np.random.default_rng(0)
    )


class TestModeSpecificNormalizer:
    def test_spikes_become_point_masses_at_their_frequency(self, adult):
        gain = adult[0]["capital-gain"]
        t = NumericColumnTransformer(kind=ColumnKind.INTEGER).fit(gain, np.random.default_rng(0))
        assert {0.0, 99999.0} <= set(t.point_masses_.tolist())
        block = t.transform(gain, np.random.default_rng(0))
        back = t.inverse_transform(block, gain.index)
        assert (back == 99999).sum() == (gain == 99999).sum()
        assert (back == 0).sum() == (gain == 0).sum()

    def test_scalar_is_not_clipped_in_transform(self):
        rng = np.random.default_rng(0)
        values = np.concatenate([rng.normal(0, 1, 2000), [40.0]])  # a far outlier
        t = fit(values, max_modes=1)
        block = t.transform(pd.Series(values, name="x"), rng)
        assert block[:, 0].max() > 1.0
        back = t.inverse_transform(block, pd.RangeIndex(len(values)))
        assert abs(back.iloc[-1] - 40.0) < 1e-4

    def test_subsample_does_not_miss_a_rare_distant_mode(self):
        # 1% of a 400k-row column sits in a far cluster; the mixture is fitted on 5,000 rows.
        rng = np.random.default_rng(1)
        n = 400_000
        values = np.where(rng.random(n) < 0.01, rng.normal(500, 3, n), rng.normal(0, 10, n))
        t = fit(values, max_fit_rows=5_000)
        assert np.any(np.abs(t.mixture_.means - 500) < 5)
        far = values > 400
        block = t.transform(pd.Series(values, name="x"), rng)
        mode = block[far, 1:].argmax(axis=1)
        assert np.all(np.abs(t.mixture_.means[mode] - 500) < 5)

    def test_subsample_keeps_rare_spikes_found_on_the_full_column(self):
        rng = np.random.default_rng(2)
        n = 300_000
        values = rng.normal(100, 20, n).round(3)
        values[rng.random(n) < 0.002] = -1.0  # a rare sentinel, 0.2% of rows
        t = fit(values, max_fit_rows=2_000)
        assert -1.0 in t.point_masses_

    def test_few_distinct_values_are_all_point_masses(self):
        t = fit([1.5, 2.5, 1.5, 3.0] * 20)
        assert t.mixture_ is None and t.point_masses_.tolist() == [1.5, 2.5, 3.0]

    def test_constant_column(self):
        t = fit([7.0] * 30)
        block = t.transform(pd.Series([7.0] * 30, name="x"), np.random.default_rng(0))
        assert block.shape == (30, 1)
        assert (t.inverse_transform(block, pd.RangeIndex(30)) == 7.0).all()

    def test_modes_are_drawn_from_the_posterior(self):
        # Two overlapping modes: a value halfway between them is assigned to each about half the time.
        rng = np.random.default_rng(3)
        values = np.concatenate([rng.normal(-1, 1, 5000), rng.normal(1, 1, 5000)])
        t = fit(values, max_modes=2)
        middle = pd.Series(np.zeros(4000), name="x")
        modes = t.transform(middle, rng)[:, 1:].argmax(axis=1)
        assert 0.3 < modes.mean() < 0.7


def test_datetimes_spanning_more_than_int64_stay_exact_and_within_bounds():
    # nanosecond ticks from near the bottom to near the top of int64: their span exceeds int64
    ticks = np.array([-9207643421128385062, 9120038400000269786, -4246685573565524191,
                      0, 1_000_000_007, 7_000_000_000_000_000_001], dtype=np.int64)  # fmt: skip
    column = pd.Series(ticks.view("datetime64[ns]"), name="when")
    transformer = NumericColumnTransformer(kind=ColumnKind.DATETIME).fit(
        column, np.random.default_rng(0)
    )
    block = transformer.transform(column, np.random.default_rng(0))
    back = transformer.inverse_transform(block, column.index).to_numpy().view(np.int64)
    # float64 steps: within a microsecond at 9e18 ns from the origin, and in the right order
    assert np.abs(back - ticks).max() < 1_000 and (np.argsort(back) == np.argsort(ticks)).all()
    # scalars the generator may produce anywhere: decoded inside [min, max] exactly
    noisy = block.copy()
    noisy[:, 0] += np.random.default_rng(1).normal(0.0, 3.0, len(noisy)).astype(noisy.dtype)
    decoded = transformer.inverse_transform(noisy, column.index).to_numpy().view(np.int64)
    assert decoded.min() >= ticks.min() and decoded.max() <= ticks.max()
    restored = NumericColumnTransformer.from_state(transformer.get_state())
    assert restored.max_tick_ == int(ticks.max())


def test_int64_values_far_from_zero_decode_within_their_bounds():
    # fuzz case: three int64 values; float64 steps rounded the top one 252 past the maximum
    values = np.array([-8918490974116450275, -4246685573565524191, -6000000000000000001])
    column = pd.Series(values, name="c0", dtype="int64")
    transformer = NumericColumnTransformer(kind=ColumnKind.INTEGER).fit(
        column, np.random.default_rng(0)
    )
    block = transformer.transform(column, np.random.default_rng(0))
    noisy = np.repeat(block, 200, axis=0)
    noisy[:, 0] += np.random.default_rng(1).normal(0.0, 3.0, len(noisy)).astype(noisy.dtype)
    decoded = transformer.inverse_transform(noisy, pd.RangeIndex(len(noisy)))
    assert decoded.min() >= values.min() and decoded.max() <= values.max()
    assert NumericColumnTransformer.from_state(transformer.get_state()).int_max_ == values.max()
