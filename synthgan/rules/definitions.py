"""The rules a user states about a table, their JSON form and the check of a row against them.

A rule here is a plain description (what must hold); how it is enforced around the model lives
in :mod:`synthgan.rules.plan`. Two rules learn something from the data they are fitted on
(``FixedCombinations``: the combinations seen; ``CategoryRange``: each category's bounds); that
learnt state is passed to :meth:`Rule.holds` as ``facts`` and never stored on the rule.

Nulls mean "not applicable": every rule but ``NullTogether`` holds on a row where one of its
columns is null.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError
from synthgan.io import read_json
from synthgan.rules import expression
from synthgan.schema import ColumnKind, Schema, unknown_column_message

_NUMBER = (ColumnKind.CONTINUOUS, ColumnKind.INTEGER)
_ORDERED = (ColumnKind.CONTINUOUS, ColumnKind.INTEGER, ColumnKind.DATETIME)
_COMBINABLE = (ColumnKind.DISCRETE, ColumnKind.BOOLEAN, ColumnKind.INTEGER)


class Rule:
    """Base of every rule: the columns it reads, its JSON form and its check."""

    kind: ClassVar[str] = ""

    @property
    def columns(self) -> tuple[str, ...]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return f"{type(self).__name__}({self.describe()})"

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def learn(self, frame: pd.DataFrame) -> dict:
        """Facts the rule learns from the (real) rows it is fitted on; JSON-able."""
        return {}

    def holds(self, frame: pd.DataFrame, facts: dict) -> np.ndarray:
        """bool ndarray of shape (n_rows,): True where the row meets the rule or the rule does
        not apply (a null)."""
        raise NotImplementedError

    def check_schema(self, schema: Schema) -> None:
        """Raise InvalidDataError (one line, naming the rule, the column and the fix) when the
        rule cannot apply to a table of this schema."""
        for name in self.columns:
            if name not in schema.names:
                raise self.error(unknown_column_message(name, schema.names))
            kind = schema.kind(name)
            if kind in (ColumnKind.ID, ColumnKind.IGNORED):
                raise self.error(
                    f"column {name!r} is {kind.value} (regenerated or left out), so no rule can "
                    "bind it. Declare another kind in the schema or drop the rule."
                )

    def error(self, what: str) -> InvalidDataError:
        return InvalidDataError(f"Rule {self}: {what}")

    def _need_kinds(self, schema: Schema, name: str, kinds: tuple, what: str) -> None:
        kind = schema.kind(name)
        if kind not in kinds:
            raise self.error(
                f"column {name!r} is {kind.value}, but this rule needs {what}. Pick another "
                "column, or declare its kind in the schema."
            )


def _present(frame: pd.DataFrame, names) -> np.ndarray:
    return np.logical_and.reduce([frame[n].notna().to_numpy() for n in names])


def _ordered_values(series: pd.Series):
    """Values comparable across columns of one family: float64 for numbers, the Series itself
    for dates (pandas compares tz-aware and naive dates with care)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _compare(low, high, strict: bool) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        result = (low < high) if strict else (low <= high)
    return np.asarray(result, dtype=bool)


# -- the rules ---------------------------------------------------------------------------------


@dataclass(frozen=True, init=False)
class Inequality(Rule):
    """``low <= high`` (``<`` with ``strict=True``), or a chain ``a <= b <= c`` of more columns.

    Numbers or dates. Enforced by construction: each higher column is modelled as its
    non-negative gap over the one below it (in the column's own unit for dates).

    Examples
    --------
    >>> Inequality("start", "end")
    >>> Inequality("min_price", "price", "max_price", strict=True)
    """

    kind: ClassVar[str] = "inequality"
    chain: tuple[str, ...]
    strict: bool = False

    def __init__(self, low: str, high: str, *more: str, strict: bool = False) -> None:
        object.__setattr__(self, "chain", (low, high, *more))
        object.__setattr__(self, "strict", strict)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.chain

    @property
    def links(self) -> list[tuple[str, str]]:
        return list(zip(self.chain[:-1], self.chain[1:]))

    def describe(self) -> str:
        return (" < " if self.strict else " <= ").join(self.chain)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.kind, "columns": list(self.chain), "strict": self.strict}

    @classmethod
    def from_dict(cls, data: dict) -> Inequality:
        _keys(data, {"columns", "low", "high", "strict"})
        chain = data.get("columns") or [data.get("low"), data.get("high")]
        if not isinstance(chain, list) or len(chain) < 2 or not all(
            isinstance(c, str) for c in chain
        ):
            raise InvalidDataError(
                'An inequality rule needs two or more column names: {"rule": "inequality", '
                '"columns": ["start", "end"]} or {"rule": "inequality", "low": "start", '
                '"high": "end"}.'
            )
        return cls(*chain, strict=_flag(data, "strict"))

    def check_schema(self, schema: Schema) -> None:
        if len(set(self.chain)) != len(self.chain):
            raise self.error("a column appears twice. Name each column once.")
        super().check_schema(schema)
        for name in self.chain:
            self._need_kinds(schema, name, _ORDERED, "numbers or dates")
        dates = {schema.kind(n) is ColumnKind.DATETIME for n in self.chain}
        if len(dates) > 1:
            raise self.error(
                "it compares dates with numbers. Put only dates, or only numbers, in one rule."
            )

    def holds(self, frame: pd.DataFrame, facts: dict) -> np.ndarray:
        ok = np.ones(len(frame), dtype=bool)
        for low, high in self.links:
            applies = _present(frame, (low, high))
            meets = _compare(_ordered_values(frame[low]), _ordered_values(frame[high]), self.strict)
            ok &= ~applies | meets
        return ok


Bound = float | int | str | pd.Timestamp | None


@dataclass(frozen=True)
class Range(Rule):
    """``low <= column <= high``; each bound a constant (number or date), the name of another
    column, or None for no bound. Enforced by clipping into the bounds after sampling.

    Examples
    --------
    >>> Range("age", low=17, high=90)
    >>> Range("paid", low=0, high="invoiced")
    """

    kind: ClassVar[str] = "range"
    column: str
    low: Bound = None
    high: Bound = None

    @property
    def bound_columns(self) -> tuple[str, ...]:
        return tuple(b for b in (self.low, self.high) if isinstance(b, str))

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column, *self.bound_columns)

    def describe(self) -> str:
        def show(bound) -> str:
            return bound.isoformat() if isinstance(bound, pd.Timestamp) else str(bound)

        parts = [show(self.low)] if self.low is not None else []
        parts.append(self.column)
        if self.high is not None:
            parts.append(show(self.high))
        return " <= ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        def encode(bound):
            if isinstance(bound, (pd.Timestamp, dt.datetime, dt.date)):
                return {"date": pd.Timestamp(bound).isoformat()}
            return bound.item() if isinstance(bound, np.generic) else bound

        return {"rule": self.kind, "column": self.column, "low": encode(self.low),
                "high": encode(self.high)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Range:
        _keys(data, {"column", "low", "high"})

        def decode(bound):
            if isinstance(bound, dict) and set(bound) == {"date"}:
                try:
                    return pd.Timestamp(bound["date"])
                except (ValueError, TypeError):
                    raise InvalidDataError(
                        f"Range rule: {bound['date']!r} is not a date. Write it like "
                        '{"date": "2024-01-31"}.'
                    ) from None
            if bound is None or isinstance(bound, str) or _is_number(bound):
                return bound
            raise InvalidDataError(
                f"Range rule: bound {bound!r} is neither a number, a column name, "
                '{"date": "2024-01-31"} nor null.'
            )

        return cls(_name(data, "column", "range"), decode(data.get("low")),
                   decode(data.get("high")))  # fmt: skip

    def check_schema(self, schema: Schema) -> None:
        if self.low is None and self.high is None:
            raise self.error("it has no bound. Give low=..., high=... or both.")
        super().check_schema(schema)
        self._need_kinds(schema, self.column, _ORDERED, "numbers or dates")
        is_date = schema.kind(self.column) is ColumnKind.DATETIME
        for bound in (self.low, self.high):
            if isinstance(bound, str):
                self._need_kinds(schema, bound, _ORDERED, "numbers or dates")
                if (schema.kind(bound) is ColumnKind.DATETIME) is not is_date:
                    raise self.error(
                        f"it bounds {self.column!r} by {bound!r}, a date by a number or the "
                        "reverse. Bound dates by dates and numbers by numbers."
                    )
            elif bound is not None and isinstance(bound, pd.Timestamp) is not is_date:
                raise self.error(
                    f"bound {bound!r} does not fit column {self.column!r} "
                    f"({schema.kind(self.column).value}). Use "
                    + ('{"date": "2024-01-31"} bounds.' if is_date else "number bounds.")
                )
        low, high = self.low, self.high
        if not isinstance(low, (str, type(None))) and not isinstance(high, (str, type(None))):
            if low > high:
                raise self.error(f"low {low!r} is above high {high!r}. Swap them.")

    def bound_values(self, frame: pd.DataFrame, bound):
        """A bound as per-row values (a column) or a constant, comparable with the column."""
        if isinstance(bound, str):
            return _ordered_values(frame[bound])
        if isinstance(bound, pd.Timestamp):
            tz = getattr(frame[self.column].dtype, "tz", None)
            if tz is not None and bound.tz is None:
                return bound.tz_localize(tz)
            if tz is None and bound.tz is not None:
                return bound.tz_convert(None)
            return bound
        return float(bound)

    def holds(self, frame: pd.DataFrame, facts: dict) -> np.ndarray:
        values = _ordered_values(frame[self.column])
        ok = np.ones(len(frame), dtype=bool)
        for bound, below in ((self.low, True), (self.high, False)):
            if bound is None:
                continue
            limit = self.bound_values(frame, bound)
            applies = _present(frame, (self.column, *([bound] if isinstance(bound, str) else [])))
            meets = _compare(limit, values, False) if below else _compare(values, limit, False)
            ok &= ~applies | meets
        return ok


@dataclass(frozen=True, init=False)
class _ColumnGroup(Rule):
    """A rule on a group of two or more different columns, written ``{"columns": [...]}``."""

    names: tuple[str, ...] = field(default_factory=tuple)

    def __init__(self, columns) -> None:
        if isinstance(columns, str):
            columns = [columns]
        object.__setattr__(self, "names", tuple(columns))

    @property
    def columns(self) -> tuple[str, ...]:
        return self.names

    def describe(self) -> str:
        return ", ".join(self.names)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.kind, "columns": list(self.names)}

    @classmethod
    def from_dict(cls, data: dict) -> _ColumnGroup:
        _keys(data, {"columns"})
        return cls(_names(data, cls.kind))

    def check_schema(self, schema: Schema) -> None:
        if len(self.names) < 2 or len(set(self.names)) != len(self.names):
            raise self.error("it needs two or more different columns.")
        super().check_schema(schema)


@dataclass(frozen=True, init=False)
class FixedCombinations(_ColumnGroup):
    """The columns only take together the combinations seen in the data (``education`` and
    ``education-num``). Categorical or integer columns. Enforced by construction: the columns
    are modelled as one joint categorical column.
    """

    kind: ClassVar[str] = "fixed_combinations"

    def check_schema(self, schema: Schema) -> None:
        super().check_schema(schema)
        for name in self.names:
            self._need_kinds(schema, name, _COMBINABLE, "a categorical, boolean or integer column")

    def learn(self, frame: pd.DataFrame) -> dict:
        """Every combination seen, nulls included (the joint column keeps null patterns)."""
        seen = _objects(frame[list(self.names)]).drop_duplicates()
        return {"combinations": seen.to_numpy().tolist()}

    def holds(self, frame: pd.DataFrame, facts: dict) -> np.ndarray:
        known = pd.MultiIndex.from_tuples(
            [tuple(c) for c in facts["combinations"]], names=list(self.names)
        ) if facts["combinations"] else None  # fmt: skip
        applies = _present(frame, self.names)
        if known is None:
            return ~applies
        rows = pd.MultiIndex.from_frame(_objects(frame[list(self.names)]))
        return ~applies | rows.isin(known)


@dataclass(frozen=True)
class Formula(Rule):
    """``column = expression`` over other numeric columns (``+ - * /``, numbers, parentheses),
    rounded to ``decimals`` (None: whole numbers for an integer column, no rounding
    otherwise). Enforced by construction: the column is not learned but computed.

    Examples
    --------
    >>> Formula("total", "net + tax")
    >>> Formula("amount", "price * quantity", decimals=2)
    """

    kind: ClassVar[str] = "formula"
    column: str
    expression: str
    decimals: int | None = None

    @property
    def tree(self) -> expression.Node:
        return expression.parse(self.expression)

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(expression.columns(self.tree))

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column, *self.inputs)

    def describe(self) -> str:
        rounding = "" if self.decimals is None else f", {self.decimals} decimals"
        return f"{self.column} = {self.expression}{rounding}"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.kind, "column": self.column, "expression": self.expression,
                "decimals": self.decimals}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Formula:
        _keys(data, {"column", "expression", "decimals"})
        decimals = data.get("decimals")
        if decimals is not None and (not isinstance(decimals, int) or isinstance(decimals, bool)):
            raise InvalidDataError(f"Formula rule: decimals must be an integer, got {decimals!r}.")
        expr = data.get("expression")
        if not isinstance(expr, str):
            raise InvalidDataError(
                'A formula rule needs an "expression" string: {"rule": "formula", '
                '"column": "total", "expression": "net + tax"}.'
            )
        return cls(_name(data, "column", "formula"), expr, decimals)

    def check_schema(self, schema: Schema) -> None:
        inputs = self.inputs  # parses: a bad expression fails here
        if not inputs:
            raise self.error("the expression reads no column. Use a Range for a constant.")
        if self.column in inputs:
            raise self.error(f"{self.column!r} appears on both sides. Compute it from others.")
        super().check_schema(schema)
        for name in self.columns:
            self._need_kinds(schema, name, _NUMBER, "a number column")

    def rounding(self, schema_kind: ColumnKind) -> int | None:
        if self.decimals is not None:
            return self.decimals
        return 0 if schema_kind is ColumnKind.INTEGER else None

    def compute(self, frame: pd.DataFrame, decimals: int | None) -> np.ndarray:
        values = expression.evaluate(self.tree, frame)
        if decimals is None:
            return values
        with np.errstate(over="ignore", invalid="ignore"):  # np.round scales by 10**decimals
            rounded = np.round(values, decimals)
        # a value whose scaling overflows (evaluate leaves no inf of its own) is far beyond any
        # fraction a float holds: already round
        return np.where(np.isinf(rounded), values, rounded)

    def holds(self, frame: pd.DataFrame, facts: dict) -> np.ndarray:
        decimals = facts.get("decimals")
        expected = self.compute(frame, None)
        actual = frame[self.column].to_numpy(dtype=np.float64, na_value=np.nan)
        # a present value where the expression is undefined (a division by zero) breaks the rule:
        # the column would be computed as null there
        applies = _present(frame, self.columns)
        if decimals is not None:
            tolerance = 0.5 * 10.0 ** (-decimals) * (1 + 1e-9) + 1e-12 * np.abs(expected)
        else:  # float32 columns hold ~7 significant digits
            eps = 1e-6 if str(frame[self.column].dtype) == "float32" else 1e-9
            tolerance = eps * np.maximum(np.abs(expected), 1.0)
        with np.errstate(invalid="ignore"):
            meets = np.abs(actual - expected) <= tolerance
        return ~applies | meets


@dataclass(frozen=True)
class CategoryRange(Rule):
    """Each category of ``category_column`` keeps ``numeric_column`` within the bounds seen for
    it in the data. Enforced by clipping into the row's category bounds after sampling.
    """

    kind: ClassVar[str] = "category_range"
    category_column: str
    numeric_column: str

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.category_column, self.numeric_column)

    def describe(self) -> str:
        return f"{self.numeric_column} within the bounds of each {self.category_column}"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.kind, "category_column": self.category_column,
                "numeric_column": self.numeric_column}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> CategoryRange:
        _keys(data, {"category_column", "numeric_column"})
        return cls(_name(data, "category_column", "category_range"),
                   _name(data, "numeric_column", "category_range"))  # fmt: skip

    def check_schema(self, schema: Schema) -> None:
        super().check_schema(schema)
        self._need_kinds(schema, self.category_column, _COMBINABLE, "a categorical column")
        self._need_kinds(schema, self.numeric_column, _NUMBER, "a number column")

    def learn(self, frame: pd.DataFrame) -> dict:
        rows = frame.loc[_present(frame, self.columns), list(self.columns)]
        values = rows[self.numeric_column].astype("float64")
        category = _objects(rows[[self.category_column]])[self.category_column]
        bounds = values.groupby(category, observed=True).agg(["min", "max"])
        return {"bounds": [[_native(k), float(lo), float(hi)]
                           for k, lo, hi in bounds.itertuples()]}  # fmt: skip

    def limits(self, frame: pd.DataFrame, facts: dict) -> tuple[np.ndarray, np.ndarray]:
        """Per-row (low, high) of the row's category; NaN where the category has no bounds."""
        lows = {k: lo for k, lo, _ in facts["bounds"]}
        highs = {k: hi for k, _, hi in facts["bounds"]}
        category = _objects(frame[[self.category_column]])[self.category_column]
        return (category.map(lows).to_numpy(dtype=np.float64, na_value=np.nan),
                category.map(highs).to_numpy(dtype=np.float64, na_value=np.nan))  # fmt: skip

    def holds(self, frame: pd.DataFrame, facts: dict) -> np.ndarray:
        low, high = self.limits(frame, facts)
        values = frame[self.numeric_column].to_numpy(dtype=np.float64, na_value=np.nan)
        applies = _present(frame, self.columns) & ~np.isnan(low)
        with np.errstate(invalid="ignore"):
            return ~applies | ((low <= values) & (values <= high))


@dataclass(frozen=True, init=False)
class NullTogether(_ColumnGroup):
    """The columns are null on the same rows: all null, or none. Enforced by construction: one
    indicator says whether the group is null, the columns themselves are modelled without
    nulls.
    """

    kind: ClassVar[str] = "null_together"


    def holds(self, frame: pd.DataFrame, facts: dict) -> np.ndarray:
        nulls = np.stack([frame[n].isna().to_numpy() for n in self.names])
        return nulls.all(axis=0) | ~nulls.any(axis=0)


# -- JSON ----------------------------------------------------------------------------------------

RULE_KINDS: dict[str, type[Rule]] = {
    cls.kind: cls
    for cls in (Inequality, Range, FixedCombinations, Formula, CategoryRange, NullTogether)
}


def rule_from_dict(data: Any) -> Rule:
    """One rule from its JSON form ``{"rule": "<kind>", ...}``."""
    if isinstance(data, Rule):
        return data
    if not isinstance(data, dict) or not isinstance(data.get("rule"), str):
        raise InvalidDataError(
            f"A rule is a JSON object naming its kind, such as {{\"rule\": \"inequality\", "
            f"\"columns\": [\"start\", \"end\"]}}; got {str(data)[:60]}."
        )
    kind = data["rule"]
    if kind not in RULE_KINDS:
        hint = difflib.get_close_matches(kind, list(RULE_KINDS), n=1)
        fix = f" Did you mean {hint[0]!r}?" if hint else ""
        raise InvalidDataError(
            f"Unknown rule kind {kind!r}. Use one of {', '.join(RULE_KINDS)}.{fix}"
        )
    return RULE_KINDS[kind].from_dict(data)


def rules_from_list(items: Any) -> list[Rule]:
    """Rules from a list of Rule objects or their JSON forms (``{"rules": [...]}`` too)."""
    if isinstance(items, dict) and "rules" in items:
        items = items["rules"]
    if isinstance(items, (Rule, dict)) or not isinstance(items, (list, tuple)):
        raise InvalidDataError(
            "rules must be a list of rules, e.g. [Inequality('start', 'end')], or a JSON file "
            '{"rules": [{"rule": "inequality", "columns": ["start", "end"]}]}.'
        )
    return [rule_from_dict(item) for item in items]


def load_rules(text_or_path: str | os.PathLike) -> list[Rule]:
    """Read rules from a JSON file (or a JSON string): ``{"rules": [{"rule": ...}, ...]}`` or a
    bare list. See docs/rules.md for each kind's fields."""
    source, data = read_json(text_or_path, what="rules", opening=("{", "["))
    try:
        return rules_from_list(data)
    except InvalidDataError as exc:
        raise InvalidDataError(f"{source}: {exc}") from None


def rules_to_json(rules: list[Rule]) -> str:
    return json.dumps({"rules": [r.to_dict() for r in rules]}, indent=2)


# -- helpers -------------------------------------------------------------------------------------


def _native(value):
    """A plain JSON-able Python value (None for any null)."""
    if value is None or (not isinstance(value, (str, bytes)) and pd.api.types.is_scalar(value)
                         and pd.isna(value)):  # fmt: skip
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _objects(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as plain Python values (object dtype), None for every kind of null."""
    out = frame.astype(object)
    return out.where(frame.notna(), None)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _flag(data: dict, key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise InvalidDataError(f"Rule {data.get('rule')!r}: {key} must be true or false.")
    return value


def _keys(data: dict, allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed - {"rule"})
    if extra:
        hint = difflib.get_close_matches(extra[0], sorted(allowed), n=1)
        fix = f" Did you mean {hint[0]!r}?" if hint else ""
        raise InvalidDataError(
            f"Rule {data.get('rule')!r} has no field {extra[0]!r}.{fix} Its fields: "
            f"{', '.join(sorted(allowed))}."
        )


def _name(data: dict, key: str, kind: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidDataError(f"A {kind} rule needs {key!r}: a column name.")
    return value


def _names(data: dict, kind: str) -> list[str]:
    value = data.get("columns")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidDataError(
            f'A {kind} rule needs "columns": a list of column names, e.g. ["a", "b"].'
        )
    return value
