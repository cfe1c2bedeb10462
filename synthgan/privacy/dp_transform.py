"""The table transformer of a private fit, built from one noisy histogram instead of exact statistics.

The ordinary :class:`~synthgan.TableTransformer` reads exact category lists, category counts,
minima, maxima and mixtures from the rows. Here everything the model keeps about the data comes
from a single Gaussian mechanism (accounted in :mod:`synthgan.privacy.accounting`):

* each modelled column contributes one histogram over a domain, each row adds 1 to exactly one
  bin per column and 1 to the row count; each integer column also contributes a histogram of its
  values (a bin per integer within +-``SPIKE_REACH``) to which a row adds ``SPIKE_WEIGHT``. The L2
  sensitivity of the whole release is ``sqrt(n_columns + 1 + SPIKE_WEIGHT**2 * n_integer_columns)``
  and every bin (and the count) gets Gaussian noise of ``stats_noise_multiplier`` times it;
* categorical columns: the domain is the user's list (``public_domain["categories"]``, or the
  dtype's categories, or False/True for booleans), or else the values seen, kept only when the
  noisy count exceeds a threshold that a value held by one row passes with probability at most
  ``delta_threshold`` (over all columns). The kept categories' noisy counts (floored at 1) are the
  condition frequencies. Null is a fixed-domain key, kept when its noisy count is clearly positive;
* numeric columns: the domain is a fixed, data-independent grid (0 and +-10^(k/8) for
  k = -24..96, plus a null bin; integer columns have a bin per integer from -32 to 32 instead of
  the grid's edges there). The bounds are the outer edges of the lowest and highest bins
  whose noisy count clears ``NUMERIC_KEEP_SD`` (about 4.4) noise deviations (or the user's
  ``public_domain["bounds"]``); values are clipped to them. The modes are placed at quantiles of
  the noisy histogram (post-processing), and 0 becomes a point mass when the noisy histogram puts
  at least ``ZERO_MASS_SHARE`` of the column there. An integer column whose bounds hold at most
  ``SMALL_INTEGER_RANGE`` integers gets a point mass at each instead of modes; a wider one gets a
  point mass at each value whose noisy count in the value histogram clears the bound threshold and
  stands ``SPIKE_RATIO`` times above its neighbours' (a spike: 40 hours a week);
* datetimes are days since 1970-01-01; id-like columns keep nothing of the data (integer ids are
  numbered from 1, string ids are 12 random lower-case letters).

Rows holding a category or a null that did not survive the threshold are left out of training
(a filter that reads only the row itself and the released lists).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from synthgan.exceptions import InvalidDataError
from synthgan.schema import ColumnKind, Schema, unknown_column_message
from synthgan.transform import TableTransformer
from synthgan.transform.categorical import CategoricalColumnTransformer, _plain
from synthgan.transform.derived import (
    DerivedColumnTransformer,
    Lookup,
    Monotone,
    Sum,
    derivation_from_dict,
)
from synthgan.transform.identifier import IdColumnTransformer
from synthgan.transform.mixture import Mixture
from synthgan.transform.numeric import NumericColumnTransformer

BINS_PER_DECADE = 8
UNIT_BINS_REACH = 32
"""Integer columns get one bin per integer from -32 to 32 (small counts, grades, scores come out
with exact bounds), the logarithmic grid beyond."""
NUMERIC_FALSE_BIN_RATE = 0.01
"""A numeric bin holding no row clears the bound threshold with probability at most this, over the
whole grid (a union bound: the threshold is norm.isf(rate / n_bins) noise deviations)."""


@dataclass(frozen=True)
class Grid:
    """The fixed, data-independent bins of a numeric column's private histogram."""

    edges: np.ndarray

    @property
    def n_bins(self) -> int:
        return len(self.edges) + 1

    @property
    def keep_sd(self) -> float:
        """Noise deviations a bin's noisy count must clear to bound the column."""
        return float(norm.isf(NUMERIC_FALSE_BIN_RATE / self.n_bins))

    def clears(self, noisy: np.ndarray, sd: float) -> np.ndarray:
        """Bins whose noisy count clears ``keep_sd`` noise deviations (``sd``, in rows)."""
        return noisy > self.keep_sd * max(sd, 1e-12)

    def bins(self, values: np.ndarray) -> np.ndarray:
        """Bin of each finite value: 0 is below the first edge, len(edges) above the last."""
        return np.searchsorted(self.edges, values, side="right")

    def interval(self, index: int) -> tuple[float, float]:
        """Edges of bin ``index``; the end bins are closed at the grid's reach."""
        low = self.edges[max(index - 1, 0)]
        high = self.edges[min(index, len(self.edges) - 1)]
        return float(low), float(high)


_MAGNITUDES = 10.0 ** (np.arange(-3 * BINS_PER_DECADE, 12 * BINS_PER_DECADE + 1) / BINS_PER_DECADE)
CONTINUOUS_GRID = Grid(np.concatenate([-_MAGNITUDES[::-1], [0.0], _MAGNITUDES]))
"""Bin edges from -1e12 to 1e12 (and 0), BINS_PER_DECADE to a decade; values beyond fall in the end
bins."""
_BEYOND_UNITS = _MAGNITUDES[_MAGNITUDES > UNIT_BINS_REACH + 0.5]
INTEGER_GRID = Grid(np.concatenate([
    -_BEYOND_UNITS[::-1], np.arange(-UNIT_BINS_REACH, UNIT_BINS_REACH + 2) - 0.5, _BEYOND_UNITS,
]))  # fmt: skip
"""CONTINUOUS_GRID's edges beyond +-32.5, and a bin [k - 0.5, k + 0.5) for each integer between."""
NUMERIC_KEEP_SD = CONTINUOUS_GRID.keep_sd
SPIKE_REACH = 10_000
SPIKE_GRID = Grid(np.arange(-SPIKE_REACH, SPIKE_REACH + 2) - 0.5)
"""An integer column's value histogram: a bin [k - 0.5, k + 0.5) for each integer k within
+-SPIKE_REACH (values beyond add to no bin)."""
SPIKE_WEIGHT = 0.5
"""What a row adds to its integer columns' value histograms: spikes hold hundreds of rows, so
their histogram can take four times the variance in row units (noise sd / SPIKE_WEIGHT) for a
small rise of everyone else's (Adult's 15 columns, 6 of them integers: sd up 4.6%)."""
SPIKE_RATIO = 3.0
"""A value is a spike when its noisy count is at least this many times the median noisy count of
its ``SPIKE_NEIGHBOURS`` integers either side (every age holds about as many rows as its
neighbours, and none is one)."""
SPIKE_NEIGHBOURS = 3
MAX_SPIKES = 20
"""At most this many spikes per column, the largest first (the ordinary transformer's default
number of point masses)."""
NULL_KEEP_SD = 3.0
ZERO_MASS_SHARE = 0.05
SMALL_INTEGER_RANGE = 20
"""An integer column whose private bounds hold at most this many integers (the ordinary
transformer's default number of point masses) gets a point mass at each of them instead of
Gaussian modes: a code per value, which the two-way marginals release then measures exactly
against the other columns (Adult's education-num against education)."""
STRING_ID_SHAPE = "a" * 12
PUBLIC_DOMAIN_KEYS = ("categories", "bounds", "derived")
CLI_HINT = " (synthgan share: --public-domain FILE, the same dict as JSON)"
"""Ends every message that names public_domain, for those who share from the command line."""


@dataclass
class PrivateStatistics:
    """What a private fit learnt before training: the transformer, condition counts, a row filter."""

    transformer: TableTransformer
    category_counts: list[list[float]]
    keep_rows: np.ndarray  # (n_rows,) bool
    sensitivity: float
    """L2 sensitivity of the release: sqrt(n_columns + 1 + SPIKE_WEIGHT**2 * n_integer_columns)."""
    noise_sd: float
    noisy_rows: float
    """The row count plus noise: what sizes the partition and the sampling rate."""


def check_public_domain(public_domain: dict | None, schema: Schema) -> dict:
    """``{"categories": {col: [...]}, "bounds": {col: (low, high)}, "derived": [relation, ...]}``
    checked against the schema; "derived" comes back as target column -> relation."""
    if public_domain is None:
        return {"categories": {}, "bounds": {}, "derived": {}}
    if not isinstance(public_domain, dict) or set(public_domain) - set(PUBLIC_DOMAIN_KEYS):
        raise InvalidDataError(
            "public_domain must be a dict with the keys 'categories' (column -> list of values), "
            "'bounds' (column -> (low, high)) and/or 'derived' (a list of exact relations), e.g. "
            "public_domain={'bounds': {'age': (17, 90)}}" + CLI_HINT + "."
        )
    categories = dict(public_domain.get("categories") or {})
    bounds = dict(public_domain.get("bounds") or {})
    for column, values in categories.items():
        if column not in schema.names:
            raise InvalidDataError(
                "public_domain['categories']: " + unknown_column_message(column, schema.names)
            )
        if not schema.kind(column).is_categorical:
            raise InvalidDataError(
                f"public_domain['categories'][{column!r}]: column {column!r} is "
                f"{schema.kind(column).value}, not discrete. Give bounds for numeric columns."
            )
        if isinstance(values, str) or len(values) == 0:
            raise InvalidDataError(
                f"public_domain['categories'][{column!r}] must be a non-empty list of values."
            )
    for column, pair in bounds.items():
        if column not in schema.names:
            raise InvalidDataError(
                "public_domain['bounds']: " + unknown_column_message(column, schema.names)
            )
        kind = schema.kind(column)
        if not kind.is_numeric or kind is ColumnKind.DATETIME:
            raise InvalidDataError(
                f"public_domain['bounds'][{column!r}]: column {column!r} is {kind.value}; bounds "
                "are for continuous and integer columns."
            )
        try:
            low, high = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise InvalidDataError(
                f"public_domain['bounds'][{column!r}] must be a pair (low, high) of numbers."
            ) from None
        if not low < high:
            raise InvalidDataError(
                f"public_domain['bounds'][{column!r}] = {pair!r}: low must be below high."
            )
        bounds[column] = (low, high)
    derived = _declared_relations(public_domain.get("derived") or [], schema)
    return {"categories": categories, "bounds": bounds, "derived": derived}


def _declared_relations(declared, schema: Schema) -> dict:
    """public_domain["derived"]: exact relations the owner declares (as the model file stores
    them: sum, lookup, monotone; a lookup's ``numeric_source`` may be left out), each checked
    against the schema. A declared column is computed from its sources, as a non-private fit
    computes the relations it finds; nothing about it is read from the rows."""
    if not isinstance(declared, list):
        raise InvalidDataError(
            "public_domain['derived'] must be a list of relations, e.g. "
            "[{'type': 'sum', 'target': 'total', 'left': 'part_a', 'right': 'part_b'}]" + CLI_HINT
            + "."
        )
    relations: dict = {}
    for position, state in enumerate(declared):
        where = f"public_domain['derived'][{position}]"
        if isinstance(state, dict) and state.get("type") == "lookup" and state.get("source") in \
                schema.names:  # fmt: skip
            state = {"numeric_source": _numeric_kind(schema, state["source"]), **state}
        try:
            relation = derivation_from_dict(state)
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidDataError(
                f"{where} = {state!r} is not a relation ({error}). Give one of "
                "{'type': 'sum', 'target', 'left', 'right'}, {'type': 'monotone', 'source', "
                "'target', 'source_knots', 'target_knots'} or {'type': 'lookup', 'source', "
                "'target', 'keys', 'values'}."
            ) from None
        for column in (relation.target, *relation.sources):
            if column not in schema.names:
                raise InvalidDataError(f"{where}: " + unknown_column_message(column, schema.names))
        _check_declared(relation, schema, where)
        if relation.target in relations or relation.target in relation.sources:
            raise InvalidDataError(
                f"{where}: column {relation.target!r} is derived twice or from itself."
            )
        relations[relation.target] = relation
    for target, relation in relations.items():
        used = [s for s in relation.sources if s in relations]
        if used:
            raise InvalidDataError(
                f"public_domain['derived']: {target!r} is computed from {used[0]!r}, which is "
                "itself derived. Derive both from modelled columns."
            )
    return relations


def _numeric_kind(schema: Schema, column: str) -> bool:
    return schema.kind(column) in (ColumnKind.CONTINUOUS, ColumnKind.INTEGER)


def _all_numbers(values) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _check_declared(relation, schema: Schema, where: str) -> None:
    numeric = {c: _numeric_kind(schema, c) for c in (relation.target, *relation.sources)}
    for column in (relation.target, *relation.sources):
        kind = schema.kind(column)
        if not (numeric[column] or kind.is_categorical):
            raise InvalidDataError(
                f"{where}: column {column!r} is {kind.value}; relations take modelled "
                "categorical, continuous or integer columns."
            )
    if isinstance(relation, Sum | Monotone):
        columns = [relation.target, *relation.sources]
        other = [c for c in columns if not numeric[c]]
        if other:
            raise InvalidDataError(
                f"{where}: a {type(relation).__name__.lower()} relation takes continuous or "
                f"integer columns; {other[0]!r} is {schema.kind(other[0]).value}."
            )
    if isinstance(relation, Monotone):
        x = np.asarray(relation.source_knots, dtype=np.float64)
        y = np.asarray(relation.target_knots, dtype=np.float64)
        if x.ndim != 1 or len(x) < 2 or x.shape != y.shape or not np.all(np.isfinite(x)) \
                or not np.all(np.isfinite(y)) or not np.all(np.diff(x) > 0):  # fmt: skip
            raise InvalidDataError(
                f"{where}: source_knots and target_knots must be lists of finite numbers of one "
                "length (at least 2), source_knots increasing."
            )
    if isinstance(relation, Lookup):
        if len(relation.keys) != len(relation.values) or not relation.keys:
            raise InvalidDataError(f"{where}: keys and values must be non-empty lists of one length.")
        if relation.numeric_source != numeric[relation.source]:
            raise InvalidDataError(
                f"{where}: numeric_source must be {numeric[relation.source]} for the "
                f"{schema.kind(relation.source).value} column {relation.source!r}."
            )
        if relation.numeric_source and not (
            _all_numbers(relation.keys)
            and np.all(np.diff(np.asarray(relation.keys, dtype=np.float64)) > 0)
        ):
            raise InvalidDataError(f"{where}: the keys of a numeric source must be increasing numbers.")
        if numeric[relation.target] and not _all_numbers(relation.values):
            raise InvalidDataError(f"{where}: the values of a numeric column must be numbers.")


def discovers_categories(schema: Schema, data: pd.DataFrame, public: dict) -> bool:
    """Whether some category list must be read from the data (costs part of delta)."""
    return bool(_discovered_columns(schema, data, public))


def _discovered_columns(schema: Schema, data: pd.DataFrame, public: dict) -> list[str]:
    out = []
    for spec in schema.modelled:
        if not spec.kind.is_categorical or spec.kind is ColumnKind.BOOLEAN:
            continue
        if spec.name in public["categories"]:
            continue
        if isinstance(data[spec.name].dtype, pd.CategoricalDtype):
            continue
        out.append(spec.name)
    return out


class _ClippingNumeric(NumericColumnTransformer):
    """Clips values to the private bounds before encoding (saved as a plain numeric transformer)."""

    def _to_float(self, series: pd.Series, *, fitting: bool) -> np.ndarray:
        values = super()._to_float(series, fitting=fitting)
        return np.clip(values, self.min_, self.max_)


def _noisy(counts: np.ndarray, sd: float, rng: np.random.Generator) -> np.ndarray:
    return counts.astype(np.float64) + rng.normal(0.0, sd, size=counts.shape)


def fit_private_statistics(
    data: pd.DataFrame,
    schema: Schema,
    *,
    stats_noise_multiplier: float | None,
    delta_threshold: float,
    public_domain: dict,
    rng: np.random.Generator,
    max_modes: int,
    transformer_params: dict,
) -> PrivateStatistics:
    """Release the noisy histogram once and build every fitted structure from it."""
    modelled = schema.modelled
    n_integer = sum(spec.kind is ColumnKind.INTEGER for spec in modelled)
    # every modelled column's histogram, the row count, and the integer columns' value histograms
    sensitivity = np.sqrt(len(modelled) + 1 + SPIKE_WEIGHT**2 * n_integer)
    sd = 0.0 if stats_noise_multiplier is None else stats_noise_multiplier * sensitivity
    discovered = _discovered_columns(schema, data, public_domain)
    keep_rows = np.ones(len(data), dtype=bool)
    transformers: dict = {}
    category_counts: list[list[float]] = []
    for spec in schema.output:
        series = data[spec.name]
        if spec.kind is ColumnKind.ID:
            transformers[spec.name] = _id_transformer(series)
        elif spec.kind.is_categorical:
            transformer, counts, known = _categorical(
                series, spec.kind, public_domain, sd, rng,
                discovered=spec.name in discovered, n_discovered=len(discovered),
                delta_threshold=delta_threshold,
            )  # fmt: skip
            transformers[spec.name] = transformer
            category_counts.append(counts)
            keep_rows &= known
        else:
            transformer, known = _numeric(series, spec.kind, public_domain, sd, rng, max_modes)
            transformers[spec.name] = transformer
            keep_rows &= known
        relation = public_domain["derived"].get(spec.name)
        if relation is not None:
            transformers[spec.name] = _derived(relation, transformers[spec.name])
    table = TableTransformer(schema=schema, max_modes=max_modes, **transformer_params)
    table.schema_ = schema
    table._rng = np.random.default_rng(rng.integers(2**63))
    table.transformers_ = transformers
    table.compositions_ = []  # never read from the private rows
    table.layout_ = table._build_layout()
    table.columns_ = list(data.columns)
    noisy_rows = float(_noisy(np.array([len(data)]), sd, rng)[0])
    return PrivateStatistics(
        table, category_counts, keep_rows, float(sensitivity), float(sd), noisy_rows
    )


def _derived(relation, inner) -> DerivedColumnTransformer:
    """A declared relation's column: computed from its sources after decoding; ``inner`` (fitted
    on the noisy histogram as any column) keeps its dtype and categories."""
    if isinstance(relation, Lookup) and inner.kind.is_categorical:
        missing = [v for v in relation.values if v not in inner.categories_]
        if missing:
            raise InvalidDataError(
                f"public_domain['derived']: the lookup into {relation.target!r} gives "
                f"{missing[0]!r}, which is not among its private categories. Give them in "
                f"public_domain={{'categories': {{{relation.target!r}: [...]}}}}{CLI_HINT}."
            )
    return DerivedColumnTransformer(relation, inner)


def _id_transformer(series: pd.Series) -> IdColumnTransformer:
    transformer = IdColumnTransformer()
    transformer.column_ = str(series.name)
    transformer.dtype_ = str(series.dtype)
    transformer.null_share_ = 0.0
    transformer.is_integer_ = bool(pd.api.types.is_integer_dtype(series.dtype))
    transformer.next_id_ = 1 if transformer.is_integer_ else None
    transformer.shape_ = None if transformer.is_integer_ else STRING_ID_SHAPE
    return transformer


def _categorical(
    series: pd.Series,
    kind: ColumnKind,
    public_domain: dict,
    sd: float,
    rng: np.random.Generator,
    *,
    discovered: bool,
    n_discovered: int,
    delta_threshold: float,
):
    name = str(series.name)
    transformer = CategoricalColumnTransformer(kind=kind)
    transformer.column_ = name
    transformer.dtype_ = str(series.dtype)
    transformer.dtype_categories_ = None
    transformer.dtype_ordered_ = bool(getattr(series.dtype, "ordered", False))
    null = series.isna().to_numpy()
    if isinstance(series.dtype, pd.CategoricalDtype):
        transformer.dtype_categories_ = [_plain(c) for c in series.dtype.categories]
    if name in public_domain["categories"]:
        domain = [_plain(v) for v in public_domain["categories"][name]]
    elif transformer.dtype_categories_ is not None:
        domain = list(transformer.dtype_categories_)
    elif kind is ColumnKind.BOOLEAN:
        domain = [False, True]
    else:
        domain = [_plain(v) for v in series[~null].unique()]  # candidates: thresholded below
    labels = pd.Index(domain, dtype=object)
    values = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series
    codes = labels.get_indexer(values.astype(object))  # -1: outside a public domain, or null
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    noisy = _noisy(counts, sd, rng)
    if discovered:
        # a value held by one row passes with probability <= delta_threshold over all columns
        threshold = 1.0 + sd * norm.isf(delta_threshold / max(n_discovered, 1))
        keep = noisy > threshold
        if not keep.any():
            raise InvalidDataError(
                f"Column {name!r}: no category is frequent enough to survive the noisy threshold "
                f"({threshold:.0f} rows) at this epsilon. Give its categories in "
                f"public_domain={{'categories': {{{name!r}: [...]}}}}{CLI_HINT}, raise epsilon, "
                "or mark the column 'ignored' in the schema."
            )
        if keep.sum() == 1:
            # read from the released list only: says nothing the release does not
            warnings.warn(
                f"Column {name!r} keeps one category ({domain[int(np.flatnonzero(keep)[0])]!r}) "
                f"at this epsilon: the others fell under the noisy threshold ({threshold:.0f} "
                "rows), so the synthetic column is constant and rows holding them are left out "
                f"of training. Give its categories in public_domain={{'categories': {{{name!r}: "
                f"[...]}}}}{CLI_HINT}, or raise epsilon.",
                UserWarning,
                stacklevel=2,
            )
    else:
        keep = np.ones(len(labels), dtype=bool)
    kept = [domain[i] for i in np.flatnonzero(keep)]
    try:
        order = sorted(range(len(kept)), key=lambda i: kept[i])
    except TypeError:
        order = list(range(len(kept)))
    if transformer.dtype_categories_ is not None or kind is ColumnKind.BOOLEAN:
        order = list(range(len(kept)))  # keep the dtype's (or False, True) order
    kept_index = np.flatnonzero(keep)[order]
    transformer.categories_ = [domain[i] for i in kept_index]
    noisy_null = _noisy(np.array([null.sum()]), sd, rng)[0]
    transformer.has_nulls_ = bool(noisy_null > NULL_KEEP_SD * sd) if sd > 0 else bool(null.any())
    condition_counts = [max(float(c), 1.0) for c in noisy[kept_index]]
    if transformer.has_nulls_:
        condition_counts.append(max(float(noisy_null), 1.0))
    known = np.isin(codes, kept_index) | (null & transformer.has_nulls_)
    return transformer, condition_counts, known


def _numeric(
    series: pd.Series,
    kind: ColumnKind,
    public_domain: dict,
    sd: float,
    rng: np.random.Generator,
    max_modes: int,
):
    name = str(series.name)
    transformer = _ClippingNumeric(kind=kind, max_modes=max_modes, max_point_masses=MAX_SPIKES)
    transformer.column_ = name
    transformer.dtype_ = str(series.dtype)
    transformer.min_, transformer.max_ = -np.inf, np.inf
    if kind is ColumnKind.DATETIME:
        tz = getattr(series.dtype, "tz", None)
        transformer.tz_ = None if tz is None else str(tz)
        transformer.origin_ns_ = 0
        transformer.unit_ = "D"
    values = transformer._to_float(series, fitting=False)  # converts only; no bound is read
    null = np.isnan(values)
    grid = INTEGER_GRID if kind is ColumnKind.INTEGER else CONTINUOUS_GRID
    bins = grid.bins(np.where(null, 0.0, values))
    counts = np.bincount(bins[~null], minlength=grid.n_bins)
    noisy = _noisy(counts, sd, rng)
    noisy_null = _noisy(np.array([null.sum()]), sd, rng)[0]
    transformer.has_nulls_ = bool(noisy_null > NULL_KEEP_SD * sd) if sd > 0 else bool(null.any())
    spikes, spike_counts = (
        _spikes(values[~null], sd / SPIKE_WEIGHT, rng)
        if kind is ColumnKind.INTEGER
        else (np.array([]), np.array([]))
    )
    if name in public_domain["bounds"]:
        low, high = public_domain["bounds"][name]
    else:
        kept = np.flatnonzero(grid.clears(noisy, sd))
        if kept.size == 0:
            raise InvalidDataError(
                f"Column {name!r}: too few rows to find private bounds at this epsilon. Give them "
                f"in public_domain={{'bounds': {{{name!r}: (low, high)}}}}{CLI_HINT}, raise "
                "epsilon, or mark the column 'ignored' in the schema."
            )
        low, high = grid.interval(kept[0])[0], grid.interval(kept[-1])[1]
        if kind is ColumnKind.INTEGER:  # the integers a bin [low, high) holds
            low, high = float(np.ceil(low)), float(np.ceil(high) - 1)
    if kind is not ColumnKind.CONTINUOUS:
        low, high = float(np.floor(low)), float(np.ceil(high))
    transformer.min_, transformer.max_ = float(low), float(high)
    known = ~null | transformer.has_nulls_
    if kind is ColumnKind.INTEGER and high - low + 1 <= SMALL_INTEGER_RANGE:
        transformer.point_masses_ = np.arange(low, high + 1, dtype=np.float64)
        transformer.mixture_ = None
        return transformer, known
    weights = np.clip(noisy, 0.0, None)
    zero_bin = int(grid.bins(np.array([0.0]))[0])
    total = weights.sum()
    zero_mass = low <= 0.0 <= high and total > 0 and weights[zero_bin] >= ZERO_MASS_SHARE * total
    if zero_mass:
        weights[zero_bin] = 0.0
    inside = (spikes >= low) & (spikes <= high) & (spikes != 0.0)
    spikes, spike_counts = spikes[inside], spike_counts[inside]
    np.subtract.at(weights, grid.bins(spikes), spike_counts)  # the modes place the rest
    weights = np.clip(weights, 0.0, None)
    masses = np.concatenate([[0.0] if zero_mass else [], spikes])
    transformer.point_masses_ = np.sort(masses).astype(np.float64)
    transformer.mixture_ = _modes_from_histogram(weights, grid, low, high, max_modes)
    return transformer, known


def _spikes(values: np.ndarray, sd: float, rng: np.random.Generator):
    """The values of an integer column that hold far more rows than their neighbours, from a
    noisy histogram of its values (noise ``sd`` in rows), with their noisy counts, largest first.

    A spike's noisy count clears the bound threshold over the value histogram (a value no row
    holds passes with probability at most NUMERIC_FALSE_BIN_RATE) and is SPIKE_RATIO times the
    median of its neighbours' noisy counts."""
    if sd == 0.0:
        return np.array([]), np.array([])
    counts = np.bincount(SPIKE_GRID.bins(values), minlength=SPIKE_GRID.n_bins)
    noisy = _noisy(counts[1:-1], sd, rng)  # the end bins hold the values beyond the reach
    padded = np.pad(noisy, SPIKE_NEIGHBOURS)
    window = np.lib.stride_tricks.sliding_window_view(padded, 2 * SPIKE_NEIGHBOURS + 1)
    neighbours = np.median(np.delete(window, SPIKE_NEIGHBOURS, axis=1), axis=1)
    spike = SPIKE_GRID.clears(noisy, sd) & (noisy >= SPIKE_RATIO * neighbours)
    index = np.flatnonzero(spike)
    index = index[np.argsort(-noisy[index], kind="stable")][:MAX_SPIKES]
    return (index - SPIKE_REACH).astype(np.float64), noisy[index]


def _modes_from_histogram(
    weights: np.ndarray, grid: Grid, low: float, high: float, n_modes: int
) -> Mixture:
    """Equal-weight Gaussian modes at quantiles of the noisy histogram restricted to [low, high]
    (uniform within each grid bin); uniform over [low, high] when the histogram holds nothing."""
    pieces = []  # (start, stop, mass) of each grid bin cut to [low, high]
    for index in np.flatnonzero(weights > 0):
        start, stop = grid.interval(index)
        start, stop = max(start, low), min(stop, high)
        if stop > start:
            pieces.append((start, stop, weights[index]))
    span = high - low
    if not pieces:
        means = low + (np.arange(n_modes) + 0.5) * span / n_modes
    else:
        starts, stops, masses = (np.array(p) for p in zip(*pieces))
        cumulative = np.concatenate([[0.0], np.cumsum(masses)])
        targets = (np.arange(n_modes) + 0.5) / n_modes * cumulative[-1]
        piece = np.clip(np.searchsorted(cumulative, targets, side="right") - 1, 0, len(masses) - 1)
        within = (targets - cumulative[piece]) / masses[piece]
        means = starts[piece] + within * (stops[piece] - starts[piece])
        means = np.unique(np.round(means, 12))
    gaps = np.diff(np.concatenate([[low], means, [high]]))
    floor = span / (8.0 * n_modes) if span > 0 else 1.0
    stds = np.maximum(np.maximum(gaps[:-1], gaps[1:]) / 2.0, floor)
    return Mixture(np.full(len(means), 1.0 / len(means)), means, stds)
