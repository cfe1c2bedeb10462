"""TableTransformer: a DataFrame to a float32 array and back, with one Layout describing it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError, not_fitted
from synthgan.schema import (
    ColumnKind,
    Schema,
    resolve_schema,
    unknown_column_message,
    validate_frame,
)
from synthgan.transform.categorical import CategoricalColumnTransformer
from synthgan.transform.composition import Composition, find_compositions
from synthgan.transform.derived import (
    DerivedColumnTransformer,
    derivation_from_dict,
    find_derivations,
)
from synthgan.transform.identifier import IdColumnTransformer
from synthgan.transform.layout import Layout, Span
from synthgan.transform.numeric import NumericColumnTransformer

ColumnTransformer = (
    NumericColumnTransformer | CategoricalColumnTransformer | IdColumnTransformer
    | DerivedColumnTransformer
)  # fmt: skip

STATE_VERSION = 1
TRANSFORM_CHUNK_ROWS = 32_768


class TableTransformer:
    """Reversible encoding of a mixed-type table for a GAN.

    Numeric columns (continuous, integer, datetime) get mode-specific normalisation (a scalar
    plus a component one-hot, see :mod:`synthgan.transform.numeric`); discrete and boolean columns
    a one-hot; id-like columns are regenerated, never encoded; ignored columns are dropped.

    Parameters
    ----------
    schema : Schema, optional
        Column kinds; inferred from the data where not given (a partial schema overrides only the
        columns it names).
    max_modes : int, default=10
        Most Gaussian modes per numeric column.
    weight_threshold : float, default=0.005
        Modes whose weight falls below this are dropped.
    max_point_masses : int, default=20
        Most exact values per numeric column kept as their own components.
    max_fit_rows : int, default=50_000
        Rows of each numeric column (after point masses) the mixture is fitted on.
    clip : bool, default=True
        Clip inverse-transformed numbers to the range seen at fit time.
    quantile_knots : int, optional
        Map each numeric column through its own empirical quantiles (this many knots) to a
        standard normal before the mixture, so the marginal comes back by construction
        (:mod:`synthgan.transform.quantile`). None: the mixture sees the raw values.
    random_state : int, optional
        Seeds the subsampling, the mode draws and id generation.

    Examples
    --------
    >>> from synthgan import TableTransformer
    >>> from synthgan.datasets import load_adult
    >>> train, _ = load_adult()
    >>> tt = TableTransformer(random_state=0).fit(train)
    >>> data = tt.transform(train)          # float32, shape (32561, tt.layout_.dim)
    >>> back = tt.inverse_transform(data)   # the same table
    """

    def __init__(
        self,
        *,
        schema: Schema | None = None,
        max_modes: int = 10,
        weight_threshold: float = 0.005,
        max_point_masses: int = 20,
        max_fit_rows: int = 50_000,
        clip: bool = True,
        quantile_knots: int | None = None,
        quantile_bins: int | None = None,
        derive_columns: bool = False,
        always_model: tuple[str, ...] = (),
        random_state: int | None = None,
    ) -> None:
        self.schema = schema
        self.max_modes = max_modes
        self.weight_threshold = weight_threshold
        self.max_point_masses = max_point_masses
        self.max_fit_rows = max_fit_rows
        self.clip = clip
        self.quantile_knots = quantile_knots
        self.quantile_bins = quantile_bins
        self.derive_columns = derive_columns
        self.always_model = tuple(always_model)
        self.random_state = random_state

    def _check_params(self) -> None:
        checks = {
            "max_modes": self.max_modes >= 1,
            "max_point_masses": self.max_point_masses >= 0,
            "max_fit_rows": self.max_fit_rows >= 100,
            "weight_threshold": 0 <= self.weight_threshold < 1,
            "quantile_knots": self.quantile_knots is None
            or (isinstance(self.quantile_knots, int) and self.quantile_knots >= 2),
        }
        for name, ok in checks.items():
            if not ok:
                raise InvalidDataError(
                    f"TableTransformer parameter {name}={getattr(self, name)!r} is out of range "
                    "(max_modes >= 1, max_point_masses >= 0, max_fit_rows >= 100, "
                    "0 <= weight_threshold < 1, quantile_knots None or >= 2)."
                )

    def _make_column_transformer(self, kind: ColumnKind) -> ColumnTransformer:
        if kind.is_numeric:
            return NumericColumnTransformer(
                kind=kind,
                max_modes=self.max_modes,
                weight_threshold=self.weight_threshold,
                max_point_masses=self.max_point_masses,
                max_fit_rows=self.max_fit_rows,
                clip=self.clip,
                quantile_knots=self.quantile_knots,
                quantile_bins=self.quantile_bins,
            )
        if kind.is_categorical:
            return CategoricalColumnTransformer(kind=kind)
        return IdColumnTransformer(kind=kind)

    # -- fit ------------------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame, *, progress=None) -> TableTransformer:
        """Learn every column's encoding. ``progress`` is called once per column (for tqdm)."""
        self._check_params()
        df = validate_frame(df)
        self.schema_ = resolve_schema(df, self.schema)
        self._rng = np.random.default_rng(self.random_state)
        self.transformers_: dict[str, ColumnTransformer] = {}
        derived = {}
        self.compositions_: list[Composition] = []
        if self.derive_columns:
            found = find_derivations(df, self.schema_, keep=self.always_model)
            derived = {relation.target: relation for relation in found}
            self.compositions_ = find_compositions(
                df, self.schema_, exclude=set(derived), random_state=self.random_state
            )
        for spec in self.schema_.output:
            transformer = self._make_column_transformer(spec.kind).fit(df[spec.name], self._rng)
            if spec.name in derived:
                transformer = DerivedColumnTransformer(derived[spec.name], transformer)
            self.transformers_[spec.name] = transformer
            if progress is not None:
                progress(spec.name)
        self.layout_ = self._build_layout()
        self.columns_ = list(df.columns)
        return self

    def fit_stats(self, stats, *, derivations: list | None = None, progress=None) -> TableTransformer:
        """Learn every column's encoding from a streamed table's statistics
        (:class:`synthgan.transform.stats.TableStats`) instead of the table itself.

        Categories and numeric columns with exact value counts are fitted on those counts, which
        gives the encoding :meth:`fit` gives on the whole table; a numeric column whose distinct
        values overflowed the counts is fitted on the row sample (with its exact minimum and
        maximum), id-like columns on the sample. ``derivations``: the exact relations to use
        (found and checked by the caller); none when None.
        """
        self._check_params()
        sample = validate_frame(stats.sample)
        self.schema_ = stats.schema(self.schema)
        self._rng = np.random.default_rng(self.random_state)
        self.transformers_ = {}
        self.compositions_ = []  # a streamed table's statistics hold no covariance
        derived = {relation.target: relation for relation in derivations or []}
        for spec in self.schema_.output:
            column = stats.columns[spec.name]
            transformer = self._make_column_transformer(spec.kind)
            if spec.kind.is_numeric and column.exact:
                values, counts = column.value_table()
                transformer.fit(values, self._rng, counts=counts, has_nulls=column.nulls > 0)
            elif spec.kind.is_numeric:
                present = sample[spec.name].dropna()
                bounds = pd.Series([column.minimum, column.maximum], dtype=present.dtype)
                values = pd.concat([present, bounds], ignore_index=True).rename(spec.name)
                transformer.fit(
                    values, self._rng, counts=np.ones(len(values)), has_nulls=column.nulls > 0
                )
            elif spec.kind.is_categorical:
                if not column.exact:
                    raise InvalidDataError(
                        f"Column {spec.name!r} has more than {column.max_distinct:,} distinct "
                        "values, too many to model as categories. Declare it 'id' or 'ignored' "
                        "in the schema, or pool its rare values."
                    )
                values, _ = column.value_table()
                if column.nulls:
                    values = pd.concat(
                        [values, pd.Series([None], dtype=values.dtype, name=spec.name)],
                        ignore_index=True,
                    )
                transformer.fit(values, self._rng)
            else:
                transformer.fit(sample[spec.name], self._rng)
            if spec.name in derived:
                transformer = DerivedColumnTransformer(derived[spec.name], transformer)
            self.transformers_[spec.name] = transformer
            if progress is not None:
                progress(spec.name)
        self.layout_ = self._build_layout()
        self.columns_ = list(sample.columns)
        return self

    def _build_layout(self) -> Layout:
        spans, start = [], 0
        for name, transformer in self.transformers_.items():
            for plan in transformer.span_plan():
                spans.append(
                    Span(name, transformer.kind, plan.role, start, plan.width, plan.activation)
                )
                start += plan.width
        return Layout(tuple(spans))

    def _check_fitted(self) -> None:
        if not hasattr(self, "layout_"):
            raise not_fitted(self)

    @property
    def output_columns(self) -> list[str]:
        """The columns ``inverse_transform`` returns, in input order (ignored ones left out)."""
        self._check_fitted()
        return list(self.transformers_)

    @property
    def modelled_columns(self) -> list[str]:
        self._check_fitted()
        return [n for n, t in self.transformers_.items() if t.output_width > 0]

    # -- transform ------------------------------------------------------------------------------
    def transform(self, df: pd.DataFrame, *, rng: np.random.Generator | None = None) -> np.ndarray:
        """Encode ``df``: ndarray of shape (n_rows, layout_.dim), float32.

        ``rng`` draws the modes (and tied quantiles) of numeric values; the transformer's own
        generator when None.
        """
        self._check_fitted()
        rng = self._rng if rng is None else rng
        df = validate_frame(df)
        missing = [n for n in self.modelled_columns if n not in df.columns]
        if missing:
            raise InvalidDataError(
                f"Columns missing from the table: {missing}. "
                + unknown_column_message(missing[0], list(df.columns))
            )
        out = np.empty((len(df), self.layout_.dim), dtype=np.float32)  # (n_rows, dim)
        columns = {name: df[name] for name in self.modelled_columns}
        # Row chunks keep each chunk's output and temporaries cache-sized: one pass over a
        # million-row table column by column touched every page of the output once per column.
        for first in range(0, len(df), TRANSFORM_CHUNK_ROWS):
            rows = slice(first, first + TRANSFORM_CHUNK_ROWS)
            start = 0
            for name, series in columns.items():
                block = self.transformers_[name].transform(series.iloc[rows], rng)
                out[rows, start : start + block.shape[1]] = block
                start += block.shape[1]
        return out

    def check_id_room(self, n: int) -> None:
        """Refuse a sample of ``n`` rows that an integer id column's dtype has no room for."""
        for transformer in self.transformers_.values():
            if isinstance(transformer, IdColumnTransformer):
                transformer.check_room(n)

    def renumber_ids(
        self, rows: pd.DataFrame, rng: np.random.Generator, row_offset: int
    ) -> pd.DataFrame:
        """``rows`` with their id columns generated afresh, numbered from ``row_offset``: after
        some decoded rows were dropped, the kept ones get consecutive, unique ids again."""
        for name, transformer in self.transformers_.items():
            if isinstance(transformer, IdColumnTransformer) and name in rows.columns:
                rows[name] = transformer.generate(len(rows), rows.index, rng, row_offset=row_offset)
        return rows

    def reach_bounds(self, rows: pd.DataFrame) -> pd.DataFrame:
        """``rows`` with each numeric column's smallest value moved onto the fitted minimum and
        its largest onto the fitted maximum (one row each, nulls untouched), and the derived
        columns computed again from their sources. Sampled values already lie within the bounds,
        so a sample holding these rows spans the training range exactly, as the training table
        does (docs/transform.md, "Bounds")."""
        self._check_fitted()
        rows = rows.copy()
        two = pd.RangeIndex(2)
        wholes = {name: whole for whole in self.compositions_ for name in whole.columns}
        for name, transformer in self.transformers_.items():
            if not isinstance(transformer, NumericColumnTransformer) or not transformer.clip:
                continue
            column = rows[name].reset_index(drop=True)
            if column.notna().sum() < 2 or transformer.dtype_ in ("bool", "boolean"):
                continue
            high = transformer.max_
            if transformer.int_max_ is not None or transformer.max_tick_ is not None:
                # the float maximum may be rounded below the largest integer or tick; the exact
                # clip brings one step above it back onto that value
                high = np.nextafter(high, np.inf)
            bounds = transformer._from_float(np.array([transformer.min_, high]), two, clip=True)
            if name in wholes:
                lowest, highest = _movable_within(rows, wholes[name], name, bounds)
            else:
                lowest, highest = column.idxmin(), column.idxmax()
            if lowest == highest:  # one distinct value among the rows (or none may move)
                continue
            for position, bound in ((lowest, bounds.iloc[0]), (highest, bounds.iloc[1])):
                if position is not None:
                    column.iloc[position] = bound
            rows[name] = column.set_axis(rows.index)
        for transformer in self.transformers_.values():  # sources are never derived: one pass
            if isinstance(transformer, DerivedColumnTransformer):
                rows[transformer.column_] = transformer.decode_from(rows)
        return rows

    def fit_transform(self, df: pd.DataFrame) -> np.ndarray:
        return self.fit(df).transform(df)

    # -- inverse --------------------------------------------------------------------------------
    def inverse_transform(
        self,
        data: np.ndarray,
        *,
        random_state: int | np.random.Generator | None = None,
        row_offset: int = 0,
    ) -> pd.DataFrame:
        """Decode an array of shape (n, layout_.dim) into a table with the input's columns and dtypes.

        Each softmax span's argmax is its component or category. ``random_state`` seeds the
        regenerated id columns (the transformer's own generator if None); ``row_offset`` is the
        number of rows already produced when decoding one output in chunks.
        """
        self._check_fitted()
        data = np.asarray(data)
        if data.ndim != 2 or data.shape[1] != self.layout_.dim:
            raise InvalidDataError(
                f"inverse_transform expects an array of shape (n, {self.layout_.dim}); "
                f"got {data.shape}."
            )
        self.check_id_room(row_offset + len(data))
        layout = self.layout_
        scalars = data[:, [s.start for s in layout.tanh_spans]].T
        codes = np.empty((len(layout.softmax_spans), len(data)), dtype=np.int64)
        for i, span in enumerate(layout.softmax_spans):
            codes[i] = data[:, span.start : span.stop].argmax(axis=1)
        return self.decode(scalars, codes, random_state=random_state, row_offset=row_offset)

    def decode(
        self,
        scalars: np.ndarray,
        codes: np.ndarray,
        *,
        random_state: int | np.random.Generator | None = None,
        row_offset: int = 0,
        segments: list[tuple[int, np.random.Generator]] | None = None,
    ) -> pd.DataFrame:
        """The table from drawn rows in the layout's terms, one array row per span:
        ``scalars`` (n_tanh_spans, n), each mode scalar; ``codes`` (n_softmax_spans, n), the
        index drawn in each softmax span (a numeric column's component, a category).

        This is what sampling produces directly; ``inverse_transform`` reads it off an array.
        Regenerated id columns come from ``random_state``, or, with ``segments`` (row count,
        generator) covering the n rows in order, from each segment's own generator: rows
        decoded together then get the ids they would get decoded segment by segment. A sample
        checks its size against the id columns' room first (:meth:`check_id_room`): decoded
        blocks run past its end, and the rows there are dropped.
        """
        self._check_fitted()
        layout = self.layout_
        n = codes.shape[1] if codes.ndim == 2 else -1
        expected = ((len(layout.tanh_spans), n), (len(layout.softmax_spans), n))
        if n < 0 or (scalars.shape, codes.shape) != expected:
            raise InvalidDataError(
                f"decode expects scalars of shape (n_tanh_spans, n) = {expected[0]} and codes of "
                f"shape (n_softmax_spans, n) = {expected[1]}; got {scalars.shape} and "
                f"{codes.shape}."
            )
        if segments is None:
            rng = (
                random_state
                if isinstance(random_state, np.random.Generator)
                else (self._rng if random_state is None else np.random.default_rng(random_state))
            )
            segments = [(n, rng)]
        elif sum(rows for rows, _ in segments) != n:
            covered = sum(rows for rows, _ in segments)
            raise InvalidDataError(f"decode: segments cover {covered} rows, not {n}.")
        index = pd.RangeIndex(n)
        columns = {}
        next_scalar = next_code = 0
        for name, transformer in self.transformers_.items():
            if isinstance(transformer, DerivedColumnTransformer):
                continue  # computed below, from the decoded columns
            if isinstance(transformer, IdColumnTransformer):
                columns[name] = _generate_ids(transformer, segments, row_offset)
            elif isinstance(transformer, CategoricalColumnTransformer):
                columns[name] = transformer.decode(codes[next_code], index)
                next_code += 1
            else:
                scalar = None
                if transformer.n_modes:
                    scalar, next_scalar = scalars[next_scalar], next_scalar + 1
                columns[name] = transformer.decode(scalar, codes[next_code], index)
                next_code += 1
        frame = pd.DataFrame(columns, index=index)
        # before the derived columns they may feed; block by block, since where a moved row goes
        # depends on the rows decoded with it, and a segment's rows must come out the same
        # however segments are grouped
        blocks = [rows for rows, _ in segments]
        for composition in self.compositions_:
            frame = composition.enforce(frame, self._bounds(composition.columns), blocks)
        derived = [t for t in self.transformers_.values() if isinstance(t, DerivedColumnTransformer)]
        if not derived:
            return frame
        columns = dict(frame.items())
        for transformer in derived:  # sources are never derived: one pass
            columns[transformer.column_] = transformer.decode_from(frame)
        return pd.DataFrame({name: columns[name] for name in self.transformers_}, index=index)

    def _bounds(self, names) -> dict[str, tuple[float, float]]:
        return {name: (self.transformers_[name].min_, self.transformers_[name].max_)
                for name in names}  # fmt: skip

    @property
    def derivations(self) -> list:
        """The exact relations found at fit (``derive_columns``), each target computed from its
        sources when decoding (:mod:`synthgan.transform.derived`)."""
        self._check_fitted()
        return [t.derivation for t in self.transformers_.values()
                if isinstance(t, DerivedColumnTransformer)]  # fmt: skip

    # -- plain-data state (model files) ---------------------------------------------------------
    def get_state(self) -> dict:
        self._check_fitted()
        return {
            "version": STATE_VERSION,
            "params": {
                "max_modes": self.max_modes,
                "weight_threshold": self.weight_threshold,
                "max_point_masses": self.max_point_masses,
                "max_fit_rows": self.max_fit_rows,
                "clip": self.clip,
                "quantile_knots": self.quantile_knots,
                "quantile_bins": self.quantile_bins,
                "derive_columns": self.derive_columns,
                "always_model": list(self.always_model),
                "random_state": self.random_state,
            },
            "schema": self.schema_.to_dict(),
            "columns": self.columns_,
            "transformers": [t.get_state() for t in self.transformers_.values()],
            "compositions": [c.to_dict() for c in self.compositions_],
            "layout": self.layout_.to_dict(),
        }

    @classmethod
    def from_state(cls, state: dict) -> TableTransformer:
        obj = cls(**state["params"])
        obj.schema_ = Schema.from_dict(state["schema"])
        obj.columns_ = list(state["columns"])
        obj._rng = np.random.default_rng(obj.random_state)
        obj.transformers_ = {}
        for column_state in state["transformers"]:
            kind = ColumnKind(column_state["kind"])
            if "derived" in column_state:
                inner_state = {k: v for k, v in column_state.items() if k != "derived"}
                inner = (NumericColumnTransformer if kind.is_numeric
                         else CategoricalColumnTransformer).from_state(inner_state)  # fmt: skip
                transformer = DerivedColumnTransformer(
                    derivation_from_dict(column_state["derived"]), inner
                )
            elif kind.is_numeric:
                transformer = NumericColumnTransformer.from_state(column_state)
            elif kind.is_categorical:
                transformer = CategoricalColumnTransformer.from_state(column_state)
            else:
                transformer = IdColumnTransformer.from_state(column_state)
            obj.transformers_[column_state["column"]] = transformer
        # files written before compositions were found hold none
        obj.compositions_ = [Composition.from_dict(c) for c in state.get("compositions", [])]
        obj.layout_ = Layout.from_dict(state["layout"])
        if obj.layout_ != obj._build_layout():
            raise InvalidDataError("Saved transformer state is inconsistent: layout mismatch.")
        return obj


def _movable_within(
    rows: pd.DataFrame, whole: Composition, name: str, bounds: pd.Series
) -> tuple[int | None, int | None]:
    """The positions of the rows whose part ``name`` of ``whole`` moves onto its lower and
    upper ``bounds`` in :meth:`TableTransformer.reach_bounds`: the smallest and the largest
    value among the rows whose group sum stays within the whole's range after the move (None
    where no row's does)."""
    sums = rows[list(whole.columns)].to_numpy(dtype=np.float64, na_value=np.nan).sum(axis=1)
    value = rows[name].to_numpy(dtype=np.float64, na_value=np.nan)
    low, high = float(bounds.iloc[0]), float(bounds.iloc[1])
    with np.errstate(invalid="ignore"):
        down = sums - (value - low) >= whole.low  # False where a part is null
        up = sums + (high - value) <= whole.high
    lowest = int(np.where(down, value, np.inf).argmin()) if down.any() else None
    highest = int(np.where(up, value, -np.inf).argmax()) if up.any() else None
    return lowest, highest


def _generate_ids(
    transformer: IdColumnTransformer, segments: list[tuple[int, np.random.Generator]], offset: int
) -> pd.Series:
    """An id column over consecutive segments, each from its own generator."""
    parts = []
    for rows, rng in segments:
        parts.append(transformer.generate(rows, pd.RangeIndex(rows), rng, row_offset=offset))
        offset += rows
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
