"""Per-column statistics of a table read batch by batch, and a uniform sample of its rows.

A streamed fit (:mod:`synthgan.model.streamed`) cannot hold the table, so its first pass
gathers, batch by batch, what the column transformers learn from:

* per column: rows, nulls, min and max, whether every float is whole, and the exact count of
  every distinct value (categories, point-mass candidates, the quantile map's weights) while the
  column has at most ``max_distinct`` distinct values;
* a uniform sample of at most ``sample_rows`` rows (bottom-k of seeded uniform keys), for what
  needs whole rows: the column kinds, the exact relations between columns, and the quantile map
  of a column with more distinct values than ``max_distinct``.

Both are mergeable (:meth:`TableStats.merge`): statistics of two parts of a table merged equal
the statistics of the whole, so parts can be scanned apart. A column whose distinct values
overflow ``max_distinct`` keeps exact rows, nulls, min and max; its value counts are then
read off the sample (``exact`` is False).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError
from synthgan.schema import ColumnKind, ColumnSpec, Schema, resolve_schema, validate_frame

SAMPLE_ROWS = 100_000
MAX_DISTINCT = 100_000


def _with_nulls(dtype: str, batch_dtype: str) -> str:
    """``dtype``, or ``batch_dtype`` where that is pandas' nullable form of the numpy integer
    ``dtype``: a later batch of the column holds nulls (``io.integers_as_read``)."""
    nullable = "U" + dtype[1:].capitalize() if dtype.startswith("uint") else dtype.capitalize()
    return batch_dtype if dtype.startswith(("int", "uint")) and batch_dtype == nullable else dtype


def _is_numeric_like(dtype) -> bool:
    return (
        (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))
        or pd.api.types.is_datetime64_any_dtype(dtype)
    )


@dataclass
class ColumnStats:
    """Exact, mergeable statistics of one column."""

    name: str
    dtype: str
    rows: int = 0
    nulls: int = 0
    minimum: object = None
    maximum: object = None
    whole: bool = True
    """Every non-null value of a float column is a whole number."""
    counts: pd.Series | None = None
    """Distinct non-null value -> rows; None before any value and once more than
    ``max_distinct`` distinct values were seen (``overflowed``)."""
    overflowed: bool = False
    categorical_dtype: pd.CategoricalDtype | None = None
    max_distinct: int = MAX_DISTINCT
    _pending: list = field(default_factory=list, repr=False)
    _pending_len: int = 0

    @property
    def exact(self) -> bool:
        """The value counts are exact (the column never overflowed ``max_distinct``)."""
        return not self.overflowed

    @property
    def present(self) -> int:
        return self.rows - self.nulls

    def update(self, series: pd.Series) -> ColumnStats:
        """Add one batch of the column."""
        self.dtype = _with_nulls(self.dtype, str(series.dtype))
        if isinstance(series.dtype, pd.CategoricalDtype) and self.categorical_dtype is None:
            self.categorical_dtype = series.dtype  # the first batch's categories and order
        null = series.isna().to_numpy()
        self.rows += len(series)
        self.nulls += int(null.sum())
        present = series[~null]
        if present.empty:
            return self
        if _is_numeric_like(series.dtype):
            low, high = present.min(), present.max()
            self.minimum = low if self.minimum is None else min(self.minimum, low)
            self.maximum = high if self.maximum is None else max(self.maximum, high)
            if pd.api.types.is_float_dtype(series.dtype) and self.whole:
                values = present.to_numpy(dtype=np.float64)
                self.whole = bool(np.all(values == np.round(values)))
        if not self.overflowed:
            self._add_counts(present.value_counts(sort=False))
        return self

    def _add_counts(self, counts: pd.Series) -> None:
        counts = counts[counts > 0]  # a categorical dtype lists unseen categories too
        if isinstance(counts.index, pd.CategoricalIndex):
            counts.index = counts.index.astype(counts.index.categories.dtype)
        if self.counts is None:
            self.counts = counts.iloc[:0].copy()
        self._pending.append(counts)
        self._pending_len += len(counts)
        if self._pending_len > max(len(self.counts), self.max_distinct // 4):
            self._merge_pending()

    def _merge_pending(self) -> None:
        if not self._pending or self.overflowed:
            self._pending, self._pending_len = [], 0
            return
        merged = pd.concat([self.counts, *self._pending]).groupby(level=0, sort=False).sum()
        self._pending, self._pending_len = [], 0
        self.overflowed = len(merged) > self.max_distinct
        self.counts = None if self.overflowed else merged.astype(np.int64)

    def finish(self) -> ColumnStats:
        """Merge what is pending and sort the counts by value."""
        self._merge_pending()
        if self.counts is not None:
            self.counts = self.counts.sort_index(kind="stable")
        return self

    def merge(self, other: ColumnStats) -> ColumnStats:
        """The statistics of both parts together (a new object)."""
        dtype = _with_nulls(self.dtype, other.dtype)
        out = ColumnStats(self.name, dtype, max_distinct=self.max_distinct)
        out.rows, out.nulls = self.rows + other.rows, self.nulls + other.nulls
        bounds = [v for v in (self.minimum, other.minimum) if v is not None]
        out.minimum = min(bounds) if bounds else None
        bounds = [v for v in (self.maximum, other.maximum) if v is not None]
        out.maximum = max(bounds) if bounds else None
        out.whole = self.whole and other.whole
        out.categorical_dtype = self.categorical_dtype or other.categorical_dtype
        self.finish(), other.finish()
        out.overflowed = self.overflowed or other.overflowed
        if not out.overflowed:
            for counts in (self.counts, other.counts):
                if counts is not None:
                    out._add_counts(counts)
        return out.finish()

    def value_table(self) -> tuple[pd.Series, np.ndarray]:
        """(each distinct value as a column of the original dtype, its count)."""
        counts = self.finish().counts
        if self.overflowed or counts is None:
            raise InvalidDataError(f"Column {self.name!r}: no exact value counts.")
        values = pd.Series(counts.index.array, name=self.name)
        if self.categorical_dtype is not None:
            values = values.astype(self.categorical_dtype)
        elif str(values.dtype) != self.dtype:
            try:
                values = values.astype(self.dtype)
            except (TypeError, ValueError):
                pass
        return values, counts.to_numpy(dtype=np.int64)


class RowReservoir:
    """A uniform sample of at most ``capacity`` rows: the rows with the smallest of seeded
    uniform keys (bottom-k), kept in table order. Mergeable: the bottom-k of two samples' union
    is the bottom-k of the two tables together."""

    def __init__(self, capacity: int, seed: int | None) -> None:
        self.capacity = int(capacity)
        self._rng = np.random.default_rng(seed)
        self.frame: pd.DataFrame | None = None
        self.keys = np.empty(0)
        self.rows = np.empty(0, dtype=np.int64)  # each kept row's position in the table
        self.seen = 0

    def update(self, frame: pd.DataFrame) -> RowReservoir:
        keys = self._rng.random(len(frame))
        positions = np.arange(self.seen, self.seen + len(frame), dtype=np.int64)
        self.seen += len(frame)
        if len(self.keys) >= self.capacity:
            wanted = keys < self.keys.max()
            frame, keys, positions = frame[wanted], keys[wanted], positions[wanted]
        if len(keys):
            self._add(frame.reset_index(drop=True), keys, positions)
        return self

    def _add(self, frame: pd.DataFrame, keys: np.ndarray, positions: np.ndarray) -> None:
        if self.frame is None:
            self.frame = frame.iloc[:0]
        frame = pd.concat([self.frame, frame], ignore_index=True) if len(self.frame) else frame
        keys, positions = np.concatenate([self.keys, keys]), np.concatenate([self.rows, positions])
        if len(keys) > self.capacity:
            keep = np.sort(np.argpartition(keys, self.capacity - 1)[: self.capacity])
            frame, keys, positions = frame.iloc[keep], keys[keep], positions[keep]
        order = np.argsort(positions, kind="stable")
        self.frame = frame.iloc[order].reset_index(drop=True)
        self.keys, self.rows = keys[order], positions[order]

    def merge(self, other: RowReservoir) -> RowReservoir:
        """The sample of this table followed by ``other``'s (a new object)."""
        out = RowReservoir(self.capacity, None)
        out.seen = self.seen + other.seen
        for part, offset in ((self, 0), (other, self.seen)):
            if part.frame is not None and len(part.frame):
                out._add(part.frame, part.keys, part.rows + offset)
        if out.frame is None:
            out.frame = self.frame if self.frame is not None else other.frame
        return out


@dataclass
class TableStats:
    """A table's column statistics and row sample, from :func:`scan`."""

    columns: dict[str, ColumnStats]
    reservoir: RowReservoir

    @property
    def rows(self) -> int:
        return self.reservoir.seen

    @property
    def sample(self) -> pd.DataFrame:
        return self.reservoir.frame

    @property
    def complete(self) -> bool:
        """The sample holds every row of the table."""
        return len(self.sample) == self.rows

    def merge(self, other: TableStats) -> TableStats:
        if list(self.columns) != list(other.columns):
            raise InvalidDataError("Cannot merge statistics of tables with different columns.")
        return TableStats(
            {n: s.merge(other.columns[n]) for n, s in self.columns.items()},
            self.reservoir.merge(other.reservoir),
        )

    def schema(self, given: Schema | None) -> Schema:
        """Column kinds inferred on the sample, corrected by the exact statistics: a float
        column with a fraction anywhere is continuous, and a column with a repeated value is not
        id-like. Kinds in ``given`` are kept as they are."""
        inferred = resolve_schema(self.sample, given)
        fixed = {c.name for c in given.columns} if given is not None else set()
        specs = []
        for spec in inferred.columns:
            kind, stats = spec.kind, self.columns[spec.name]
            if spec.name not in fixed:
                if kind is ColumnKind.INTEGER and not stats.whole:
                    kind = ColumnKind.CONTINUOUS
                repeated = stats.counts is not None and len(stats.counts) < stats.present
                if kind is ColumnKind.ID and repeated:
                    numeric = _is_numeric_like(self.sample[spec.name].dtype)
                    kind = ColumnKind.INTEGER if numeric else ColumnKind.DISCRETE
            specs.append(ColumnSpec(spec.name, kind, spec.dtype))
        return Schema(tuple(specs))


def scan(
    frames: Iterable[pd.DataFrame],
    *,
    sample_rows: int = SAMPLE_ROWS,
    max_distinct: int = MAX_DISTINCT,
    seed: int | None = None,
) -> TableStats:
    """Pass over a table given as consecutive frames: its :class:`TableStats`."""
    columns: dict[str, ColumnStats] | None = None
    reservoir = RowReservoir(sample_rows, seed)
    for frame in frames:
        if columns is None:
            validate_frame(frame)
            columns = {
                name: ColumnStats(name, str(frame[name].dtype), max_distinct=max_distinct)
                for name in frame.columns
            }
        for name, stats in columns.items():
            stats.update(frame[name])
        reservoir.update(frame)
    if columns is None:
        raise InvalidDataError(
            "The table is empty (0 rows); synthgan needs at least one row and one column."
        )
    for stats in columns.values():
        stats.finish()
    return TableStats(columns, reservoir)
