"""One-hot encoding of discrete and boolean columns, null as a category of its own.

Categories are sorted (booleans: False, True; ``category`` dtype: the dtype's order), with null,
when the fitted column had any, as the last slot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError
from synthgan.schema import ColumnKind
from synthgan.transform.layout import Activation, SpanRole
from synthgan.transform.numeric import _SpanPlan


def _plain(value):
    """A numpy scalar as the Python value JSON can hold."""
    return value.item() if isinstance(value, np.generic) else value


class CategoricalColumnTransformer:
    """One-hot encoder of one discrete or boolean column."""

    def __init__(self, *, kind: ColumnKind) -> None:
        self.kind = kind

    def fit(
        self, series: pd.Series, rng: np.random.Generator | None = None
    ) -> CategoricalColumnTransformer:
        self.column_ = str(series.name)
        self.dtype_ = str(series.dtype)
        present = series.dropna()
        self.dtype_ordered_ = bool(getattr(series.dtype, "ordered", False))
        if isinstance(series.dtype, pd.CategoricalDtype):
            self.dtype_categories_ = [_plain(c) for c in series.dtype.categories]
            seen = set(present.unique())
            categories = [c for c in series.dtype.categories if c in seen]
        else:
            self.dtype_categories_ = None
            categories = (
                list(dict.fromkeys(present.tolist())) if _has_nul(present)
                else present.unique().tolist()
            )  # fmt: skip
            try:
                categories = sorted(categories)
            except TypeError:
                raise InvalidDataError(
                    f"Column {self.column_!r} mixes value types that cannot be ordered. Convert it "
                    "to one type, e.g. df[col] = df[col].astype('string')."
                ) from None
        self.categories_ = [_plain(c) for c in categories]
        stored = self.categories_ + (self.dtype_categories_ or [])
        odd = [c for c in stored if not isinstance(c, (str, int, float, bool))]
        if odd:  # the model file keeps categories as JSON: strings, numbers and booleans only
            raise InvalidDataError(
                f"Column {self.column_!r} has categories of type {type(odd[0]).__name__} "
                f"(e.g. {odd[0]!r}), which synthgan cannot store. Convert them, e.g. "
                "df[col] = df[col].astype(str), or use a datetime column for dates."
            )
        self.has_nulls_ = bool(series.isna().any())
        self._decoded = None
        return self

    @property
    def n_categories(self) -> int:
        return len(self.categories_) + int(self.has_nulls_)

    def span_plan(self) -> list[_SpanPlan]:
        return [_SpanPlan(SpanRole.CATEGORY, self.n_categories, Activation.SOFTMAX)]

    @property
    def output_width(self) -> int:
        return self.n_categories

    def category_index(self, value) -> int:
        """Slot of one category value (None/NaN for the null slot); KeyError if unknown."""
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            if not self.has_nulls_:
                raise KeyError(value)
            return len(self.categories_)
        for i, category in enumerate(self.categories_):
            if category == value or str(category) == str(value):
                return i
        raise KeyError(value)

    def codes(self, series: pd.Series) -> np.ndarray:
        """The slot of each value; a clear error for a category not seen at fit time."""
        values = series
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if _has_nul(values):  # see _has_nul: pandas' own lookup would merge such strings
            lookup = {c: i for i, c in enumerate(self.categories_)}
            keys = values.astype(object).tolist()
            codes = np.array([-1 if k is None else lookup.get(k, -1) for k in keys], dtype=np.intp)
        else:
            codes = pd.Index(self.categories_, dtype=object).get_indexer(values.astype(object))
        null = series.isna().to_numpy()
        unseen = (codes < 0) & ~null
        if unseen.any():
            examples = pd.unique(series[unseen].astype(str))[:5].tolist()
            raise InvalidDataError(
                f"Column {self.column_!r} has categories not seen at fit time: {examples}. "
                "Refit on data that includes them, or map them to known categories."
            )
        if null.any():
            if not self.has_nulls_:
                raise InvalidDataError(
                    f"Column {self.column_!r} has nulls, but had none when the transformer was "
                    "fitted. Refit on data that includes them."
                )
            codes[null] = len(self.categories_)
        return codes

    def transform(self, series: pd.Series, rng: np.random.Generator | None = None) -> np.ndarray:
        codes = self.codes(series)
        onehot = np.zeros((len(codes), self.n_categories), dtype=np.float32)
        onehot[np.arange(len(codes)), codes] = 1.0
        return onehot

    def inverse_transform(self, block: np.ndarray, index: pd.Index) -> pd.Series:
        """The column back from its one-hot block of shape (n, n_categories)."""
        return self.decode(block.argmax(axis=1), index)

    def decode(self, codes: np.ndarray, index: pd.Index) -> pd.Series:
        """The column from each row's category index (n,)."""
        decoded = self._decoded_categories()
        if isinstance(decoded, np.ndarray):
            # dtype=object: pandas 3 would otherwise infer its "str" dtype from the strings
            return pd.Series(decoded[codes], index=index, name=self.column_, dtype=object)
        return pd.Series(decoded.take(codes), index=index, name=self.column_)

    def _decoded_categories(self):
        """The categories (and null) in the column's own dtype, made once: decoding a block is
        then one ``take``, not a conversion of Python objects per row (string arrays)."""
        if getattr(self, "_decoded", None) is None:
            lookup = np.empty(self.n_categories, dtype=object)
            lookup[: len(self.categories_)] = self.categories_
            if self.has_nulls_:
                lookup[-1] = None
            self._decoded = self._restore(lookup)
        return self._decoded

    def _restore(self, values: np.ndarray):
        dtype = restorable_dtype(self.dtype_)
        if dtype == "category":
            return pd.Categorical(
                values, categories=self.dtype_categories_, ordered=self.dtype_ordered_
            )
        if dtype == "object":
            return values
        try:
            return pd.array(values, dtype=dtype)
        except (TypeError, ValueError):
            # e.g. int64 or bool asked to hold nulls: keep what the values are
            return pd.array(values)

    def get_state(self) -> dict:
        return {
            "column": self.column_,
            "kind": self.kind.value,
            "dtype": self.dtype_,
            "categories": self.categories_,
            "dtype_categories": self.dtype_categories_,
            "dtype_ordered": self.dtype_ordered_,
            "has_nulls": self.has_nulls_,
        }

    @classmethod
    def from_state(cls, state: dict) -> CategoricalColumnTransformer:
        obj = cls(kind=ColumnKind(state["kind"]))
        obj.column_, obj.dtype_ = state["column"], state["dtype"]
        obj.categories_ = list(state["categories"])
        obj.dtype_categories_ = state["dtype_categories"]
        obj.dtype_ordered_ = bool(state.get("dtype_ordered", False))  # format 1 files lack it
        obj.has_nulls_ = bool(state["has_nulls"])
        return obj


def _has_nul(values: pd.Series) -> bool:
    """True for a column of strings holding NUL characters where pandas' hash tables compare
    strings as C strings, so that "a" and "a\x00" are one value to ``unique`` (pandas 2, and
    object columns on pandas 3.0). Such columns take a slower, exact path through Python's
    dict."""
    if PANDAS_HASHES_WHOLE_STRINGS or not (
        pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype)
    ):
        return False
    return bool(values.map(lambda v: isinstance(v, str) and "\x00" in v).any())


def _hashes_whole_strings() -> bool:
    """Whether ``unique`` tells "a" from "a\x00" in object and string columns: asked of pandas
    itself, since the fix came in pieces (3.0 for its string dtype, 3.1 for object columns)."""
    return all(
        len(pd.Series(["a", "a\x00"], dtype=dtype).unique()) == 2 for dtype in (object, "string")
    )


PANDAS_HASHES_WHOLE_STRINGS = _hashes_whole_strings()
PANDAS_MAJOR = int(pd.__version__.split(".")[0])


def restorable_dtype(dtype: str) -> str:
    """The dtype to give decoded values of a column that had ``dtype`` at fit time. pandas 3's
    string dtype is written "str"; pandas 2 reads "str" as numpy's unicode type, which turns a
    null into the string "None", so a model fitted under pandas 3 decodes strings as objects
    there."""
    return "object" if dtype == "str" and PANDAS_MAJOR < 3 else dtype
