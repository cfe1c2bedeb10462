"""Conditions for sampling, on any columns, turned into what the generator can be made to meet.

A condition names the values a column may take: one value, a list of values, or a range
(``(low, high)``, a ``pandas.Interval``, or a string such as ``">=30"``). It holds for every
row a call returns (:mod:`synthgan.model.conditioned` draws the rows):

* a categorical column, or a numeric column's spikes and null: the allowed categories of its
  one-hot span; the draw from that span's softmax is restricted to them;
* a numeric column in quantile bins (:mod:`synthgan.transform.quantile`): the bins the range
  overlaps, each with the share of it the range covers, and the places inside the two edge
  bins that stay in range; equality is the bin holding the value, and the value itself;
* a lookup column (education-num fixed by education): the source categories that give an
  allowed value;
* anything else (a numeric column without bins, another derived column): a check on the
  decoded rows, met by bounded rejection.

One condition, or one row of a frame of conditions, per output row: :class:`ConditionPlan`
holds each span condition's arrays with one row (the same condition for every output row) or
one row per output row.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError, shown_name
from synthgan.schema import ColumnKind, Schema, unknown_column_message
from synthgan.transform import TableTransformer
from synthgan.transform.categorical import CategoricalColumnTransformer
from synthgan.transform.derived import DerivedColumnTransformer, Lookup
from synthgan.transform.identifier import IdColumnTransformer
from synthgan.transform.numeric import NumericColumnTransformer

MIN_SHARE = 1e-6
"""The share of a bin a range overlaps in a single point: allowed, but drawn rarely."""
_INTEGER_SLACK = 0.49
"""Integer and date columns round decoded values to whole steps: a range [lo, hi] of whole
steps takes the values that round into it."""


@dataclass
class Conditions:
    """The condition vector of an unconditioned block: ``span``/``category`` None, no filters.
    (Kept for :meth:`RowGenerator.draw`; conditioned sampling goes through ConditionPlan.)"""

    span: int | None = None
    category: int | None = None
    filters: list = field(default_factory=list)

    def filter(self, rows: pd.DataFrame) -> pd.DataFrame:
        return rows

    def failure_message(self, generated: int, produced: int, wanted: int) -> str:
        return (
            f"Could not make {wanted} rows: {produced} after generating {generated}; the row "
            "critic kept too few. Raise max_tries."
        )


class _NotNull:
    """A condition that asks only for a value, not null (imputation's cells to fill)."""

    def __repr__(self) -> str:
        return "NOT_NULL"


NOT_NULL = _NotNull()


@dataclass(frozen=True)
class Between:
    """A range condition: ``low``/``high`` None for an open end."""

    low: object = None
    high: object = None
    low_strict: bool = False
    high_strict: bool = False

    def describe(self, column: str) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{self.low!r} {'<' if self.low_strict else '<='} ")
        parts.append(shown_name(column))
        if self.high is not None:
            parts.append(f" {'<' if self.high_strict else '<='} {self.high!r}")
        return "".join(parts)


@dataclass
class SpanCondition:
    """What a condition asks of one softmax span, as arrays of 1 or n_rows rows.

    ``share`` (rows, width): the share of each category or component that is allowed (0: not
    allowed; bins a range covers in part get the part). ``active`` (rows,): the rows this
    condition applies to (a frame's null cell leaves its row free). ``place_low``/``place_high``
    (rows, width): the in-bin places that keep a value in range (binned numeric columns).
    ``points`` (rows,): a value in the column's float space that equality writes, NaN for none.
    ``choices`` (rows, k): a list of values in float space (NaN-padded), the nearest of which to
    the decoded value is written (a list of values on a numeric column).
    ``clip_low``/``clip_high`` (rows,): the range in float space, checked after rounding.
    ``exact``: for an integer column, the integer each written point or choice stands for (a
    float loses digits beyond 2**53 from the column's origin; the integer is written instead).
    ``exact_ranges``: condition row -> (low, high) in integers, for an integer column spanning
    more than 2**53, checked and clipped in integers.
    """

    column: str
    code_row: int
    start: int
    stop: int
    cond_slot: int | None
    share: np.ndarray
    active: np.ndarray
    scalar_row: int | None = None
    place_low: np.ndarray | None = None
    place_high: np.ndarray | None = None
    points: np.ndarray | None = None
    choices: np.ndarray | None = None
    clip_low: np.ndarray | None = None
    clip_high: np.ndarray | None = None
    transformer: NumericColumnTransformer | None = None
    exact: dict[float, int] | None = None
    exact_ranges: dict[int, tuple[int | None, int | None]] | None = None


def exact_range(condition: SpanCondition, row_ids: np.ndarray, i: int):
    """The integer range (low, high; None for an open end) of output row ``i``, where the
    column's integers span more than 2**53 and a float bound would let a neighbour through."""
    if not condition.exact_ranges:
        return None
    return condition.exact_ranges.get(0 if len(condition.active) == 1 else int(row_ids[i]))


@dataclass
class ConditionPlan:
    """Every condition of one sampling call.

    ``n_rows``: rows of a frame of conditions (each output row meets its own row), or None
    (every output row meets the same conditions). ``checks``: ``(description, predicate)``,
    ``predicate(rows, row_ids) -> bool ndarray``, verified on every decoded row; ``filters``:
    descriptions of those no span condition builds (met by rejection).
    """

    n_rows: int | None = None
    spans: list[SpanCondition] = field(default_factory=list)
    checks: list[tuple[str, Callable]] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.spans and not self.checks

    def describe(self) -> str:
        return ", ".join(description for description, _ in self.checks)

    def check(self, rows: pd.DataFrame, row_ids: np.ndarray) -> np.ndarray:
        keep = np.ones(len(rows), dtype=bool)
        for _, predicate in self.checks:
            keep &= np.asarray(predicate(rows, row_ids), dtype=bool)
        return keep

    def failure_message(self, generated: int, produced: int, wanted: int) -> str:
        names = ", ".join(self.filters) or self.describe()
        return (
            f"Could not meet the conditions {names}: {produced} of {wanted} rows after generating "
            f"{generated}. The model rarely produces such rows; relax the condition or raise "
            "max_tries."
        )


def rows_of(array: np.ndarray, row_ids: np.ndarray) -> np.ndarray:
    """The rows of a condition array for the output rows ``row_ids`` (one row: broadcast)."""
    return np.broadcast_to(array[0], (len(row_ids), *array.shape[1:])) if len(array) == 1 \
        else array[row_ids]  # fmt: skip


# -- parsing ----------------------------------------------------------------------------------


_OPERATOR = re.compile(r"^\s*(>=|<=|>|<|==|=)\s*(.+?)\s*$")


def parse_conditions(
    conditions, transformer: TableTransformer, condition_columns: list[str]
) -> ConditionPlan:
    """Check ``conditions`` (a dict, a DataFrame with one row of conditions per output row, or
    a ``(dict, DataFrame)`` pair) against the fitted transformer and plan how to meet them.
    ``condition_columns``: the columns of the condition vector's spans, in order."""
    fixed, frame = split_request(conditions)
    plan = ConditionPlan(n_rows=None if frame is None else len(frame))
    if frame is not None:
        for column in frame.columns:
            if column in fixed:
                raise InvalidDataError(
                    f"Column {column!r} is conditioned twice: in the dict and in the frame of "
                    "conditions. Keep one."
                )
    fixed, frame, built = _lookup_sources(fixed, frame, transformer)
    builder = _Builder(transformer, condition_columns, plan, built_lookups=built)
    for column, value in fixed.items():
        builder.add(column, [value], broadcast=True)
    if frame is not None:
        for column in frame.columns:
            builder.add(column, list(frame[column].astype(object)), broadcast=False)
    return plan


def _lookup_sources(
    fixed: dict, frame: pd.DataFrame | None, transformer: TableTransformer
) -> tuple[dict, pd.DataFrame | None, set[str]]:
    """The request with each condition on a lookup column whose source is numeric (caravan's
    MHKOOP, 9 minus MHHUUR) given to the source as well, as the list of the source's values
    whose looked-up value meets it, wherever the source has no condition of its own: the draw
    then builds it, where a check alone rejected rows until one came out right (a row with
    several such cells, as ``impute`` gives, could run out of tries). Returns (fixed, frame,
    the lookup columns whose every condition row now has its source conditioned)."""
    built: set[str] = set()
    own = set(fixed) | (set() if frame is None else set(frame.columns))
    given: dict[str, np.ndarray] = {}  # source -> the condition rows given a list here
    for column, t in transformer.transformers_.items():
        relation = getattr(t, "derivation", None)
        if not isinstance(t, DerivedColumnTransformer) or not isinstance(relation, Lookup):
            continue
        source = relation.source
        if not isinstance(transformer.transformers_.get(source), NumericColumnTransformer):
            continue
        if column in fixed and source not in own:
            if _is_null(fixed[column]):
                continue
            keys = _source_values(column, t, [fixed[column]])[0]
            if source in given:  # two lookups of one source: the values giving both
                keys = _both(fixed[source], keys, source)
            fixed = {**fixed, source: keys}
            given[source] = np.ones(1, dtype=bool)
            built.add(column)
        elif frame is not None and column in frame.columns and source not in fixed:
            lists = _source_values(column, t, list(frame[column].astype(object)))
            cells = list(frame[source].astype(object)) if source in frame.columns \
                else [None] * len(frame)  # fmt: skip
            ours = given.get(source, np.zeros(len(frame), dtype=bool))
            for i, keys in enumerate(lists):
                if keys is None:
                    continue
                if ours[i]:
                    cells[i] = _both(cells[i], keys, source)
                elif cells[i] is NOT_NULL or _is_null(cells[i]):
                    cells[i], ours[i] = keys, True
            given[source] = ours
            frame = frame.assign(**{source: pd.Series(cells, index=frame.index, dtype=object)})
            built.add(column)
    return fixed, frame, built


def _both(first: list, second: list, source: str) -> list:
    """The source values in both lists: two lookup columns of one source conditioned."""
    both = [key for key in first if key in set(second)]
    if not both:
        raise InvalidDataError(
            f"The conditions on the columns fixed by {source!r} contradict each other: no value "
            f"of {source!r} gives them all. Relax one."
        )
    return both


def _source_values(column: str, t: DerivedColumnTransformer, values: list) -> list:
    """For each condition on the lookup column ``column``: the source values (the lookup's keys)
    whose looked-up value meets it, or None where the row has no condition."""
    active = np.array([not _is_null(v) for v in values], dtype=bool)
    _, predicate = _value_check(column, t.inner, values, active, False)
    lists: list = [None] * len(values)
    for i, keys in _lookup_keys(column, t.derivation, predicate, active).items():
        if not len(keys):
            # described as _value_check describes one condition
            between = as_between(column, values[i]) or Between(values[i], values[i])
            raise InvalidDataError(
                _no_value_message(column, t.derivation, between.describe(column), "values")
            )
        lists[i] = keys.tolist()
    return lists


def _lookup_keys(column: str, relation: Lookup, predicate, active: np.ndarray) -> dict:
    """Condition row -> the lookup's keys (its source's values) whose looked-up value of
    ``column`` meets the row's condition (``predicate``, a check of ``column``), for the active
    rows."""
    targets = pd.DataFrame({column: pd.Series(relation.values, dtype=object)})
    keys = np.asarray(relation.keys, dtype=object)
    return {
        int(i): keys[np.asarray(predicate(targets, np.full(len(targets), i)), dtype=bool)]
        for i in np.flatnonzero(active)
    }


def _no_value_message(column: str, relation: Lookup, description, word: str) -> str:
    return (
        f"No value of {column!r} in the training data meets {description}; {column!r} is fixed "
        f"by {relation.source!r}, whose {word} give {sorted(set(map(str, relation.values)))[:10]}."
    )


def split_request(conditions) -> tuple[dict, pd.DataFrame | None]:
    """``sample``'s conditions as (the dict every row meets, the frame of per-row ones or
    None)."""
    if conditions is None:
        return {}, None
    if isinstance(conditions, tuple) and len(conditions) == 2:
        fixed, frame = conditions
        return dict(fixed or {}), frame
    if isinstance(conditions, pd.DataFrame):
        return {}, conditions.reset_index(drop=True)
    if isinstance(conditions, dict):
        return conditions, None
    raise InvalidDataError(
        "conditions must be a dict such as {'sex': 'Female', 'age': (30, 40)} or a DataFrame "
        f"with one row of conditions per row to generate, got {type(conditions).__name__}."
    )


def _is_null(value) -> bool:
    return value is None or (not isinstance(value, (str, list, tuple, set, frozenset, Between,
                                                    pd.Interval)) and bool(pd.isna(value)))  # fmt: skip


def as_between(column: str, value) -> Between | None:
    """A range from ``(low, high)``, a ``pandas.Interval``, a ``Between`` or an operator string
    (``">=30"``); None when ``value`` is not a range."""
    if isinstance(value, Between):
        return value
    if isinstance(value, tuple):
        if len(value) != 2:
            raise InvalidDataError(
                f"Condition on {column!r}: a range is a (low, high) pair, got {value!r}. Use a "
                "list for several values."
            )
        return Between(value[0], value[1])
    if isinstance(value, pd.Interval):
        return Between(value.left, value.right, value.open_left, value.open_right)
    if isinstance(value, str):
        match = _OPERATOR.match(value)
        if match and match.group(1) not in ("=", "=="):
            op, bound = match.groups()
            return Between(low=bound, low_strict=op == ">") if op[0] == ">" \
                else Between(high=bound, high_strict=op == "<")  # fmt: skip
        if ".." in value:
            low, _, high = value.partition("..")
            return Between(low.strip() or None, high.strip() or None)
    return None


class _Builder:
    """Adds one column's conditions (one value per condition row) to a plan."""

    def __init__(self, transformer: TableTransformer, condition_columns: list[str],
                 plan: ConditionPlan, *,
                 built_lookups: set[str] | frozenset[str] = frozenset()) -> None:  # fmt: skip
        self.transformer = transformer
        self.built_lookups = built_lookups
        self.layout = transformer.layout_
        self.plan = plan
        self.code_row = {s.column: i for i, s in enumerate(self.layout.softmax_spans)}
        self.scalar_row = {s.column: i for i, s in enumerate(self.layout.tanh_spans)}
        self.softmax = {s.column: s for s in self.layout.softmax_spans}
        self.condition_columns = condition_columns

    def add(self, column: str, values: list, *, broadcast: bool) -> None:
        transformers = self.transformer.transformers_
        if column not in transformers:
            raise InvalidDataError(
                "Cannot condition: " + unknown_column_message(column, self.transformer.output_columns)
            )
        t = transformers[column]
        if isinstance(t, IdColumnTransformer):
            raise InvalidDataError(
                f"Column {column!r} is id-like: it is regenerated, so it cannot be a condition."
            )
        active = np.array([broadcast or not _is_null(v) for v in values], dtype=bool)
        if not active.any():
            return
        if isinstance(t, DerivedColumnTransformer):
            self._derived(column, t, values, active, broadcast)
        elif isinstance(t, CategoricalColumnTransformer):
            share = _category_share(column, t, values, active)
            self._span(column, share, active)
            self.plan.checks.append(_category_check(column, t, values, active, broadcast, share))
        else:
            self._numeric(column, t, values, active, broadcast)

    def _span(self, column: str, share: np.ndarray, active: np.ndarray, **numeric) -> None:
        span = self.softmax[column]
        existing = next((s for s in self.plan.spans if s.column == column), None)
        if existing is not None:  # a lookup's source conditioned too: both must hold
            existing.share = existing.share * share
            existing.active = existing.active | active
            return
        slot = self.condition_columns.index(column) if column in self.condition_columns else None
        self.plan.spans.append(SpanCondition(
            column=column, code_row=self.code_row[column], start=span.start, stop=span.stop,
            cond_slot=slot, share=share, active=active, **numeric,
        ))  # fmt: skip

    # -- derived ----------------------------------------------------------------------------------
    def _derived(self, column, t: DerivedColumnTransformer, values, active, broadcast) -> None:
        inner, relation = t.inner, t.derivation
        description, predicate = _value_check(column, inner, values, active, broadcast)
        self.plan.checks.append((description, predicate))
        source = relation.source if isinstance(relation, Lookup) else None
        source_t = self.transformer.transformers_.get(source) if source else None
        if isinstance(source_t, CategoricalColumnTransformer):
            # the source categories whose looked-up value meets the condition
            share = np.zeros((len(values), source_t.n_categories))
            for i, keys in _lookup_keys(column, relation, predicate, active).items():
                for key in keys:
                    try:
                        share[i, source_t.category_index(key)] = 1.0
                    except KeyError:
                        pass
                if share[i].sum() == 0:
                    raise InvalidDataError(
                        _no_value_message(column, relation, description, "categories")
                    )
            share[~active] = 1.0
            self._span(source, share, active)
        elif column not in self.built_lookups:  # else its source's condition builds it
            self.plan.filters.append(description)

    # -- numeric ----------------------------------------------------------------------------------
    def _numeric(self, column, t: NumericColumnTransformer, values, active, broadcast) -> None:
        rows = len(values)
        width = t.n_components
        share = np.ones((rows, width))
        low = np.full(rows, -np.inf)
        high = np.full(rows, np.inf)
        points = np.full(rows, np.nan)
        place_low = np.full((rows, width), -1.0)
        place_high = np.full((rows, width), 1.0)
        choices: dict[int, list[float]] = {}
        exact: dict[float, int] = {}
        exact_ranges: dict[int, tuple[int | None, int | None]] = {}
        wide = t.int_origin_ is not None and (t.int_max_ or 0) - t.int_origin_ > 2**53
        descriptions = []
        null_slot = width - 1 if t.has_nulls_ else None
        for i in np.flatnonzero(active):
            value = values[i]
            if value is NOT_NULL:
                if null_slot is not None:
                    share[i, null_slot] = 0.0
                descriptions.append(f"{shown_name(column)} is not null")
                continue
            between = as_between(column, value)
            if _is_null(value) and between is None:
                if null_slot is None:
                    raise InvalidDataError(
                        f"Column {column!r} had no nulls in the training data, so it cannot be "
                        "conditioned on null."
                    )
                share[i] = 0.0
                share[i, null_slot] = 1.0
                low[i], high[i] = np.nan, np.nan
                descriptions.append(f"{shown_name(column)} is null")
                continue
            if between is not None:
                lo, hi = _bounds_in_float_space(column, t, between)
                if wide:
                    exact_ranges[int(i)] = _integer_bounds(between)
                descriptions.append(between.describe(column))
                point = np.nan
            elif isinstance(value, (list, set, frozenset)):
                listed = sorted({_value_in_float_space(column, t, v, exact) for v in value})
                if not listed:
                    raise InvalidDataError(
                        f"Condition on {column!r}: an empty list of values holds for no row. "
                        "Give at least one value."
                    )
                descriptions.append(f"{shown_name(column)} in {sorted(value)!r}")
                # each value's bins or spike; the value nearest the decoded one is written
                share[i] = np.max([_component_share(t, v, v, v)[0] for v in listed], axis=0)
                choices[i] = listed
                lo, hi, point = listed[0], listed[-1], np.nan
                if share[i].sum() == 0:
                    raise InvalidDataError(_outside_message(column, t, descriptions[-1]))
                low[i], high[i] = lo, hi
                continue
            else:
                lo = hi = point = _value_in_float_space(column, t, value, exact)
                descriptions.append(f"{shown_name(column)}={value!r}")
            share[i], place_low[i], place_high[i] = _component_share(t, lo, hi, point)
            if share[i].sum() == 0 and not t.n_modes:
                seen = t._from_float(t.point_masses_[:8], pd.RangeIndex(min(8, len(t.point_masses_))))
                raise InvalidDataError(
                    f"Cannot meet {descriptions[-1]}: {column!r} takes only the values seen in "
                    f"training ({', '.join(map(str, seen.tolist()))}"
                    f"{', ...' if len(t.point_masses_) > 8 else ''}), none of which meets it."
                )
            if share[i].sum() == 0:
                raise InvalidDataError(_outside_message(column, t, descriptions[-1]))
            low[i], high[i], points[i] = lo, hi, point
        has_points = not np.isnan(points[active]).all()
        listed = None
        if choices:
            listed = np.full((rows, max(map(len, choices.values()))), np.nan)
            for i, values_i in choices.items():
                listed[i, : len(values_i)] = values_i
        self._span(
            column, share, active,
            scalar_row=self.scalar_row.get(column) if t.n_bins_ else None,
            place_low=place_low if t.n_bins_ else None,
            place_high=place_high if t.n_bins_ else None,
            points=points if has_points else None, choices=listed,
            clip_low=low, clip_high=high, transformer=t, exact=exact or None,
            exact_ranges=exact_ranges or None,
        )  # fmt: skip
        span = next(s for s in self.plan.spans if s.column == column)
        description = descriptions[0] if broadcast else _per_row(column)
        built = ~np.isnan(points) | np.isin(np.arange(rows), list(choices))
        if not t.n_bins_ and (~built[active]).any():  # a range on Gaussian modes
            self.plan.filters.append(description)

        def predicate(rows, row_ids, c=column, t=t, lo=low, hi=high, a=active, listed=listed,
                      points=points, exact=exact, span=span):  # fmt: skip
            x = t._to_float(rows[c], fitting=False)
            lo_, hi_, act = rows_of(lo, row_ids), rows_of(hi, row_ids), rows_of(a, row_ids)
            with np.errstate(invalid="ignore"):
                inside = np.where(np.isnan(lo_), np.isnan(x), (x >= lo_) & (x <= hi_))
            named = ~np.isnan(rows_of(points, row_ids))  # equality or a list: values named
            if listed is not None:
                values = rows_of(listed, row_ids)
                in_list = ~np.isnan(values).all(axis=1)
                named |= in_list
                inside = np.where(in_list, (values == x[:, None]).any(axis=1), inside)
            if exact:  # one float stands for several integers beyond 2**53: compare the integers
                for i in np.flatnonzero(inside & act & named):
                    wanted = exact.get(x[i])
                    if wanted is not None and int(rows[c].iloc[i]) != wanted:
                        inside[i] = False
            if span.exact_ranges:
                for i in np.flatnonzero(inside & act & ~named):
                    bounds = exact_range(span, row_ids, i)
                    if bounds is not None and not _within(int(rows[c].iloc[i]), bounds):
                        inside[i] = False
            return inside | ~act

        self.plan.checks.append((description, predicate))


def _value_list(value) -> list:
    return list(value) if isinstance(value, (list, set, frozenset, tuple)) else [value]


def _category_hint(transformer: CategoricalColumnTransformer, value) -> str:
    known = [str(c) for c in transformer.categories_]
    close = difflib.get_close_matches(str(value), known, n=1, cutoff=0.0)
    return f" The closest known category is {close[0]!r}." if close else ""


def _category_share(column, t: CategoricalColumnTransformer, values, active) -> np.ndarray:
    share = np.ones((len(values), t.n_categories))
    cache: dict = {}
    for i in np.flatnonzero(active):
        key = repr(values[i])
        if key not in cache and values[i] is NOT_NULL:
            cache[key] = np.r_[np.ones(len(t.categories_)), np.zeros(int(t.has_nulls_))]
        if key not in cache:
            _refuse_range(column, values[i])
            row = np.zeros(t.n_categories)
            for value in _value_list(values[i]):
                try:
                    row[t.category_index(value)] = 1.0
                except KeyError:
                    raise InvalidDataError(
                        f"Column {column!r} has no category {value!r}." + _category_hint(t, value)
                    ) from None
            cache[key] = row
        share[i] = cache[key]
    return share


def _per_row(column: str) -> str:
    """The description of a frame of conditions' column, whose value differs by row."""
    return f"{shown_name(column)} as in the frame of conditions"


def _refuse_range(column: str, value) -> None:
    """A range on a categorical or boolean column is refused by name: its categories have no
    order to take it in, and reading ``(low, high)`` as two values would silently drop the
    ones between (a category column of the numbers 1..5 conditioned on ``(2, 4)``)."""
    if isinstance(value, (tuple, Between, pd.Interval)):
        shown = value.describe(column) if isinstance(value, Between) else repr(value)
        raise InvalidDataError(
            f"Condition on {column!r}: {shown} is a range, but {column!r} is categorical, so its "
            "values have no order to take a range in. Name the values instead: a list in Python "
            f"({{{column!r}: [a, b]}}), {shown_name(column)}=a,b with --where."
        )


def _category_check(column, t: CategoricalColumnTransformer, values, active, broadcast,
                    share: np.ndarray | None = None):  # fmt: skip
    """(description, predicate): each decoded row's category is one its condition allows;
    ``share`` is :func:`_category_share`'s where the caller has it already."""
    if share is None:
        share = _category_share(column, t, values, active)
    if broadcast:
        wanted = _value_list(values[0])
        name = shown_name(column)
        description = f"{name}={wanted[0]!r}" if len(wanted) == 1 else f"{name} in {wanted!r}"
    else:
        description = _per_row(column)

    def predicate(rows, row_ids, c=column, t=t, share=share, active=active):
        codes = t.codes(rows[c])
        allowed = rows_of(share, row_ids)[np.arange(len(rows)), codes] > 0
        return allowed | ~rows_of(active, row_ids)

    return description, predicate


def _in_values(series: pd.Series, wanted: list) -> np.ndarray:
    """bool ndarray: each value of ``series`` is one of ``wanted`` (null matches None/NaN)."""
    out = np.zeros(len(series), dtype=bool)
    as_text = series.astype(object).map(lambda v: None if _is_null(v) else str(v))
    for value in wanted:
        if _is_null(value):
            out |= series.isna().to_numpy()
        else:
            out |= (as_text == str(value)).to_numpy(dtype=bool)
    return out


def _equals(values: pd.Series, value) -> pd.Series:
    """Kept for the rule plan: a Series of bool, value by value."""
    return pd.Series(_in_values(values, [value]), index=values.index)


def _value_check(column, inner, values, active, broadcast):
    """(description, predicate) for a condition on a column checked on decoded rows."""
    if inner.kind.is_categorical:
        return _category_check(column, inner, values, active, broadcast)
    low, high, members = [], [], {}
    descriptions = []
    for i, (value, a) in enumerate(zip(values, active)):
        if a and isinstance(value, (list, set, frozenset)):  # a list: each value's point
            points = sorted(
                {_bounds_in_float_space(column, inner, Between(v, v), check_seen=False)[0]
                 for v in value}
            )  # fmt: skip
            if not points:
                raise InvalidDataError(
                    f"Condition on {column!r}: an empty list of values holds for no row. Give "
                    "at least one value."
                )
            members[i] = points
            low.append(points[0])
            high.append(points[-1])
            descriptions.append(f"{shown_name(column)} in {sorted(value)!r}")
            continue
        between = as_between(column, value) if a else Between()
        if a and between is None:
            between = Between(value, value)
        lo, hi = _bounds_in_float_space(column, inner, between, check_seen=False)
        low.append(lo)
        high.append(hi)
        descriptions.append(between.describe(column))
    low, high = np.array(low), np.array(high)
    listed = np.full((len(values), max(map(len, members.values()), default=0)), np.nan)
    for i, points in members.items():
        listed[i, : len(points)] = points
    origin = inner.int_origin_ or 0

    def predicate(rows, row_ids, c=column):
        x = rows[c].to_numpy(dtype=np.float64, na_value=np.nan) - origin
        with np.errstate(invalid="ignore"):
            inside = (x >= rows_of(low, row_ids)) & (x <= rows_of(high, row_ids))
            if members:  # a list: one of its values, not anything between them
                points = rows_of(listed, row_ids)
                named = ~np.isnan(points).all(axis=1)
                inside &= ~named | (points == x[:, None]).any(axis=1)
            return inside

    return descriptions[0] if broadcast else _per_row(column), predicate


# -- numeric values in the transformer's float space ------------------------------------------------


def _float_of(column: str, t: NumericColumnTransformer, value) -> float:
    """``value`` in the column's float space (dates: steps since the origin; integers: the
    distance from the integer origin)."""
    if t.kind is ColumnKind.DATETIME:
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise InvalidDataError(
                f"Condition on date column {column!r}: {value!r} is not a date. Write it as "
                "'2020-01-31' or a pandas.Timestamp."
            ) from None
        tz = getattr(t, "tz_", None)
        if tz is not None and stamp.tzinfo is None:
            stamp = stamp.tz_localize(tz)
        elif tz is None and stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        series = pd.Series([stamp]).astype(t.dtype_) if tz is None else pd.Series([stamp])
        return float(t._to_float(series, fitting=False)[0])
    if isinstance(value, str):
        try:  # "5826469677651474252" keeps its digits as an int, not as a float
            value = int(value) if t.int_origin_ is not None else float(value)
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                raise InvalidDataError(
                    f"Condition on numeric column {column!r}: {value!r} is not a number."
                ) from None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidDataError(
            f"Condition on numeric column {column!r} must be a number, a (low, high) pair or a "
            f"range such as '>=30', got {value!r}."
        )
    if t.int_origin_ is not None:
        if isinstance(value, (int, np.integer)):  # the distance in exact integers, as decoded
            return float(int(value) - t.int_origin_)
        return float(value) - t.int_origin_
    return float(value)


def _value_in_float_space(
    column: str, t: NumericColumnTransformer, value, exact: dict[float, int] | None = None
) -> float:
    """``value`` in float space, refused unless the column can hold it; an integer column's
    integer is recorded in ``exact`` under its float."""
    x = _float_of(column, t, value)
    whole = t.kind is ColumnKind.DATETIME or t.kind is ColumnKind.INTEGER
    if whole and x != np.round(x):
        what = "a whole number" if t.kind is ColumnKind.INTEGER else f"a whole {t.unit_} step"
        raise InvalidDataError(
            f"Condition {shown_name(column)}={value!r}: the column holds {what} in every row; "
            "give one, or a range."
        )
    if not t.min_ <= x <= t.max_:
        raise InvalidDataError(_outside_message(column, t, f"{shown_name(column)}={value!r}"))
    if exact is not None and t.int_origin_ is not None:
        number = _number(value) if isinstance(value, (str, int, np.integer)) else None
        if isinstance(number, int) and abs(number - t.int_origin_) > 2**53:  # x loses digits
            exact[x] = number
    return x


def _bounds_in_float_space(
    column: str, t: NumericColumnTransformer, between: Between, *, check_seen: bool = True
) -> tuple[float, float]:
    """[low, high] in float space, inclusive, strict ends moved in (whole steps for integer and
    date columns)."""
    whole = t.kind is ColumnKind.DATETIME or t.kind is ColumnKind.INTEGER
    low = -np.inf if between.low is None else _float_of(column, t, between.low)
    high = np.inf if between.high is None else _float_of(column, t, between.high)
    if whole:
        low = _whole_end(low, strict=between.low_strict, low=True)
        high = _whole_end(high, strict=between.high_strict, low=False)
    else:
        if between.low_strict:
            low = np.nextafter(low, np.inf)
        if between.high_strict:
            high = np.nextafter(high, -np.inf)
    if low > high:
        raise InvalidDataError(
            f"Condition {between.describe(column)} holds for no value: the low end is above the "
            "high end."
        )
    if check_seen and (high < t.min_ or low > t.max_):
        raise InvalidDataError(_outside_message(column, t, between.describe(column)))
    return float(low), float(high)


def _outside_message(column: str, t: NumericColumnTransformer, description: str) -> str:
    seen = t._from_float(np.array([t.min_, t.max_]), pd.RangeIndex(2)).tolist()
    return (
        f"Cannot meet {description}: the model saw {column!r} only from {seen[0]!r} to "
        f"{seen[1]!r}, and generates no value outside that. Condition within it."
    )


def _component_share(t: NumericColumnTransformer, low: float, high: float, point: float):
    """Per component of a numeric column: the share a value range [low, high] covers, and the
    in-bin places that stay in it (equality, ``point``: the bins that hold it, whole)."""
    width = t.n_components
    share = np.zeros(width)
    place_low, place_high = np.full(width, -1.0), np.full(width, 1.0)
    masses = np.asarray(t.point_masses_, dtype=np.float64)
    share[t.n_modes : t.n_modes + len(masses)] = (masses >= low) & (masses <= high)
    if t.n_bins_:
        whole = t.kind is not ColumnKind.CONTINUOUS
        slack = _INTEGER_SLACK if whole and np.isnan(point) else 0.0
        if np.isnan(point):
            u_low, u_high = _u_interval(t.quantile_, low - slack, high + slack)
        else:  # a value between the spikes and the binned values: the nearest bin
            near = float(np.clip(point, t.quantile_.values[0], t.quantile_.values[-1]))
            u_low, u_high = _u_interval(t.quantile_, near, near)
        if u_low <= u_high:
            levels = t.quantile_.levels
            first, last = levels[0], levels[-1]
            bin_width = (last - first) / t.n_bins_
            edges = first + bin_width * np.arange(t.n_bins_ + 1)
            lo_edge, hi_edge = edges[:-1], edges[1:]
            overlap_low = np.maximum(lo_edge, u_low)
            overlap_high = np.minimum(hi_edge, u_high)
            touches = overlap_low <= overlap_high
            if not np.isnan(point):  # the value is written: its bins, whole
                share[: t.n_bins_] = touches
            else:
                part = np.clip((overlap_high - overlap_low) / bin_width, 0.0, 1.0)
                share[: t.n_bins_] = np.where(touches, np.maximum(part, MIN_SHARE), 0.0)
                place_low[: t.n_bins_] = np.where(
                    touches, 2.0 * (overlap_low - lo_edge) / bin_width - 1.0, -1.0)
                place_high[: t.n_bins_] = np.where(
                    touches, 2.0 * (overlap_high - lo_edge) / bin_width - 1.0, 1.0)
    elif t.n_modes:  # Gaussian modes: any mode may land in range; the rows are checked
        share[: t.n_modes] = 1.0
    return share, np.clip(place_low, -1, 1), np.clip(place_high, -1, 1)


def _u_interval(quantile, low: float, high: float) -> tuple[float, float]:
    """The levels u whose value F^-1(u) lies in [low, high] (empty when low > high)."""
    values, levels = quantile.values, quantile.levels
    if low > values[-1] or high < values[0]:
        return 1.0, 0.0
    if low <= values[0]:
        u_low = levels[0]
    else:
        i = int(np.searchsorted(values, low, side="left"))
        u_low = levels[i - 1] + (low - values[i - 1]) / (values[i] - values[i - 1]) * (
            levels[i] - levels[i - 1])  # fmt: skip
    if high >= values[-1]:
        u_high = levels[-1]
    else:
        j = int(np.searchsorted(values, high, side="right")) - 1
        u_high = levels[j] + (high - values[j]) / (values[j + 1] - values[j]) * (
            levels[j + 1] - levels[j])  # fmt: skip
    return float(u_low), float(u_high)


# -- rebalancing ---------------------------------------------------------------------------------


def distribution_frame(distribution: dict, n: int, schema: Schema, seed: int) -> pd.DataFrame:
    """A frame of ``n`` conditions whose column takes each value in its given share (largest
    remainder), in a seeded random order. ``schema``: the sampled table's columns."""
    if not isinstance(distribution, dict) or len(distribution) != 1:
        raise InvalidDataError(
            "distribution must name one column and its shares, e.g. "
            "{'sex': {'Female': 0.5, 'Male': 0.5}}."
        )
    (column, shares), = distribution.items()
    names = [spec.name for spec in schema.output]
    if column not in names:
        raise InvalidDataError("Cannot rebalance: " + unknown_column_message(column, names))
    if not schema.kind(column).is_categorical:
        raise InvalidDataError(
            f"distribution: column {column!r} is not categorical. Rebalance a categorical column, "
            "or condition a numeric one on ranges (conditions=...)."
        )
    if not isinstance(shares, dict) or not shares:
        raise InvalidDataError(
            f"distribution[{column!r}] must map categories to shares, e.g. {{'a': 0.5, 'b': 0.5}}."
        )
    values = list(shares)
    weights = np.array([float(shares[v]) for v in values])
    if (weights < 0).any() or not np.isfinite(weights).all():
        raise InvalidDataError(f"distribution[{column!r}]: shares must be non-negative numbers.")
    total = weights.sum()
    if not 0.99 <= total <= 1.01:
        raise InvalidDataError(
            f"distribution[{column!r}]: the shares add up to {total:g}, not 1. Give shares that "
            "sum to 1 (categories left out get none)."
        )
    exact = weights / total * n
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    column_values = np.repeat(np.array(values, dtype=object), counts)
    np.random.default_rng(seed).shuffle(column_values)
    return pd.DataFrame({column: column_values})


def sampling_request(n, conditions, distribution, schema: Schema, seed: int):
    """``(n, conditions)`` for RowGenerator.iter_rows from ``sample``'s arguments: ``n`` taken
    from a frame of conditions when not given, ``distribution`` turned into a frame of
    conditions (beside a dict of conditions every row meets). ``schema``: the sampled table's
    columns."""
    frame = conditions if isinstance(conditions, pd.DataFrame) else None
    if n is None:
        if frame is None:
            raise InvalidDataError(
                "n is required: the number of rows to generate (or pass conditions as a frame, "
                "one row generated per row of it)."
            )
        n = len(frame)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise InvalidDataError(f"n must be a non-negative integer, got {n!r}.")
    if distribution is None:
        return int(n), conditions
    if frame is not None:
        raise InvalidDataError(
            "distribution cannot be combined with a frame of conditions; give the frame the "
            "shares you want, or use a dict of conditions with distribution."
        )
    rows = distribution_frame(distribution, int(n), schema, seed)
    return int(n), ((conditions or {}), rows) if conditions else rows


def _integer_bounds(between: Between) -> tuple[int | None, int | None]:
    """A range's ends as the integers it includes (strict ends moved in by one); None for an
    open end (+inf was refused as outside the column, -inf is open)."""
    ends = []
    for end, strict, low in ((between.low, between.low_strict, True),
                             (between.high, between.high_strict, False)):  # fmt: skip
        whole = None if end is None else _whole_end(_number(end), strict=strict, low=low)
        ends.append(whole if isinstance(whole, int) else None)
    return ends[0], ends[1]


def _whole_end(x: int | float, *, strict: bool, low: bool) -> int | float:
    """A range end moved to the nearest whole number inside the range (past ``x`` when
    ``strict``), exact for Python ints of any size; an infinite end stays as it is."""
    if isinstance(x, float) and not math.isfinite(x):
        return x
    if low:
        return math.floor(x) + 1 if strict else math.ceil(x)
    return math.ceil(x) - 1 if strict else math.floor(x)


def _within(value: int, bounds: tuple[int | None, int | None]) -> bool:
    low, high = bounds
    return (low is None or value >= low) and (high is None or value <= high)


def _number(x):
    """``x`` as an int where it is one (an int, or text of one: compared with an int64 column,
    it keeps digits beyond 2**53 that a float would lose), else as a float."""
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return int(x)
    if isinstance(x, str):
        try:
            return int(x)
        except ValueError:
            pass
    return float(x)


def value_predicate(column: str, value, *, numeric: bool) -> tuple[str, Callable]:
    """(description, predicate) of one condition checked on decoded rows in the column's own
    units; ``predicate(rows)`` gives a bool Series. For columns the model does not hold as they
    are (the rule plan's rewritten columns)."""
    if not numeric:
        wanted = _value_list(value)
        description = f"{shown_name(column)}={value!r}"
        return description, lambda rows: pd.Series(_in_values(rows[column], wanted),
                                                   index=rows.index)  # fmt: skip
    if isinstance(value, (list, set, frozenset)):
        listed = [_number(v) if not isinstance(v, str) else v for v in value]

        def one_of(rows: pd.DataFrame) -> pd.Series:
            series = rows[column]
            if pd.api.types.is_datetime64_any_dtype(series.dtype):
                return series.isin([pd.Timestamp(v) for v in listed])
            return series.isin(listed)

        return f"{shown_name(column)} in {sorted(value)!r}", one_of
    between = as_between(column, value)
    if between is None:
        between = Between(value, value)

    def bound(series: pd.Series, x):
        try:
            if pd.api.types.is_datetime64_any_dtype(series.dtype):
                stamp = pd.Timestamp(x)
                tz = getattr(series.dtype, "tz", None)
                if tz is not None and stamp.tzinfo is None:
                    stamp = stamp.tz_localize(tz)
                return stamp
            return _number(x)
        except (TypeError, ValueError):
            kind = "a date" if pd.api.types.is_datetime64_any_dtype(series.dtype) else "a number"
            raise InvalidDataError(
                f"Cannot meet {shown_name(column)}={value!r}: {x!r} is not {kind}, as {column!r} "
                "holds."
            ) from None

    def predicate(rows: pd.DataFrame) -> pd.Series:
        series = rows[column]
        ok = series.notna()
        if between.low is not None:
            low = bound(series, between.low)
            ok &= (series > low) if between.low_strict else (series >= low)
        if between.high is not None:
            high = bound(series, between.high)
            ok &= (series < high) if between.high_strict else (series <= high)
        return ok.fillna(False).astype(bool)

    return between.describe(column), predicate
