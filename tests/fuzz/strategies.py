"""Hypothesis strategies for tables of every column kind synthgan's schema knows, and worse.

A generated case is a ``TableCase``: the DataFrame and, per column, what synthgan must do with it:
``ok`` (model it: an exact round trip, samples with its dtype and bounds), ``bad`` (refuse it with
a SynthganError naming the column) or ``either`` (a column synthgan may model or refuse, e.g. a
date beyond pandas' nanosecond range; refusing must still name it). A table-level problem (no
rows, duplicate or non-string column names) must be refused naming the problem.

Values come mostly from a numpy generator seeded by hypothesis (so big tables cost hypothesis
little entropy); the edge values (text with NUL bytes, subnormals, 1e300, extremes of each
dtype) are drawn by hypothesis itself, so they shrink.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from hypothesis import strategies as st

OK, BAD, EITHER = "ok", "bad", "either"

ODD_NAMES = [
    "", " ", "a\nb", "nul\x00byte", "ünïcödé", "名前", "None", "nan", "NaN", "index",
    "__index_level_0__", "x" * 200, "1", "-1", "a.b", "a,b", '"quoted"', "tab\there", "😀", "\\",
]  # fmt: skip

TIMEZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
# moments (UTC) next to a daylight-saving change in several of the zones above
DST_CHANGES = [
    "2021-03-28 00:30", "2021-10-31 00:30", "2022-03-13 06:30", "2022-11-06 05:30",
    "2023-04-01 14:30", "2023-09-30 15:30",
]  # fmt: skip


@dataclass
class Column:
    name: object
    values: object  # anything pandas.Series accepts
    family: str
    expect: str = OK
    dtype: object = None

    def series(self) -> pd.Series:
        if isinstance(self.values, pd.Series):
            return self.values.reset_index(drop=True)
        return pd.Series(self.values, dtype=self.dtype)


@dataclass
class TableCase:
    df: pd.DataFrame
    columns: list[Column] = field(default_factory=list)
    table_problem: str = ""  # "empty", "duplicate", "non-string": refused for the whole table

    @property
    def expect(self) -> str:
        if self.table_problem:
            return BAD
        expects = {c.expect for c in self.columns}
        return BAD if BAD in expects else EITHER if EITHER in expects else OK

    @property
    def suspects(self) -> list[object]:
        """Columns a refusal may name: the bad and the 'either' ones."""
        return [c.name for c in self.columns if c.expect in (BAD, EITHER)]

    def _repr_pretty_(self, printer, cycle) -> None:  # hypothesis prints a failing case so
        printer.text(repr(self))

    def __repr__(self) -> str:
        with pd.option_context("display.max_columns", 20, "display.width", 200):
            described = ", ".join(f"{c.name!r}:{c.family}:{c.expect}" for c in self.columns[:20])
            return (
                f"TableCase({len(self.df)} rows; {described}"
                f"{'; ' + self.table_problem if self.table_problem else ''})\n{self.df.head(10)!r}"
            )


# -- building blocks -----------------------------------------------------------------------------


def _with_nulls(values: np.ndarray, rng: np.random.Generator, rate: float, null) -> np.ndarray:
    if rate <= 0 or len(values) == 0:
        return values
    out = values.astype(object) if null is None or null is pd.NA else values.copy()
    out[rng.random(len(values)) < rate] = null
    return out


def _inject(values: np.ndarray, rng: np.random.Generator, specials: list) -> np.ndarray:
    """Put each special value at a random row (when there are rows)."""
    if len(values) == 0 or not specials:
        return values
    values = values.copy()
    for value in specials:
        values[rng.integers(len(values))] = value
    return values


def _texts(max_size: int = 10) -> st.SearchStrategy[str]:
    # any unicode (empty strings, NUL bytes, emoji, combining marks) and plain words
    return st.one_of(
        st.text(max_size=max_size),
        st.sampled_from(["", "\x00", "a\x00b", " ", "é", "e\u0301", "None", "nan", "NA", "true"]),
        st.from_regex(r"[a-z]{1,6}", fullmatch=True),
    )


@st.composite
def float_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    dtype = draw(st.sampled_from(["float64", "float64", "float32"]))
    big = 1e300 if dtype == "float64" else 1e37
    small = 1e-300 if dtype == "float64" else 1e-37
    regime = draw(st.sampled_from(["unit", "huge", "tiny", "full", "wide", "spike", "whole"]))
    if regime == "unit":
        loc = draw(st.floats(-1e3, 1e3))
        scale = draw(st.floats(1e-3, 1e3))
        values = rng.normal(loc, scale, n)
    elif regime == "huge":
        values = rng.normal(0, 1, n) * big
    elif regime == "tiny":
        values = rng.normal(0, 1, n) * small
    elif regime == "full":
        values = rng.uniform(-1, 1, n) * (1.7e308 if dtype == "float64" else 3.4e38)
    elif regime == "wide":
        top = 300 if dtype == "float64" else 37
        values = np.sign(rng.normal(size=n)) * 10 ** rng.uniform(-top, top, n)
    elif regime == "spike":
        values = np.where(rng.random(n) < 0.6, 0.0, rng.exponential(1000, n))
    else:
        values = rng.integers(-50, 50, n).astype(float)
    width = 64 if dtype == "float64" else 32
    specials = draw(
        st.lists(st.floats(allow_nan=False, allow_infinity=False, width=width), max_size=3)
    )
    values = _inject(values.astype(dtype), rng, specials)
    rate = draw(st.sampled_from([0.0, 0.0, 0.2]))
    if rate:
        values[rng.random(n) < rate] = np.nan
    return Column(name, values.astype(dtype), f"float:{regime}:{dtype}", dtype=dtype)


@st.composite
def inf_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    values = rng.normal(0, 1, n)
    if n:
        values[rng.integers(n)] = draw(st.sampled_from([np.inf, -np.inf]))
    return Column(name, values, "float:inf", BAD if n else OK)


@st.composite
def int_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    dtype = draw(st.sampled_from(["int64", "int64", "int32", "int8", "uint8", "uint32", "uint64"]))
    info = np.iinfo(dtype)
    regime = draw(st.sampled_from(["small", "medium", "full", "top", "bottom"]))
    lo, hi = {
        "small": (max(info.min, -3), 5),
        "medium": (max(info.min, -(10**4)), min(info.max, 10**4)),
        "full": (info.min, info.max),
        "top": (info.max - 30, info.max),
        "bottom": (info.min, info.min + 30),
    }[regime]
    values = rng.integers(lo, hi, n, dtype=dtype, endpoint=True)
    specials = draw(st.lists(st.sampled_from([info.min, info.max, 0]), max_size=2))
    values = _inject(values, rng, [np.array(v, dtype=dtype) for v in specials])
    return Column(name, values, f"int:{regime}:{dtype}", dtype=dtype)


@st.composite
def nullable_int_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    dtype = draw(st.sampled_from(["Int64", "Int64", "Int32", "UInt8"]))
    info = np.iinfo(dtype.lower())
    hi = min(draw(st.sampled_from([3, 1000, int(info.max)])), int(info.max))
    lo = 0 if dtype.startswith("U") else -min(hi, int(info.max))
    values = rng.integers(lo, hi, n, endpoint=True).astype(object)
    values = _with_nulls(values, rng, draw(st.sampled_from([0.0, 0.3])), pd.NA)
    return Column(name, pd.array(list(values), dtype=dtype), f"nullable-int:{dtype}")


@st.composite
def bool_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    variant = draw(st.sampled_from(["bool", "boolean", "object"]))
    values = rng.random(n) < draw(st.sampled_from([0.5, 0.05, 1.0]))
    if variant == "bool":
        return Column(name, values, "bool")
    null = pd.NA if variant == "boolean" else None
    values = _with_nulls(values.astype(object), rng, draw(st.sampled_from([0.0, 0.3])), null)
    if variant == "boolean":
        return Column(name, pd.array(list(values), dtype="boolean"), "bool:boolean")
    return Column(name, values, "bool:object", dtype=object)


@st.composite
def string_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    pool = draw(st.lists(_texts(), min_size=1, max_size=8, unique=True))
    dtype = draw(st.sampled_from(["object", "str", "string", "string[pyarrow]"]))
    values = np.array(pool, dtype=object)[rng.integers(0, len(pool), n)]
    values = _with_nulls(values, rng, draw(st.sampled_from([0.0, 0.0, 0.3])), None)
    return Column(name, pd.array(list(values), dtype=dtype) if dtype != "object" else values,
                  f"string:{dtype}", dtype=object)  # fmt: skip


@st.composite
def category_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    of = draw(st.sampled_from(["str", "int", "float", "bool", "datetime"]))
    pools = {
        "str": st.lists(_texts(), min_size=1, max_size=6, unique=True),
        "int": st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=6, unique=True),
        "float": st.lists(
            st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=6, unique=True
        ),
        "bool": st.just([False, True]),
        "datetime": st.lists(
            st.datetimes(datetime.datetime(1980, 1, 1), datetime.datetime(2030, 1, 1)),
            min_size=1,
            max_size=6,
            unique=True,
        ),  # fmt: skip
    }
    pool = draw(pools[of])
    if of == "float":
        pool = list(dict.fromkeys(0.0 if v == 0 else v for v in pool))  # -0.0 == 0.0
    used = rng.integers(0, len(pool), n)
    values = [pool[i] for i in used]
    if draw(st.booleans()):
        values = [None if r < 0.2 else v for v, r in zip(values, rng.random(n))]
    ordered = draw(st.booleans())
    cat = pd.Categorical(values, categories=pool, ordered=ordered)
    # datetime categories cannot be stored in a model file's JSON: refused (categorical.py)
    expect = BAD if of == "datetime" and n else OK
    return Column(name, cat, f"category:{of}:{'ordered' if ordered else 'unordered'}", expect)


@st.composite
def datetime_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    unit = draw(st.sampled_from(["ns", "us", "ms", "s"]))
    step = draw(st.sampled_from(["D", "h", "s", "ms", "us", "ns"]))
    per = {"D": 86_400 * 10**9, "h": 3_600 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
    step_units = max(per[step] // per[unit], 1)  # the step in the column's unit
    far = unit != "ns" and draw(st.booleans()) and draw(st.booleans())
    year = int(rng.integers(2500, 9000)) if far else int(rng.integers(1900, 2200))
    base = np.datetime64(f"{year}-01-01", unit).astype(np.int64) + int(rng.integers(0, 10**6))
    k = draw(st.sampled_from([3, 1000, 10**6]))
    stamps = (base + rng.integers(0, k, n) * step_units).astype(f"datetime64[{unit}]")
    values = pd.Series(stamps, dtype=f"datetime64[{unit}]")
    if draw(st.booleans()):
        values[rng.random(n) < 0.2] = pd.NaT
    family = f"datetime:{unit}:step-{step}{':far' if far else ''}"
    return Column(name, values, family, EITHER if far else OK)


@st.composite
def tz_datetime_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    tz = draw(st.sampled_from(TIMEZONES))
    change = pd.Timestamp(draw(st.sampled_from(DST_CHANGES)), tz="UTC")
    if draw(st.booleans()):  # whole local days across the change
        start = (change - pd.Timedelta(days=3)).tz_convert(tz).normalize()
        days = pd.date_range(start, periods=8, freq="D", tz=tz)
        stamps = days[rng.integers(0, len(days), n)]
        family = f"datetime-tz:{tz}:days"
    else:
        step = draw(st.sampled_from([1800, 3600, 1]))
        seconds = rng.integers(-48, 48, n) * step
        stamps = (change + pd.to_timedelta(seconds, unit="s")).tz_convert(tz)
        family = f"datetime-tz:{tz}:{step}s"
    values = pd.Series(stamps)
    if draw(st.booleans()):
        values[rng.random(n) < 0.2] = pd.NaT
    return Column(name, values, family)


@st.composite
def date_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    days = pd.Timestamp("2000-01-01") + pd.to_timedelta(rng.integers(0, 20_000, n), unit="D")
    variant = draw(st.sampled_from(["datetime64", "date-objects"]))
    if variant == "datetime64":
        return Column(name, pd.Series(days.as_unit("s")), "date:datetime64[s]")
    return Column(name, np.array([d.date() for d in days], dtype=object), "date:objects",
                  EITHER, dtype=object)  # fmt: skip


@st.composite
def id_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    variant = draw(st.sampled_from(["int", "int-top", "code", "unicode"]))
    if variant == "int":
        values = rng.permutation(n).astype(np.int64) + int(rng.integers(0, 10**6))
    elif variant == "int-top":
        values = np.iinfo(np.int64).max - rng.permutation(n).astype(np.int64)
    elif variant == "code":
        values = np.array([f"AB-{i:05d}" for i in rng.permutation(n)], dtype=object)
    else:
        prefix = draw(st.text(min_size=1, max_size=3))
        values = np.array([f"{prefix}{i}é" for i in rng.permutation(n)], dtype=object)
    return Column(name, values, f"id:{variant}", dtype=None if "int" in variant else object)


@st.composite
def constant_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    value = draw(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(-(2**31), 2**31),
            _texts(),
            st.booleans(),
            st.just(pd.Timestamp("2020-02-29 12:00")),
        )
    )
    if isinstance(value, str):
        return Column(name, np.array([value] * n, dtype=object), "constant:str", dtype=object)
    return Column(name, pd.Series([value] * n), f"constant:{type(value).__name__}")


@st.composite
def all_null_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    dtype = draw(st.sampled_from(["float64", "object", "Int64", "string", "datetime64[ns]",
                                  "category", "boolean"]))  # fmt: skip
    values = pd.Series([None] * n, dtype=dtype)
    return Column(name, values, f"all-null:{dtype}", BAD if n else OK)


@st.composite
def mixed_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    pool = [1, "a", 2.5, True, b"x", pd.Timestamp("2020-01-01"), None, 3, "b"]
    values = np.array([pool[i] for i in rng.integers(0, len(pool), n)], dtype=object)
    if n >= 2:
        first = draw(st.sampled_from([1, 2.5, True, b"x"]))
        values[0], values[1] = first, "text"
    kinds = {type(v) for v in values if v is not None}
    return Column(name, values, "mixed-object", BAD if len(kinds) > 1 else EITHER, dtype=object)


@st.composite
def bytes_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    pool = draw(st.lists(st.binary(max_size=6), min_size=1, max_size=4))
    values = np.array([pool[i] for i in rng.integers(0, len(pool), n)], dtype=object)
    return Column(name, values, "bytes", BAD if n else OK, dtype=object)


@st.composite
def timedelta_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    unit = draw(st.sampled_from(["s", "ms"]))
    values = pd.Series(pd.to_timedelta(rng.integers(0, 10**6, n), unit=unit))
    return Column(name, values, "timedelta", BAD if n else OK)


@st.composite
def high_cardinality_column(draw, n: int, rng: np.random.Generator, name) -> Column:
    distinct = max(1, n // draw(st.sampled_from([2, 3])))
    prefix = draw(_texts(max_size=3))
    pool = np.array([f"{prefix}{i}" for i in range(distinct)], dtype=object)
    values = pool[rng.integers(0, distinct, n)]
    return Column(name, values, f"high-cardinality:{distinct}", dtype=object)


MODELLABLE = {
    "float": float_column,
    "int": int_column,
    "nullable-int": nullable_int_column,
    "bool": bool_column,
    "string": string_column,
    "category": category_column,
    "datetime": datetime_column,
    "datetime-tz": tz_datetime_column,
    "date": date_column,
    "id": id_column,
    "constant": constant_column,
}
REFUSED = {
    "inf": inf_column,
    "all-null": all_null_column,
    "mixed": mixed_column,
    "bytes": bytes_column,
    "timedelta": timedelta_column,
}
FAMILIES = {**MODELLABLE, **REFUSED}


# -- tables ------------------------------------------------------------------------------------


def _names(draw, k: int, *, odd: bool) -> list[str]:
    plain = [f"c{i}" for i in range(k)]
    if not odd:
        return plain
    names = draw(
        st.lists(
            st.one_of(st.sampled_from(ODD_NAMES), st.text(max_size=12)),
            min_size=k,
            max_size=k,
            unique=True,
        )  # fmt: skip
    )
    return names


@st.composite
def tables(
    draw,
    *,
    families: tuple[str, ...] = tuple(FAMILIES),
    max_columns: int = 6,
    shapes: tuple[str, ...] = ("tiny", "small", "ids", "wide", "high-cardinality"),
    table_problems: bool = True,
    odd_names: bool = True,
) -> TableCase:
    shape = draw(st.sampled_from(shapes))
    if shape == "tiny":
        n = draw(st.sampled_from([0, 1, 2, 3]))
    elif shape == "small":
        n = draw(st.integers(4, 40))
    elif shape == "ids":
        n = draw(st.integers(51, 90))
    elif shape == "medium":  # enough rows for share's holdout
        n = draw(st.integers(100, 160))
    elif shape == "wide":
        n = draw(st.integers(1, 12))
    else:
        n = draw(st.integers(600, 2000))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if shape == "wide":
        k = draw(st.integers(100, 250))
        chosen = [f for f in ("float", "int", "bool", "string", "constant") if f in families]
        kinds = [chosen[i] for i in rng.integers(0, len(chosen), k)] if chosen else []
        names = [f"w{i}" for i in range(k)]
    elif shape == "high-cardinality":
        extra = draw(st.lists(st.sampled_from(families), max_size=2))
        kinds = ["high-cardinality", *extra]
        names = _names(draw, len(kinds), odd=odd_names and draw(st.booleans()))
    else:
        good = [f for f in families if f in MODELLABLE] or list(families)
        kinds = draw(st.lists(st.sampled_from(good), min_size=1, max_size=max_columns))
        refused = [f for f in families if f in REFUSED]
        if refused and rng.random() < 0.25:  # a quarter of the tables hold a refused column
            kinds[int(rng.integers(len(kinds)))] = draw(st.sampled_from(refused))
        names = _names(draw, len(kinds), odd=odd_names and draw(st.booleans()))
    builders = {**FAMILIES, "high-cardinality": high_cardinality_column}
    columns = []
    for name, kind in zip(names, kinds):
        if kind in ("id",) and n <= 50:
            kind = "int"
        column = draw(builders[kind](n, rng, name))
        if n and column.expect == OK and column.series().isna().all():
            column.expect = BAD  # nulls drawn into every row: refused like an all-null column
        columns.append(column)
    problem = ""
    if table_problems and rng.random() < 0.08 and columns:
        problem = draw(st.sampled_from(["duplicate", "non-string"]))
        if problem == "duplicate":
            columns.append(Column(columns[0].name, columns[0].values, "duplicate-name",
                                  dtype=columns[0].dtype))  # fmt: skip
        else:
            columns[-1].name = draw(st.sampled_from([0, 1.5, None, ("a", "b")]))
    if n == 0 or not columns:
        problem = problem or "empty"
    data = {i: c.series() for i, c in enumerate(columns)}
    df = pd.DataFrame(data, index=pd.RangeIndex(n)) if data else pd.DataFrame(index=range(n))
    df.columns = pd.Index([c.name for c in columns], dtype=object)
    return TableCase(df, columns, problem)
