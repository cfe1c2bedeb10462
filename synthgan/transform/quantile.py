"""A column's values mapped to a standard normal through their own quantiles, and back.

Mode-specific normalisation fits Gaussian modes to the raw values; a skewed or lumpy column
(Adult's age, fnlwgt) then comes back spiky wherever the generator's in-mode scalar falls short
of the mode's real shape. Mapping the values through their empirical distribution function first
(u = F(x), z = Phi^-1(u)) gives the mixture a column that is already normal, and the inverse
(x = F^-1(Phi(z))) puts the real marginal back by construction (TabDDPM and TabPC map numeric
columns the same way before their models).

F is piecewise linear through ``n_knots`` + 1 empirical quantiles (a value held by a single row
is replaced by the midpoint to the next value, so no row's own value is stored), so it and its inverse are exact
inverses of each other between distinct knots. Where several knots share one value (a value
repeated in many rows: an integer column, a rounded price) that value owns an interval of u and
each of its rows gets a uniform draw inside it (randomised probability integral transform), so
u is uniform over rows and ties do not become spikes in z; any u in the interval decodes to the
value itself, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import ndtr, ndtri

DEFAULT_KNOTS = 1000
TIE_MARGIN = 1e-3
"""Draws inside a tied value's interval keep this share of its width from either end, so that
float32 rounding of the encoded scalar never carries a row into the neighbouring segment."""
U_FLOOR = 1e-6
"""The knots' levels run from U_FLOOR to 1 - U_FLOOR rather than 0 to 1: z stays finite (within
about +-4.75), and the smallest and largest values still come back exactly."""


def _levels(n_knots: int) -> np.ndarray:
    return U_FLOOR + (1.0 - 2.0 * U_FLOOR) * np.linspace(0.0, 1.0, n_knots + 1)


@dataclass(frozen=True)
class QuantileMap:
    """Knots ``(levels[i], values[i])`` of a column's empirical quantile function.

    ``levels`` rise strictly from U_FLOOR to 1 - U_FLOOR; ``values`` never fall.
    """

    levels: np.ndarray
    values: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray, counts: np.ndarray, n_knots: int = DEFAULT_KNOTS) -> QuantileMap:
        """The quantiles of ``values`` (distinct, ascending) weighted by ``counts``."""
        values = np.asarray(values, dtype=np.float64)
        cumulative = np.cumsum(np.asarray(counts, dtype=np.float64))
        n_knots = int(max(1, min(n_knots, cumulative[-1])))
        levels = _levels(n_knots)
        # inverted CDF: the smallest value whose cumulative share reaches each level
        shares = np.linspace(0.0, 1.0, n_knots + 1)
        index = np.clip(np.searchsorted(cumulative / cumulative[-1], shares, side="left"),
                        0, len(values) - 1)  # fmt: skip
        knots = values[index]
        # a value held by one row would be stored as it is: take the midpoint to the next value
        # instead (model files keep no training row's exact value; a repeated value, which many
        # rows share, stays, so that its interval of u is flat)
        single = (np.asarray(counts)[index] == 1) & (index + 1 < len(values))
        low, high = values[index[single]], values[index[single] + 1]
        with np.errstate(over="ignore"):
            middle = (low + high) / 2
        # halves cannot overflow (two values near 1.7e308); elsewhere the exact midpoint
        knots[single] = np.where(np.isfinite(middle), middle, low / 2 + high / 2)
        knots[0], knots[-1] = values[0], values[-1]
        return cls(levels, knots)

    @cached_property  # read by every to_uniform / from_uniform call; the knots never change
    def spans_beyond_float_range(self) -> bool:
        """Two neighbouring knots lie so far apart (values near -+1.7e308) that np.interp's slope
        between them, their difference over the levels' spacing, overflows: it would return inf
        or nan. Such a map interpolates on halved values instead (halving and doubling are exact
        for all but subnormal floats)."""
        gaps = np.diff(self.values / 2)  # halves: no overflow
        spacing = (self.levels[-1] - self.levels[0]) / (len(self.levels) - 1)
        return bool(gaps.max(initial=0.0) * 2 > np.finfo(np.float64).max * spacing)

    def to_uniform(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """u = F(x), with a uniform draw inside a tied value's interval of u."""
        low = np.searchsorted(self.values, x, side="left")  # first knot >= x
        high = np.searchsorted(self.values, x, side="right") - 1  # last knot <= x
        tied = high > low  # x is the value of two or more knots: an interval of u
        if self.spans_beyond_float_range:
            u = np.interp(np.asarray(x) / 2, self.values / 2, self.levels)
        else:
            u = np.interp(x, self.values, self.levels)  # strictly increasing between distinct knots
        if tied.any():
            start = self.levels[low[tied]]
            width = self.levels[high[tied]] - start
            draw = TIE_MARGIN + (1.0 - 2.0 * TIE_MARGIN) * rng.random(int(tied.sum()))
            u[tied] = start + width * draw
        return u

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        if not self.spans_beyond_float_range:
            return np.interp(u, self.levels, self.values)
        # np.interp's own slope would overflow: a share of the halved gap instead
        u = np.asarray(u, dtype=np.float64)
        knot = np.clip(np.searchsorted(self.levels, u, side="right") - 1, 0, len(self.levels) - 2)
        share = np.clip((u - self.levels[knot]) / (self.levels[knot + 1] - self.levels[knot]),
                        0.0, 1.0)  # fmt: skip
        low, high = self.values[knot] / 2, self.values[knot + 1] / 2
        x = (low + (high - low) * share) * 2
        return np.where(share >= 1.0, self.values[knot + 1], x)

    def to_normal(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """z = Phi^-1(F(x)), ndarray of shape (n,); values beyond the knots go to their ends."""
        return ndtri(np.clip(self.to_uniform(x, rng), self.levels[0], self.levels[-1]))

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        """x = F^-1(Phi(z)), within [first knot, last knot] (np.interp holds the ends)."""
        return self.from_uniform(ndtr(z))

    def bin_of(self, u: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
        """Each u's equal-mass bin (n,) int64 and its place inside it, a scalar in [-1, 1]."""
        low, high = self.levels[0], self.levels[-1]
        position = (np.clip(u, low, high) - low) / (high - low) * n_bins
        index = np.minimum(position.astype(np.int64), n_bins - 1)
        return index, 2.0 * (position - index) - 1.0

    def from_bin(self, index: np.ndarray, scalar: np.ndarray, n_bins: int) -> np.ndarray:
        """x from a bin and a place inside it (scalars beyond [-1, 1] stay in the bin)."""
        low, high = self.levels[0], self.levels[-1]
        place = (np.clip(scalar.astype(np.float64), -1.0, 1.0) + 1.0) / 2.0
        return self.from_uniform(low + (index + place) * (high - low) / n_bins)

    def get_state(self) -> dict:
        # the levels follow from their count
        return {"n_knots": len(self.levels) - 1, "values": self.values.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> QuantileMap:
        return cls(_levels(state["n_knots"]), np.asarray(state["values"], dtype=np.float64))
