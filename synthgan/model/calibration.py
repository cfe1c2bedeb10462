"""The generator's in-bin scalars made uniform after training, so a binned column's marginal
inside each bin is right by construction.

A numeric column encoded in equal-mass quantile bins (``quantile_bins``) is a bin choice and a
scalar in [-1, 1] that places the value inside its bin; over the training rows that scalar is
uniform in every bin. A generator learns the bin choice well (a softmax, like a category) but
its tanh scalar comes out bunched, which shows up as spikes inside bins that a real-vs-synthetic
classifier finds at once. After training, :meth:`BinCalibration.fit` draws rows from the
generator and records, per column and bin, the quantiles of the scalars it produced; sampling
then maps each scalar through that bin's empirical distribution function to [-1, 1]. The map is
increasing, so the generator's ordering inside a bin (and what it ties to the row's other
columns) is kept, only its spacing changes. It reads no training row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgan.transform import TableTransformer
from synthgan.transform.numeric import NumericColumnTransformer

KNOTS = 32
"""Quantiles recorded per bin (intervals of the piecewise-linear map)."""
MIN_DRAWS_PER_KNOT = 4
"""A bin that received fewer than KNOTS * MIN_DRAWS_PER_KNOT draws keeps the identity map."""
CALIBRATION_ROWS = 65_536
"""Rows drawn from the generator to fit the maps."""
_STRIDE = 4.0
"""Each bin's scalars are shifted by STRIDE * bin (scalars lie in [-1, 1]), so one np.interp
over all bins of a column maps every row through its own bin's knots."""


def binned_columns(transformer: TableTransformer) -> list[tuple[int, int, int]]:
    """(scalar row, code row, number of bins) of each binned numeric column: its places in the
    drawn scalars and codes, one row per tanh and per softmax span of the layout."""
    layout = transformer.layout_
    scalar_row = {span.column: i for i, span in enumerate(layout.tanh_spans)}
    code_row = {span.column: i for i, span in enumerate(layout.softmax_spans)}
    return [
        (scalar_row[name], code_row[name], column.n_bins_)
        for name, column in transformer.transformers_.items()
        if isinstance(column, NumericColumnTransformer) and column.n_bins_
    ]


@dataclass
class BinCalibration:
    """Per binned column: its scalar row, code row and knots (n_bins, KNOTS + 1), each bin's
    quantiles of the generator's scalar at levels 0, 1/KNOTS, ..., 1."""

    columns: list[tuple[int, int, np.ndarray]]

    @classmethod
    def fit(
        cls, scalars: np.ndarray, codes: np.ndarray, transformer: TableTransformer
    ) -> BinCalibration:
        """From drawn ``scalars`` (n_scalar_rows, n) and ``codes`` (n_code_rows, n)."""
        levels = np.linspace(0.0, 1.0, KNOTS + 1)
        identity = 2.0 * levels - 1.0
        columns = []
        for scalar_row, code_row, n_bins in binned_columns(transformer):
            knots = np.tile(identity, (n_bins, 1))
            values, bins = scalars[scalar_row].astype(np.float64), codes[code_row]
            for b in range(n_bins):
                drawn = values[bins == b]
                if len(drawn) >= KNOTS * MIN_DRAWS_PER_KNOT:
                    knots[b] = np.quantile(drawn, levels)
            columns.append((scalar_row, code_row, _increasing(knots)))
        return cls(columns)

    def apply(self, scalars: np.ndarray, codes: np.ndarray) -> None:
        """Map the scalars of binned rows in place (other rows and columns are left alone)."""
        targets = np.linspace(-1.0, 1.0, KNOTS + 1)
        for scalar_row, code_row, knots in self.columns:
            n_bins = len(knots)
            bins = codes[code_row]
            binned = bins < n_bins
            if not binned.any():
                continue
            offset = _STRIDE * bins[binned]
            shift = _STRIDE * np.arange(n_bins)[:, None]
            mapped = np.interp(
                scalars[scalar_row, binned] + offset,
                (knots + shift).ravel(),
                (targets[None, :] + shift).ravel(),
            )
            scalars[scalar_row, binned] = mapped - offset

    def get_state(self) -> list[dict]:
        return [
            {"scalar_row": s, "code_row": c, "knots": k.tolist()} for s, c, k in self.columns
        ]

    @classmethod
    def from_state(cls, state: list[dict]) -> BinCalibration:
        return cls(
            [(int(c["scalar_row"]), int(c["code_row"]), np.asarray(c["knots"], dtype=np.float64))
             for c in state]  # fmt: skip
        )


def _increasing(knots: np.ndarray) -> np.ndarray:
    """Knots made strictly increasing along each row (np.interp needs it; a bin whose scalars
    tie spreads the tie over a tiny interval)."""
    tiny = 1e-9 * np.arange(knots.shape[1])
    return np.maximum.accumulate(knots, axis=1) + tiny
