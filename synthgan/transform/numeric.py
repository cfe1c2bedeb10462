"""Mode-specific normalisation of numeric columns: continuous, integer and datetime.

A value becomes (scalar, component one-hot). The components of a column are, in this order:

1. Gaussian modes of a variational DP mixture (``max_modes`` at most; those whose weight falls
   below ``weight_threshold`` are dropped). The scalar is ``(x - mean) / (4 * std)``: in [-1, 1]
   for values within four standard deviations, never clipped here so the round trip is exact.
2. Point masses: exact values that come back exactly (scalar 0). A value is a point mass when
   the column has at most ``max_point_masses`` distinct values (then every value is one), or when
   it holds at least ``POINT_MASS_MIN_SHARE`` of the non-null values *and* at least
   ``POINT_MASS_RATIO`` times the median count of the column's distinct values (a spike standing
   out of its neighbours: Adult's capital-gain 0 and 99999, hours-per-week 40). At most
   ``max_point_masses`` of them, the most frequent first.
3. Null, if the column had nulls at fit time: the generator learns where nulls fall.

Spikes are found on every row (a hash count); the mixture is fitted on the remaining values'
distinct values weighted by their counts, from at most ``max_fit_rows`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError
from synthgan.schema import ColumnKind
from synthgan.transform.layout import Activation, SpanRole
from synthgan.transform.mixture import Mixture, fit_mixture
from synthgan.transform.quantile import QuantileMap

POINT_MASS_MIN_SHARE = 0.001
POINT_MASS_RATIO = 10.0
STD_MULTIPLIER = 4.0

_NUMPY_NUMBER_DTYPES = frozenset(
    f"{kind}{bits}" for kind in ("int", "uint") for bits in (8, 16, 32, 64)
) | {"float32", "float64"}

# Datetime resolutions tried from coarsest to finest, in nanoseconds.
_DATETIME_UNITS = {
    "D": 86_400 * 10**9,
    "h": 3_600 * 10**9,
    "min": 60 * 10**9,
    "s": 10**9,
    "ms": 10**6,
    "us": 10**3,
    "ns": 1,
}


@dataclass(frozen=True)
class _SpanPlan:
    role: SpanRole
    width: int
    activation: Activation


# -- exact integer arithmetic around an origin (integers and datetime ticks past 2**53) -----------


def _offsets(bits: np.ndarray, origin: int, *, below: np.ndarray) -> np.ndarray:
    """Each value's exact distance from ``origin`` as float64, from its two's-complement ``bits``
    (uint64): the difference is taken in uint64, where it cannot overflow, and negated where the
    value lies ``below`` the origin."""
    origin_bits = np.uint64(origin % 2**64)
    offsets = (bits - origin_bits).astype(np.float64)
    offsets[below] = -(origin_bits - bits[below]).astype(np.float64)
    return offsets


def _shifted(
    origin: int,
    values: np.ndarray,
    null: np.ndarray,
    *,
    step: int = 1,
    max_up: int | None = None,
    max_down: int | None = None,
) -> np.ndarray:
    """``origin + round(values) * step`` as uint64 bits, wrapping as int64 would, so exact
    wherever the result fits; steps up (down) are capped at ``max_up`` (``max_down``); nulls
    give the origin."""
    steps = np.clip(np.where(null, 0.0, np.round(values)), -(2.0**63), 2.0**64 - 2048)
    up = np.where(steps >= 0, steps, 0.0).astype(np.uint64)
    down = np.where(steps < 0, -steps, 0.0).astype(np.uint64)
    if max_up is not None:
        up = np.minimum(up, np.uint64(max(max_up, 0)))
    if max_down is not None:
        down = np.minimum(down, np.uint64(max(max_down, 0)))
    return np.uint64(origin % 2**64) + up * np.uint64(step) - down * np.uint64(step)


class NumericColumnTransformer:
    """Mode-specific normaliser of one numeric (continuous, integer or datetime) column."""

    def __init__(
        self,
        *,
        kind: ColumnKind,
        max_modes: int = 10,
        weight_threshold: float = 0.005,
        max_point_masses: int = 20,
        max_fit_rows: int = 50_000,
        clip: bool = True,
        quantile_knots: int | None = None,
        quantile_bins: int | None = None,
    ) -> None:
        self.kind = kind
        self.max_modes = max_modes
        self.weight_threshold = weight_threshold
        self.max_point_masses = max_point_masses
        self.max_fit_rows = max_fit_rows
        self.clip = clip
        self.quantile_knots = quantile_knots
        self.quantile_bins = quantile_bins

    # Fitted state that older model files (and the private fit's transformers) lack: a datetime
    # column's own resolution, and an integer column's exact origin (None: no shift).
    resolution_: str = "ns"
    int_origin_: int | None = None
    # an exact integer column's largest value: sampled integers are clipped to [int_origin_,
    # int_max_] exactly, past the float rounding of ``max_`` (None in older files)
    int_max_: int | None = None
    # a datetime column's largest tick (its smallest is the origin): sampled ticks are clipped
    # to them exactly, past the float rounding of ``max_`` (None in older files: no such clip)
    max_tick_: int | None = None
    # the values' quantile map, when quantile_knots asked for one (never in a private fit)
    quantile_: QuantileMap | None = None
    # with a quantile map and quantile_bins: the number of equal-mass bins of u that replace the
    # Gaussian modes (0: the modes of ``mixture_``)
    n_bins_: int = 0

    # -- conversion between the column and float64 ----------------------------------------------
    def _to_float(self, series: pd.Series, *, fitting: bool) -> np.ndarray:
        name = series.name
        if self.kind is ColumnKind.DATETIME:
            return self._datetime_to_float(series, fitting=fitting)
        if not (
            pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)
        ):
            raise InvalidDataError(
                f"Column {name!r} is declared {self.kind.value} but has dtype {series.dtype}. "
                "Convert it with pandas.to_numeric(df[col]) or declare another kind in the schema."
            )
        if fitting:
            exact = self.kind is ColumnKind.INTEGER and pd.api.types.is_integer_dtype(series.dtype)
            self.int_origin_ = int(series.min()) if exact and series.notna().any() else None
            self.int_max_ = None if self.int_origin_ is None else int(series.max())
        if self.int_origin_ is not None and pd.api.types.is_integer_dtype(series.dtype):
            return self._integers_to_float(series)
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isinf(values).any():
            raise InvalidDataError(
                f"Column {name!r} has infinite values. Replace them with nulls or finite numbers."
            )
        return values

    def _integers_to_float(self, series: pd.Series) -> np.ndarray:
        """Each integer's exact distance from ``int_origin_``, as float64: integers beyond 2**53
        (ids, epoch nanoseconds) would lose their last digits as floats themselves."""
        null = series.isna().to_numpy()
        numpy_dtype = np.dtype(getattr(series.dtype, "numpy_dtype", series.dtype))
        ints = series.to_numpy(dtype=numpy_dtype, na_value=0)
        # two's-complement bits: differences wrap correctly whatever the dtype's range
        bits = (
            ints.astype(np.int64).view(np.uint64)
            if numpy_dtype.kind == "i"
            else ints.astype(np.uint64)
        )
        values = _offsets(bits, self.int_origin_, below=ints < self.int_origin_)
        values[null] = np.nan
        return values

    def _floats_to_integers(
        self, values: np.ndarray, null: np.ndarray, clip: bool = False
    ) -> np.ndarray:
        """The integers ``int_origin_ + round(values)`` in the column's numpy dtype (``clip``:
        within the fitted bounds, exactly)."""
        numpy_dtype = np.dtype(getattr(pd.api.types.pandas_dtype(self.dtype_), "numpy_dtype",
                                       self.dtype_))  # fmt: skip
        info = np.iinfo(numpy_dtype)
        # a float step rounds up to 2**63 near the top of int64: stay within the dtype
        bits = _shifted(self.int_origin_, values, null, max_up=info.max - self.int_origin_,
                        max_down=self.int_origin_ - info.min)  # fmt: skip
        ints = bits.view(np.int64) if numpy_dtype.kind == "i" else bits
        if clip and self.int_max_ is not None:
            ints = np.clip(ints, self.int_origin_, self.int_max_)
        return ints.astype(numpy_dtype)

    def _datetime_to_float(self, series: pd.Series, *, fitting: bool) -> np.ndarray:
        """Steps of ``unit_`` since ``origin_ns_``, counted in the column's own resolution (a
        datetime64[s] column may hold dates far beyond what nanoseconds reach)."""
        name = series.name
        if not pd.api.types.is_datetime64_any_dtype(series.dtype):
            try:
                series = pd.to_datetime(series)
            except (ValueError, TypeError) as exc:
                raise InvalidDataError(
                    f"Column {name!r} is declared datetime but holds values that are not dates "
                    f"({exc}). Fix the values or declare another kind in the schema."
                ) from None
        tz = getattr(series.dtype, "tz", None)
        if tz is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        resolution = np.datetime_data(np.dtype(series.dtype))[0]
        if fitting:
            self.resolution_ = resolution
        elif resolution != self.resolution_:
            try:
                series = series.dt.as_unit(self.resolution_)
            except (ValueError, OverflowError):
                raise InvalidDataError(
                    f"Column {name!r} holds dates outside what its fitted resolution "
                    f"({self.resolution_}) can hold. Refit on data that includes them."
                ) from None
        stamps = series.to_numpy()
        null = np.isnat(stamps)
        ticks = stamps.view(np.int64)
        tick_ns = _DATETIME_UNITS[self.resolution_]
        if fitting:
            self.tz_ = None if tz is None else str(tz)
            valid = ticks[~null]
            origin = int(valid.min())
            self.origin_ns_ = origin * tick_ns
            self.max_tick_ = int(valid.max())
            # in uint64: the span of int64 ticks may exceed int64 (wraps back exactly)
            offsets = valid.view(np.uint64) - np.uint64(origin % 2**64)
            self.unit_ = next(
                (
                    unit
                    for unit, size in _DATETIME_UNITS.items()
                    if size >= tick_ns and np.all(offsets % np.uint64(size // tick_ns) == 0)
                ),
                self.resolution_,
            )
        step = _DATETIME_UNITS[self.unit_] // tick_ns
        origin_ticks = self.origin_ns_ // tick_ns
        values = _offsets(ticks.view(np.uint64), origin_ticks, below=ticks < origin_ticks) / step
        values[null] = np.nan
        return values

    def _from_float(self, values: np.ndarray, index: pd.Index, clip: bool = False) -> pd.Series:
        """The column from float steps; ``clip``: integers and datetimes within the fitted
        bounds exactly (past float rounding), as ``inverse_transform`` asks when it clips."""
        null = np.isnan(values)
        if self.kind is ColumnKind.DATETIME:
            tick_ns = _DATETIME_UNITS[self.resolution_]
            step = _DATETIME_UNITS[self.unit_] // tick_ns
            ticks = _shifted(self.origin_ns_ // tick_ns, values, null, step=step).view(np.int64)
            if clip and self.max_tick_ is not None:
                ticks = np.clip(ticks, self.origin_ns_ // tick_ns, self.max_tick_)
                ticks[null] = 0
            out = pd.Series(ticks.view(f"datetime64[{self.resolution_}]"), index=index)
            if self.tz_ is not None:
                out = out.dt.tz_localize("UTC").dt.tz_convert(self.tz_)
            return out.mask(null).astype(self.dtype_)
        if self.int_origin_ is not None:
            ints = self._floats_to_integers(values, null, clip)
            if not null.any():
                return pd.Series(ints, index=index, dtype=self.dtype_)
            if self.dtype_ not in _NUMPY_NUMBER_DTYPES:  # a nullable integer dtype
                array = pd.array(ints, dtype=self.dtype_)
                array[null] = pd.NA
                return pd.Series(array, index=index)
            return pd.Series(np.where(null, np.nan, ints.astype(np.float64)), index=index)
        if self.kind is ColumnKind.INTEGER:
            values = np.round(values)
        if self.dtype_ in _NUMPY_NUMBER_DTYPES and (self.dtype_[0] == "f" or not null.any()):
            # numpy's cast, the same values as pandas' astype at a fraction of its overhead
            return pd.Series(values.astype(self.dtype_, copy=False), index=index)
        out = pd.Series(values, index=index)
        if self.dtype_ in ("bool", "boolean"):
            return out.astype(self.dtype_)
        try:
            return out.astype(self.dtype_)
        except (TypeError, ValueError):  # e.g. int64 asked to hold a null
            return out

    # -- fit / transform / inverse ---------------------------------------------------------------
    def fit(
        self,
        series: pd.Series,
        rng: np.random.Generator,
        *,
        counts: np.ndarray | None = None,
        has_nulls: bool | None = None,
    ) -> NumericColumnTransformer:
        """Fit on the column ``series``, or, with ``counts``, on a table of values: row i of
        ``series`` stands for ``counts[i]`` rows (a streamed fit's exact value counts), and
        ``has_nulls`` says whether the column holds nulls (the table lists none)."""
        self.column_ = str(series.name)
        self.dtype_ = str(series.dtype)
        values = self._to_float(series, fitting=True)
        null = np.isnan(values)
        present = values[~null]
        if present.size == 0:
            raise InvalidDataError(f"Column {self.column_!r} has only null values.")
        if counts is None:
            self.has_nulls_ = bool(null.any())
            distinct, counts = np.unique(present, return_counts=True)
        else:
            self.has_nulls_ = bool(null.any() if has_nulls is None else has_nulls)
            distinct, inverse = np.unique(present, return_inverse=True)
            weights = np.asarray(counts, dtype=np.float64)[~null]
            counts = np.rint(np.bincount(inverse, weights=weights)).astype(np.int64)
        n_present = int(counts.sum())
        self.min_, self.max_ = float(distinct[0]), float(distinct[-1])

        if len(distinct) <= self.max_point_masses:
            spike = np.ones(len(distinct), dtype=bool)
        else:
            threshold = max(
                POINT_MASS_MIN_SHARE * n_present, POINT_MASS_RATIO * np.median(counts)
            )
            spike = counts >= threshold
            if spike.sum() > self.max_point_masses:
                top = np.argsort(-counts, kind="stable")[: self.max_point_masses]
                spike = np.zeros(len(distinct), dtype=bool)
                spike[top] = True
        self.point_masses_ = distinct[spike]

        rest_values, rest_counts = distinct[~spike], counts[~spike]
        self.quantile_, self.n_bins_ = None, 0
        if rest_values.size == 0:
            self.mixture_ = None
        else:
            if self.quantile_knots is not None and rest_values.size > 1:
                self.quantile_ = QuantileMap.fit(rest_values, rest_counts, self.quantile_knots)
                if self.quantile_bins is not None:
                    self.n_bins_ = int(min(self.quantile_bins, rest_values.size))
                    self.mixture_ = None
                    return self
            if rest_counts.sum() > self.max_fit_rows:
                rest_values, rest_counts = self._subsample(rest_values, rest_counts, rng)
            if self.quantile_ is not None:  # the mixture models z, one draw per row
                z = self.quantile_.to_normal(np.repeat(rest_values, rest_counts), rng)
                rest_values, rest_counts = np.unique(z, return_counts=True)
            self.mixture_ = fit_mixture(
                rest_values,
                rest_counts,
                max_components=self.max_modes,
                weight_threshold=self.weight_threshold,
            )
        return self

    def _subsample(
        self, values: np.ndarray, counts: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``max_fit_rows`` rows without replacement from the (value, count) table."""
        drawn = rng.multivariate_hypergeometric(counts.astype(np.int64), self.max_fit_rows)
        keep = drawn > 0
        return values[keep], drawn[keep]

    @property
    def n_modes(self) -> int:
        """Components that carry a scalar: equal-mass bins or Gaussian modes."""
        if self.n_bins_:
            return self.n_bins_
        return 0 if self.mixture_ is None else self.mixture_.n_components

    @property
    def n_components(self) -> int:
        return self.n_modes + len(self.point_masses_) + int(self.has_nulls_)

    def span_plan(self) -> list[_SpanPlan]:
        plan = []
        if self.n_modes:
            plan.append(_SpanPlan(SpanRole.SCALAR, 1, Activation.TANH))
        plan.append(_SpanPlan(SpanRole.COMPONENT, self.n_components, Activation.SOFTMAX))
        return plan

    @property
    def output_width(self) -> int:
        return sum(p.width for p in self.span_plan())

    def transform(self, series: pd.Series, rng: np.random.Generator) -> np.ndarray:
        """Columns ``[scalar]`` (when the column has Gaussian modes) and the component one-hot."""
        values = self._to_float(series, fitting=False)
        n = len(values)
        null = np.isnan(values)
        if null.any() and not self.has_nulls_:
            raise InvalidDataError(
                f"Column {self.column_!r} has nulls, but had none when the transformer was fitted. "
                "Refit on data that includes them."
            )
        component = np.empty(n, dtype=np.int64)
        scalar = np.zeros(n, dtype=np.float64)
        present = ~null
        is_mass, mass_index = self._match_point_masses(values, present)
        component[is_mass] = self.n_modes + mass_index[is_mass]
        gaussian = present & ~is_mass
        if gaussian.any() and self.n_bins_:
            u = self.quantile_.to_uniform(values[gaussian], rng)
            component[gaussian], scalar[gaussian] = self.quantile_.bin_of(u, self.n_bins_)
        elif gaussian.any():
            if self.mixture_ is None:  # all values were point masses at fit: nearest one
                nearest = np.abs(values[gaussian, None] - self.point_masses_[None, :]).argmin(1)
                component[gaussian] = self.n_modes + nearest
            else:
                x = values[gaussian]
                if self.quantile_ is not None:
                    x = self.quantile_.to_normal(x, rng)
                cum = np.cumsum(self.mixture_.posterior_weights(x), axis=1)  # (g, modes)
                draw = rng.random(len(x))[:, None] * cum[:, -1:]
                mode = np.minimum((cum < draw).sum(axis=1), self.n_modes - 1)
                component[gaussian] = mode
                mean, std = self.mixture_.means[mode], self.mixture_.stds[mode]
                # halves: x - mean and 4 * std overflow for values near 1e308
                scalar[gaussian] = (x / 2 - mean / 2) / std / (STD_MULTIPLIER / 2)
        component[null] = self.n_components - 1
        onehot = np.zeros((n, self.n_components), dtype=np.float32)
        onehot[np.arange(n), component] = 1.0
        if self.n_modes:
            return np.concatenate([scalar.astype(np.float32)[:, None], onehot], axis=1)
        return onehot

    def _match_point_masses(self, values: np.ndarray, present: np.ndarray):
        masses = self.point_masses_
        if masses.size == 0:
            return np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=np.int64)
        idx = np.clip(np.searchsorted(masses, values), 0, masses.size - 1)
        is_mass = present & (masses[idx] == values)
        return is_mass, idx

    def inverse_transform(self, block: np.ndarray, index: pd.Index) -> pd.Series:
        """The column back from its output block of shape (n, output_width)."""
        scalar = block[:, 0] if self.n_modes else None
        return self.decode(scalar, block[:, 1 if self.n_modes else 0 :].argmax(axis=1), index)

    def decode(
        self, scalar: np.ndarray | None, component: np.ndarray, index: pd.Index
    ) -> pd.Series:
        """The column from each row's component (n,) and its scalar within a Gaussian mode
        (n,), which is None when the column has no Gaussian modes."""
        values = np.full(len(component), np.nan)
        gaussian = component < self.n_modes
        if gaussian.any() and self.n_bins_:
            values[gaussian] = self.quantile_.from_bin(
                component[gaussian], scalar[gaussian], self.n_bins_
            )
        elif gaussian.any():
            mode = component[gaussian]
            half = (
                scalar[gaussian].astype(np.float64)
                * (STD_MULTIPLIER / 2)
                * self.mixture_.stds[mode]
                + self.mixture_.means[mode] / 2
            )
            with np.errstate(over="ignore"):  # beyond the float range: clipped below
                values[gaussian] = half * 2
            if self.quantile_ is not None:
                values[gaussian] = self.quantile_.from_normal(values[gaussian])
        n_masses = len(self.point_masses_)
        is_mass = (component >= self.n_modes) & (component < self.n_modes + n_masses)
        values[is_mass] = self.point_masses_[component[is_mass] - self.n_modes]
        if self.clip:
            values = np.clip(values, self.min_, self.max_)  # NaN stays NaN
        series = self._from_float(values, index, clip=self.clip)
        series.name = self.column_
        return series

    # -- plain-data state (model files) ----------------------------------------------------------
    def get_state(self) -> dict:
        state = {
            "column": self.column_,
            "kind": self.kind.value,
            "dtype": self.dtype_,
            "params": {
                "max_modes": self.max_modes,
                "weight_threshold": self.weight_threshold,
                "max_point_masses": self.max_point_masses,
                "max_fit_rows": self.max_fit_rows,
                "clip": self.clip,
                "quantile_knots": self.quantile_knots,
                "quantile_bins": self.quantile_bins,
            },
            "has_nulls": self.has_nulls_,
            "min": self.min_,
            "max": self.max_,
            "point_masses": self.point_masses_.tolist(),
            "mixture": None
            if self.mixture_ is None
            else {
                "weights": self.mixture_.weights.tolist(),
                "means": self.mixture_.means.tolist(),
                "stds": self.mixture_.stds.tolist(),
            },
        }
        if self.kind is ColumnKind.DATETIME:
            state.update(
                tz=self.tz_, origin_ns=self.origin_ns_, unit=self.unit_, resolution=self.resolution_
            )
            if self.max_tick_ is not None:
                state["max_tick"] = self.max_tick_
        if self.int_origin_ is not None:
            state["int_origin"] = self.int_origin_
        if self.int_max_ is not None:
            state["int_max"] = self.int_max_
        if self.quantile_ is not None:
            state["quantile"] = self.quantile_.get_state()
        if self.n_bins_:
            state["bins"] = self.n_bins_
        return state

    @classmethod
    def from_state(cls, state: dict) -> NumericColumnTransformer:
        obj = cls(kind=ColumnKind(state["kind"]), **state["params"])
        obj.column_, obj.dtype_ = state["column"], state["dtype"]
        obj.has_nulls_, obj.min_, obj.max_ = state["has_nulls"], state["min"], state["max"]
        obj.point_masses_ = np.asarray(state["point_masses"], dtype=np.float64)
        mix = state["mixture"]
        obj.mixture_ = (
            None
            if mix is None
            else Mixture(
                np.asarray(mix["weights"]), np.asarray(mix["means"]), np.asarray(mix["stds"])
            )
        )
        if obj.kind is ColumnKind.DATETIME:
            obj.tz_, obj.origin_ns_, obj.unit_ = state["tz"], int(state["origin_ns"]), state["unit"]
            obj.max_tick_ = None if state.get("max_tick") is None else int(state["max_tick"])
            obj.resolution_ = state.get("resolution", "ns")  # files before it counted in ns
        if state.get("int_origin") is not None:
            obj.int_origin_ = int(state["int_origin"])
        if state.get("int_max") is not None:
            obj.int_max_ = int(state["int_max"])
        if state.get("quantile") is not None:
            obj.quantile_ = QuantileMap.from_state(state["quantile"])
        obj.n_bins_ = int(state.get("bins", 0))
        return obj
