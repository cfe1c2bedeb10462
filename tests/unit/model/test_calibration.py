from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from synthgan import TableTransformer
from synthgan.model.calibration import KNOTS, MIN_DRAWS_PER_KNOT, BinCalibration, binned_columns


def binned_transformer(n_bins: int = 8) -> TableTransformer:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"colour": rng.choice(["red", "blue"], 2000),
                          "x": rng.normal(size=2000),
                          "id": np.arange(2000),
                          "y": rng.exponential(size=2000)})  # fmt: skip
    return TableTransformer(random_state=0, quantile_knots=100, quantile_bins=n_bins).fit(frame)


def test_binned_columns_follow_the_decoders_order():
    transformer = binned_transformer()
    # colour: code row 0; x: scalar 0, code 1; id: nothing drawn; y: scalar 1, code 2
    assert binned_columns(transformer) == [(0, 1, 8), (1, 2, 8)]


def test_bunched_scalars_come_out_uniform_in_every_bin_and_keep_their_order():
    transformer = binned_transformer()
    rng = np.random.default_rng(1)
    n = 80_000
    codes = np.stack([rng.integers(0, 2, n), rng.integers(0, 8, n), rng.integers(0, 8, n)])
    bunched = np.tanh(0.3 * rng.normal(size=(2, n)) + 0.1 * codes[1:])  # narrow, off-centre
    calibration = BinCalibration.fit(bunched, codes, transformer)
    scalars = bunched.copy()
    calibration.apply(scalars, codes)
    for row in range(2):
        for b in range(8):
            mine = codes[row + 1] == b
            assert stats.kstest((scalars[row, mine] + 1) / 2, "uniform").statistic < 0.02
            order = np.argsort(bunched[row, mine])
            assert np.all(np.diff(scalars[row, mine][order]) >= -1e-12)  # increasing map


def test_sparse_bins_and_other_components_are_left_alone():
    transformer = binned_transformer()
    rng = np.random.default_rng(2)
    n = KNOTS * MIN_DRAWS_PER_KNOT - 1  # too few draws in bin 0 for a map
    codes = np.zeros((3, n), dtype=np.int64)
    scalars = rng.uniform(-0.2, 0.2, size=(2, n))
    calibration = BinCalibration.fit(scalars, codes, transformer)
    again = scalars.copy()
    calibration.apply(again, codes)
    np.testing.assert_allclose(again, scalars, atol=1e-6)
    codes[1:] = 8  # a component past the bins (a point mass or null): untouched
    calibration.apply(again, codes)
    np.testing.assert_allclose(again, scalars, atol=1e-6)


def test_state_round_trip():
    transformer = binned_transformer(4)
    rng = np.random.default_rng(3)
    codes = np.stack([rng.integers(0, 2, 5000), rng.integers(0, 4, 5000), rng.integers(0, 4, 5000)])
    scalars = np.tanh(rng.normal(size=(2, 5000)))
    calibration = BinCalibration.fit(scalars, codes, transformer)
    again = BinCalibration.from_state(calibration.get_state())
    a, b = scalars.copy(), scalars.copy()
    calibration.apply(a, codes)
    again.apply(b, codes)
    np.testing.assert_array_equal(a, b)
