"""Id-like columns: never modelled, never copied; regenerated as new unique values of the same shape.

* Integer ids: consecutive values starting above the largest real id, so none equals a real one.
* String ids: the most common *shape* of the real values (each character a digit, an upper-case
  letter, a lower-case letter or itself), filled with random characters, unique within the output.
  Only the shape is stored, never a value. A new id collides with a real one with probability at
  most (real ids) / (ids of that shape), which the shape's capacity keeps negligible; where the
  shape holds fewer than 1,000 times the ids asked for, digits are appended.
"""

from __future__ import annotations

import string
from collections import Counter

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError
from synthgan.schema import ColumnKind, id_room_at_ends, widest_id_gap
from synthgan.transform.categorical import restorable_dtype

_CLASSES = {"9": string.digits, "A": string.ascii_uppercase, "a": string.ascii_lowercase}


def _shape(value: str) -> str:
    out = []
    for ch in value:
        if ch.isdigit():
            out.append("9")
        elif ch.isupper() and ch in string.ascii_uppercase:
            out.append("A")
        elif ch.islower() and ch in string.ascii_lowercase:
            out.append("a")
        else:
            out.append("\\" + ch)
    return "".join(out)


def _parse_shape(shape: str) -> list[str]:
    """Shape string -> list of tokens: '9', 'A', 'a' or a literal character ('\\x')."""
    tokens, i = [], 0
    while i < len(shape):
        if shape[i] == "\\":
            tokens.append(shape[i : i + 2])
            i += 2
        else:
            tokens.append(shape[i])
            i += 1
    return tokens


class IdColumnTransformer:
    """Produces fresh ids for an id-like column; contributes nothing to the model's input."""

    def __init__(self, *, kind: ColumnKind = ColumnKind.ID) -> None:
        self.kind = kind

    def fit(self, series: pd.Series, rng: np.random.Generator | None = None) -> IdColumnTransformer:
        self.column_ = str(series.name)
        self.dtype_ = str(series.dtype)
        present = series.dropna()
        self.null_share_ = float(series.isna().mean())
        self.is_integer_ = bool(pd.api.types.is_integer_dtype(series.dtype))
        if self.is_integer_:
            self.next_id_ = int(present.max()) + 1
            self.first_id_ = int(present.min())
            self.gap_ = widest_id_gap(present)
            self.shape_ = None
        else:
            sample = present.astype(str)
            if len(sample) > 10_000:
                sample = sample.sample(10_000, random_state=0)
            self.shape_ = Counter(map(_shape, sample)).most_common(1)[0][0]
            self.next_id_ = None
        return self

    def span_plan(self) -> list:
        return []

    @property
    def output_width(self) -> int:
        return 0

    def generate(
        self, n: int, index: pd.Index, rng: np.random.Generator, *, row_offset: int = 0
    ) -> pd.Series:
        """``n`` new ids; ``row_offset`` numbers integer ids on from earlier chunks of one output."""
        if self.is_integer_:
            values = pd.Series(self._integer_ids(n, row_offset), index=index)
        else:
            values = pd.Series(self._random_strings(n, rng), index=index)
        if self.null_share_ > 0:
            values = values.astype(object if not self.is_integer_ else "Int64")
            values[rng.random(n) < self.null_share_] = None
        try:
            values = values.astype(restorable_dtype(self.dtype_))
        except (TypeError, ValueError):
            pass
        values.name = self.column_
        return values

    def _room(self) -> tuple[np.dtype, int | None, int, int, tuple[int, int]]:
        """(numpy dtype, the smallest real id (None in model files from before it), room above
        the largest real id, room below the smallest, the widest gap between as (start, size))
        of an integer id column."""
        dtype = pd.api.types.pandas_dtype(self.dtype_)
        numpy_dtype = np.dtype(getattr(dtype, "numpy_dtype", dtype))  # Int64 -> int64
        first_id = getattr(self, "first_id_", None)
        room_above, room_below = id_room_at_ends(numpy_dtype, first_id, self.next_id_ - 1)
        return numpy_dtype, first_id, room_above, room_below, getattr(self, "gap_", None) or (0, 0)

    def check_room(self, n: int) -> None:
        """Refuse a sample of ``n`` rows when the column's dtype has no room for ``n`` new ids
        (a UInt8 column of 200 real ids has room for 56)."""
        if not self.is_integer_:
            return
        _, _, room_above, room_below, (_, gap_size) = self._room()
        if n > room_above + room_below + gap_size:
            raise InvalidDataError(
                f"Column {self.column_!r}: its dtype {self.dtype_} has no room for {n} new ids "
                "beside the real ones. Sample fewer rows, or store the ids in a wider dtype (e.g. "
                "int64, or strings)."
            )

    def _integer_ids(self, n: int, row_offset: int) -> np.ndarray:
        """Ids number ``row_offset``.. of an output: above the largest real id while the dtype
        has room there (ids at the top of int64 have none), then down from below the smallest,
        then in the widest gap between. Rows past the room repeat its last id: they are drawn
        only past a sample's end (a block of 4,096 rows decoded for a sample of 23), since every
        sample checks its size first (:meth:`check_room`)."""
        numpy_dtype, first_id, room_above, room_below, (gap_start, gap_size) = self._room()
        room = room_above + room_below + gap_size
        first = self.next_id_ + row_offset
        if row_offset + n <= room_above and first + n - 1 <= np.iinfo(np.int64).max:
            return np.arange(first, first + n, dtype=np.int64)  # the usual case
        # the rare case (ids at the ends of their dtype): above, then below, then in the gap
        ids = [
            self.next_id_ + k
            if k < room_above
            else first_id - 1 - (k - room_above)  # room below: first_id is known
            if k < room_above + room_below
            else gap_start + (k - room_above - room_below)
            for k in (min(k, room - 1) for k in range(row_offset, row_offset + n))
        ] if room else [self.next_id_ - 1] * n  # fmt: skip
        return np.array(ids, dtype=numpy_dtype)

    def _random_strings(self, n: int, rng: np.random.Generator) -> np.ndarray:
        tokens = _parse_shape(self.shape_)
        capacity = 1.0
        for tok in tokens:
            capacity *= len(_CLASSES.get(tok, "x"))
        while capacity < 1000.0 * max(n, 1):
            tokens.append("9")
            capacity *= 10
        out = np.empty(n, dtype=object)
        todo = np.arange(n)
        seen = pd.Index([], dtype=object)
        while todo.size:
            codes = np.empty((todo.size, len(tokens)), dtype=np.uint8)  # (rows, characters)
            for position, tok in enumerate(tokens):
                alphabet = _CLASSES.get(tok)
                if alphabet is None:
                    codes[:, position] = ord(tok[-1]) if ord(tok[-1]) < 128 else ord("_")
                else:
                    table = np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)
                    codes[:, position] = table[rng.integers(0, len(alphabet), todo.size)]
            candidates = pd.Series(codes.view(f"S{len(tokens)}").ravel()).str.decode("ascii")
            fresh = ~candidates.duplicated().to_numpy() & ~candidates.isin(seen).to_numpy()
            out[todo[fresh]] = candidates[fresh].to_numpy()
            seen = seen.append(pd.Index(candidates[fresh].to_numpy()))
            todo = todo[~fresh]
        return out

    def get_state(self) -> dict:
        return {
            "column": self.column_,
            "kind": self.kind.value,
            "dtype": self.dtype_,
            "null_share": self.null_share_,
            "is_integer": self.is_integer_,
            "next_id": self.next_id_,
            "shape": self.shape_,
            "first_id": getattr(self, "first_id_", None),
            "gap": getattr(self, "gap_", None),
        }

    @classmethod
    def from_state(cls, state: dict) -> IdColumnTransformer:
        obj = cls()
        obj.column_, obj.dtype_ = state["column"], state["dtype"]
        obj.null_share_, obj.is_integer_ = state["null_share"], state["is_integer"]
        obj.next_id_, obj.shape_ = state["next_id"], state["shape"]
        obj.first_id_ = state.get("first_id")  # files before it only count upwards
        obj.gap_ = state.get("gap")
        return obj
