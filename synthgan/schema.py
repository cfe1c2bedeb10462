"""Column kinds, the rules that infer them, and the schema's JSON round trip.

Inference rules (the thresholds are module constants, documented in docs/schema.md):

* bool / ``boolean`` dtype, or an object column holding only True/False -> ``boolean``
* datetime64 (naive or tz-aware) -> ``datetime``
* float: ``continuous``; but a float column whose non-null values are all whole numbers
  (an integer column that picked up nulls, typically from CSV) -> ``integer``. Floats are never id-like.
* integer: ``id`` when every non-null value is distinct, the table has more than
  ``ID_MIN_ROWS`` rows, the dtype has room for as many new ids beside the real ones (a
  ``UInt8`` column of 51 spread values has not), and either the name reads as an identifier
  (a word of ``ID_NAME_WORDS``: ``user_id``, ``CustomerID``) or the values are packed so
  tightly that a feature of that spread would have repeated a value (at least
  ``ID_MIN_COINCIDENCES`` coinciding pairs expected of values spread evenly over the range);
  otherwise ``integer`` (never ``discrete`` unless overridden). Distinct amounts spread
  widely (a 100-row sample of incomes) are features, not ids.
* string / object of strings: ``id`` when every non-null value is distinct on a table of more
  than ``ID_MIN_ROWS`` rows (no name or spread test), otherwise ``discrete``.
* ``category`` dtype -> ``discrete``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError
from synthgan.io import read_json

ID_MIN_ROWS = 50
"""A column can only be id-like on a table of more than this many rows."""

ID_NAME_WORDS = frozenset(
    {"id", "ids", "uuid", "guid", "pk", "key", "no", "nr", "num", "number", "ssn"}
)
"""Words of a column name (split at ``_``, spaces, digits and camel case) that mark an integer
column of distinct values as an identifier whatever its spread."""

ID_MIN_COINCIDENCES = 3.0
"""Distinct integers without an identifier's name are ids only when values spread evenly over
their range would give at least this many coinciding pairs (n(n-1)/2 / range): a feature that
packed would have repeated a value (probability about exp(-3) = 5% if spread evenly, less
otherwise)."""

SCHEMA_FORMAT_VERSION = 1


class ColumnKind(str, Enum):
    CONTINUOUS = "continuous"
    INTEGER = "integer"
    DISCRETE = "discrete"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    ID = "id"
    IGNORED = "ignored"

    @property
    def is_numeric(self) -> bool:
        """Modelled as a number (mode-specific normalisation)."""
        return self in (ColumnKind.CONTINUOUS, ColumnKind.INTEGER, ColumnKind.DATETIME)

    @property
    def is_categorical(self) -> bool:
        """Modelled as a one-hot category."""
        return self in (ColumnKind.DISCRETE, ColumnKind.BOOLEAN)

    @classmethod
    def parse(cls, value: str | ColumnKind, *, column: str) -> ColumnKind:
        if isinstance(value, ColumnKind):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            names = [k.value for k in cls]
            hint = difflib.get_close_matches(str(value).lower(), names, n=1)
            fix = f" Did you mean {hint[0]!r}?" if hint else ""
            raise InvalidDataError(
                f"Column {column!r}: unknown kind {value!r}. Use one of {', '.join(names)}.{fix}"
            ) from None


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a schema: its name, its kind and the dtype it had when seen."""

    name: str
    kind: ColumnKind
    dtype: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind.value, "dtype": self.dtype}


@dataclass(frozen=True)
class Schema:
    """The ordered columns of a table with their kinds."""

    columns: tuple[ColumnSpec, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> ColumnSpec:
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise KeyError(unknown_column_message(name, self.names))

    def kind(self, name: str) -> ColumnKind:
        return self[name].kind

    @property
    def modelled(self) -> list[ColumnSpec]:
        """Columns the model learns (not id-like, not ignored)."""
        return [c for c in self.columns if c.kind not in (ColumnKind.ID, ColumnKind.IGNORED)]

    @property
    def output(self) -> list[ColumnSpec]:
        """Columns a synthetic table has (every column but the ignored ones), in input order."""
        return [c for c in self.columns if c.kind is not ColumnKind.IGNORED]

    def with_kinds(self, kinds: dict[str, str | ColumnKind]) -> Schema:
        """A copy with the kinds of some columns replaced."""
        for name in kinds:
            if name not in self.names:
                raise InvalidDataError(unknown_column_message(name, self.names, where="schema"))
        return Schema(
            tuple(
                ColumnSpec(c.name, ColumnKind.parse(kinds[c.name], column=c.name), c.dtype)
                if c.name in kinds
                else c
                for c in self.columns
            )
        )

    # -- JSON round trip -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": SCHEMA_FORMAT_VERSION,
            "columns": [c.to_dict() for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        if not isinstance(data, dict) or not isinstance(data.get("columns"), list):
            raise InvalidDataError(
                'A schema is a JSON object {"columns": [{"name": ..., "kind": ...}, ...]}.'
            )
        specs = []
        for entry in data["columns"]:
            if not isinstance(entry, dict) or "name" not in entry or "kind" not in entry:
                raise InvalidDataError(
                    f"Schema entry {entry!r} needs a 'name' and a 'kind' (e.g. "
                    '{"name": "age", "kind": "integer"}).'
                )
            name = str(entry["name"])
            specs.append(
                ColumnSpec(
                    name, ColumnKind.parse(entry["kind"], column=name), entry.get("dtype", "")
                )
            )
        return cls(tuple(specs))

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            from synthgan.io import write_text

            write_text(text + "\n", path)
        return text

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike) -> Schema:
        """Read a schema from a JSON string or a path to a JSON file."""
        _, data = read_json(text_or_path, what="schema", opening=("{",))
        return cls.from_dict(data)


def unknown_column_message(name: str, known: list[str], *, where: str = "table") -> str:
    hint = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    fix = f" Did you mean {hint[0]!r}?" if hint else ""
    return f"Column {name!r} is not in the {where}.{fix}"


# -- validation ---------------------------------------------------------------------------------


def check_column_names(columns: pd.Index) -> None:
    """Raise InvalidDataError naming the column names that occur more than once, or that are not
    strings."""
    if columns.duplicated().any():
        dupes = sorted({repr(c) for c in columns[columns.duplicated()]})
        raise InvalidDataError(
            f"Duplicate column names: {', '.join(dupes)}. Rename them so every column is unique."
        )
    non_str = [c for c in columns if not isinstance(c, str)]
    if non_str:
        raise InvalidDataError(
            f"Column names must be strings; got {non_str[:3]!r}. "
            "Rename them, e.g. df.columns = df.columns.astype(str)."
        )


def validate_frame(df: Any) -> pd.DataFrame:
    """Check that ``df`` is a non-empty DataFrame synthgan can model; raise InvalidDataError if not."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidDataError(
            f"Expected a pandas DataFrame, got {type(df).__name__}. "
            "Wrap arrays with pandas.DataFrame(data, columns=[...]) or read a file with "
            "synthgan.io.read_table(path)."
        )
    check_column_names(df.columns)
    if len(df.columns) == 0 or len(df) == 0:
        raise InvalidDataError(
            f"The table is empty ({len(df)} rows, {len(df.columns)} columns); "
            "synthgan needs at least one row and one column."
        )
    return df


def check_column_values(series: pd.Series, kind: ColumnKind) -> None:
    """Problems inside one column that no kind can model."""
    name = series.name
    if kind is ColumnKind.IGNORED:
        return
    if series.isna().all():
        raise InvalidDataError(
            f"Column {name!r} has only null values. Drop it, or mark it 'ignored' in the schema."
        )
    if kind in (ColumnKind.CONTINUOUS, ColumnKind.INTEGER) and pd.api.types.is_numeric_dtype(
        series
    ):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        n_inf = int(np.isinf(values).sum())
        if n_inf:
            raise InvalidDataError(
                f"Column {name!r} has {n_inf} infinite value(s). Replace them with nulls or finite "
                "numbers, e.g. df[col] = df[col].replace([np.inf, -np.inf], np.nan)."
            )


def _object_value_types(series: pd.Series) -> set[type]:
    values = series.dropna()
    types = set(map(type, values.to_numpy()))
    # numpy scalars count as their Python counterparts
    normalised = set()
    for t in types:
        if issubclass(t, (bool, np.bool_)):
            normalised.add(bool)
        elif issubclass(t, (int, np.integer)):
            normalised.add(int)
        elif issubclass(t, (float, np.floating)):
            normalised.add(float)
        else:
            normalised.add(t)
    return normalised


def epoch_seconds(series: pd.Series) -> np.ndarray:
    """Seconds since 1970 of a datetime64 column (a zoned one counted in UTC) as float64, NaN
    for null. The epoch is taken in the column's own unit, so a datetime64[s] column beyond what
    nanoseconds reach (2262), or beyond the year 9999, counts too: no stamp goes through
    nanoseconds or Python's datetime."""
    if getattr(series.dtype, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    since = series - pd.Timestamp(0).as_unit(series.dt.unit)
    return since.dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan)


def _is_whole(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.all(finite == np.round(finite)))


def widest_id_gap(present: pd.Series) -> list[int] | None:
    """[first free id, how many] of the widest run of unused values between the real ids: where
    both ends of the dtype are taken, new ids come from there."""
    numpy_dtype = np.dtype(getattr(present.dtype, "numpy_dtype", present.dtype))
    values = np.unique(present.to_numpy(dtype=numpy_dtype))
    if len(values) < 2:
        return None
    # two's-complement differences of sorted values: exact for any span below 2**64
    bits = (
        values.astype(np.int64).view(np.uint64)
        if numpy_dtype.kind == "i"
        else values.astype(np.uint64)
    )
    steps = np.diff(bits)
    widest = int(np.argmax(steps))
    return [int(values[widest]) + 1, int(steps[widest]) - 1]


def id_room_at_ends(numpy_dtype: np.dtype, low: int | None, high: int) -> tuple[int, int]:
    """How many new integer ids ``numpy_dtype`` numbers above ``high`` (the largest real id) and
    below ``low`` (the smallest; None: none below)."""
    info = np.iinfo(numpy_dtype) if numpy_dtype.kind in "iu" else np.iinfo(np.int64)
    return max(int(info.max) - high, 0), 0 if low is None else max(low - int(info.min), 0)


def has_room_for_ids(present: pd.Series, n: int) -> bool:
    """Whether the dtype of ``present`` (the real ids, no nulls) numbers ``n`` new ids beside
    them: above the largest, below the smallest, and in the widest run between (as
    synthgan.transform.identifier draws them)."""
    if present.empty:
        return True
    numpy_dtype = np.dtype(getattr(present.dtype, "numpy_dtype", present.dtype))
    ends = sum(id_room_at_ends(numpy_dtype, int(present.min()), int(present.max())))
    if ends >= n:  # the usual case: no need to sort the ids for the gap
        return True
    gap = widest_id_gap(present)
    return ends + (gap[1] if gap else 0) >= n


def named_like_id(name: Any) -> bool:
    """Whether a word of ``name`` is one of ``ID_NAME_WORDS`` (``user_id``, ``CustomerID``,
    ``userId``, ``account_number``, ``InvoiceNo``; not ``paid`` or ``valid``), or ``name`` is
    the ``Unnamed: 0`` pandas gives a CSV's unnamed first column (a written-out index)."""
    if re.fullmatch(r"Unnamed: \d+", str(name)):
        return True
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", str(name))
    return any(word.lower() in ID_NAME_WORDS for word in words)


def _packed(present: pd.Series) -> bool:
    """Whether distinct integers sit so close together that a feature spread evenly over their
    range would have repeated a value: see ``ID_MIN_COINCIDENCES``."""
    n = len(present)
    if n < 2:
        return False
    span = int(present.max()) - int(present.min()) + 1  # Python ints: no overflow at int64's ends
    return n * (n - 1) / 2 / span >= ID_MIN_COINCIDENCES


def infer_kind(series: pd.Series, n_rows: int | None = None) -> ColumnKind:
    """The kind of one column, by the rules in the module docstring."""
    name = series.name
    n_rows = len(series) if n_rows is None else n_rows
    dtype = series.dtype
    non_null = series.dropna()

    def all_distinct() -> bool:
        return n_rows > ID_MIN_ROWS and non_null.is_unique

    if pd.api.types.is_bool_dtype(dtype):
        return ColumnKind.BOOLEAN
    if isinstance(dtype, pd.CategoricalDtype):
        return ColumnKind.DISCRETE
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return ColumnKind.DATETIME
    if pd.api.types.is_timedelta64_dtype(dtype):
        raise InvalidDataError(
            f"Column {name!r} holds time spans (timedelta), which synthgan does not model yet. "
            "Convert it to a number, e.g. df[col].dt.total_seconds()."
        )
    if pd.api.types.is_integer_dtype(dtype):
        # an id's dtype must number as many new ids as the table has rows beside the real ones
        ids = (
            all_distinct()
            and (named_like_id(name) or _packed(non_null))
            and has_room_for_ids(non_null, n_rows)
        )
        return ColumnKind.ID if ids else ColumnKind.INTEGER
    if pd.api.types.is_float_dtype(dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        return ColumnKind.INTEGER if _is_whole(values) else ColumnKind.CONTINUOUS
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        types = _object_value_types(series)
        if types <= {bool}:
            return ColumnKind.BOOLEAN
        if types <= {str}:
            return ColumnKind.ID if all_distinct() else ColumnKind.DISCRETE
        names = ", ".join(sorted(t.__name__ for t in types))
        if len(types) == 1:
            raise InvalidDataError(
                f"Column {name!r} holds {names} values, which synthgan cannot model. Convert "
                "them, e.g. df[col] = pandas.to_datetime(df[col]) for dates, "
                "df[col].astype('string') for categories, pandas.to_numeric(df[col]) for "
                "numbers; or mark the column 'ignored' in the schema."
            )
        raise InvalidDataError(
            f"Column {name!r} mixes value types ({names}). Convert it to one type, e.g. "
            "df[col] = df[col].astype('string') for categories or pandas.to_numeric(df[col]) "
            "for numbers."
        )
    raise InvalidDataError(
        f"Column {name!r} has dtype {dtype}, which synthgan cannot model. Convert it to numbers, "
        "strings, booleans or datetimes, or mark it 'ignored' in the schema."
    )


def infer_schema(
    df: pd.DataFrame,
    *,
    kinds: dict[str, str | ColumnKind] | None = None,
    ignore: list[str] | tuple[str, ...] = (),
) -> Schema:
    """Infer the kind of every column of ``df``.

    Parameters
    ----------
    df : DataFrame
        The table.
    kinds : dict, optional
        Column name -> kind (``"continuous"``, ``"integer"``, ``"discrete"``, ``"boolean"``,
        ``"datetime"``, ``"id"``, ``"ignored"``), overriding inference.
    ignore : list of str
        Columns to leave out of the model and of the synthetic output.

    Returns
    -------
    Schema

    Raises
    ------
    InvalidDataError
        For a table or column synthgan cannot model; the message names the column and the fix.
    """
    df = validate_frame(df)
    overrides: dict[str, str | ColumnKind] = dict(kinds or {})
    for name in ignore:
        overrides[name] = ColumnKind.IGNORED
    for name in overrides:
        if name not in df.columns:
            raise InvalidDataError(unknown_column_message(name, list(df.columns)))
    specs = []
    for name in df.columns:
        series = df[name]
        if name in overrides:
            kind = ColumnKind.parse(overrides[name], column=name)
        else:
            if series.isna().all():
                check_column_values(series, ColumnKind.CONTINUOUS)
            kind = infer_kind(series, len(df))
        check_column_values(series, kind)
        specs.append(ColumnSpec(name, kind, str(series.dtype)))
    return Schema(tuple(specs))


def resolve_schema(df: pd.DataFrame, schema: Schema | None) -> Schema:
    """The schema to use for ``df``: inferred, with a user schema's kinds taking precedence.

    A user schema may list only some columns (the others are inferred); a column it names that
    the table lacks is an error.
    """
    if schema is None:
        return infer_schema(df)
    validate_frame(df)
    given = {c.name: c.kind for c in schema.columns}
    return infer_schema(df, kinds=given)


def describe(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """One row per column: kind, nulls, distinct values, min and max (for ``synthgan inspect``)."""
    rows = []
    for spec in schema.columns:
        series = df[spec.name]
        non_null = series.dropna()
        lo = hi = ""
        if len(non_null) and spec.kind in (
            ColumnKind.CONTINUOUS,
            ColumnKind.INTEGER,
            ColumnKind.DATETIME,
            ColumnKind.ID,
        ):
            try:
                lo, hi = str(non_null.min()), str(non_null.max())
            except (TypeError, ValueError, OverflowError, NotImplementedError):
                # e.g. a tz-aware date beyond year 9999: pandas cannot localize it to print it
                pass
        rows.append(
            {
                "column": spec.name,
                "kind": spec.kind.value,
                "dtype": spec.dtype,
                "nulls": int(series.isna().sum()),
                "distinct": int(non_null.nunique()),
                "min": lo,
                "max": hi,
            }
        )
    return pd.DataFrame(rows)
