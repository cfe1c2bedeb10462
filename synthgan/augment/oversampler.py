"""SyntheticOverSampler: imbalanced-learn's over-sampling contract, with rows from a conditional GAN.

This module imports imbalanced-learn; ``synthgan.augment`` imports it only when the sampler is
asked for, so that ``synthgan.augment.augment`` works without the extra.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_target_type
from scipy import sparse
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn_compat.utils.validation import validate_data

from synthgan.augment.inputs import check_labels, num_rows
from synthgan.augment.tables import (
    draw_seed,
    is_fitted,
    make_rng,
    merged_schema,
    prepared_synthesizer,
    seed_source,
    with_dtypes_of,
)
from synthgan.exceptions import InvalidDataError, NotFittedError
from synthgan.schema import (
    ColumnKind,
    Schema,
    check_column_names,
    infer_kind,
    unknown_column_message,
)

MIN_CLASS_ROWS = 4
"""The fewest rows a class needs for a synthesizer of its own (``class_models="per_class"``)."""


class SyntheticOverSampler(BaseOverSampler):
    """Over-sample classes with synthetic rows from a conditional GAN.

    On each call of ``fit_resample(X, y)`` a synthesizer is fitted on all rows of ``X`` with ``y``
    as one more (discrete) column, then the rows each class needs are sampled with the condition
    ``{target: class}``, which the generator's condition vector makes hold in every row. The
    result holds the original rows followed by the synthetic ones, class by class.

    By default the rebalancing is partial: ``sampling_strategy`` (or ``multiplier``) says how many
    rows each class should reach, and ``max_synthetic_share`` caps the synthetic rows at half of
    a class's rows after resampling (at most one synthetic row per real one). Without the cap
    (``max_synthetic_share=None``) class counts match ``sampling_strategy`` exactly, as in
    imbalanced-learn. With ``curation="confidence"`` only synthetic rows that a classifier fitted
    on the real rows finds typical of their class (by default twice as likely as its base rate)
    are kept. With ``redraw_share`` each synthetic row starts as a real row of its class and the
    model draws a share of its cells anew.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        As in imbalanced-learn's over-samplers (its ``check_sampling_strategy`` reads it):
        ``"auto"``/``"not majority"`` grow every class but the majority to the majority's count,
        ``"minority"`` only the smallest class, ``"not minority"`` all but it, ``"all"`` every
        class; a float (binary targets) is the wanted minority/majority ratio after resampling; a
        dict maps class -> wanted count after resampling; a callable takes ``y`` and returns
        such a dict.
    multiplier : float >= 1, optional
        Instead of ``sampling_strategy``: grow every class to ``round(multiplier * count)`` rows.
        Leave ``sampling_strategy`` at "auto" when using it.
    max_synthetic_share : float in (0, 1) or None, default=0.5
        The most synthetic rows a class may hold after resampling, as a share of its rows: 0.5
        adds at most as many synthetic rows as the class has real ones, 0.2 at most a quarter.
        Applied after ``sampling_strategy``/``multiplier``; None lifts the cap. Full 1:1
        balancing of a rare class drowns its real rows in synthetic ones, which hurt models in
        the literature and in this project's benchmark (docs/augment.md).
    curation : {"confidence"} or None, default=None
        "confidence": fit ``curation_estimator`` on the real rows and keep a synthetic row of
        class ``c`` only when the estimator's probability of ``c`` is at least
        ``curation_threshold`` times ``c``'s share of the real rows (the row carries evidence
        for its label; see ``curation_threshold`` for a common class); rows are drawn until
        each class has its count or ``20 * count`` rows were drawn, whichever comes first
        (``curation_`` says what was kept). A CLLM-style filter (Seedat et al., ICML 2024),
        without its uncertainty term.
    curation_threshold : float > 0, default=2.0
        With ``curation="confidence"``: the least ratio of a row's predicted probability of its
        class over the class's base rate. Above 1, a class too common for that ratio (a share
        ``s`` with ``threshold * s`` near or above 1) asks instead that the other classes'
        probability be at most ``1 / threshold`` of their share ``1 - s``, whichever floor is
        lower, so that every class can pass. 2 was level with or better than 1 in every cell
        measured, from 100 rows to a 1% and a 5% minority (docs/augment.md); 1 keeps every
        row that is at least as typical of its class as its base rate.
    curation_estimator : classifier, optional
        With ``curation="confidence"``: cloned and fitted on ``X`` (as the synthesizer's table)
        and ``y``; needs ``predict_proba``. Default: synthgan's utility model
        (``synthgan.evaluate.make_utility_model``, HistGradientBoosting on one thread).
    redraw_share : float in (0, 1] or None, default=None
        None: every synthetic row is drawn whole from the model. A share: each synthetic row
        starts as a real row of its class, drawn at random, and each of its cells (at least one)
        is drawn anew with this probability by the model given the row's other cells and its
        class (``Synthesizer.impute``); a null cell not drawn anew stays null. The rows stay
        near the class's real rows, as SMOTENC's do, with the changed cells from the model's
        conditional instead of interpolated or copied from a neighbour. Measured at 0.5 without
        the cap (docs/augment.md, "redraw_share"): with 16 positive rows among 16,496 (Adult's
        ``>50K`` cut to 0.1%) and 55 among 5,469 (``default`` at 1%) its PR AUC was above
        whole rows', SMOTENC's and the real rows' alone; with 4 or 5 positive rows, on
        ``wage``, and from 100 rows it was not.
    class_models : {"pooled", "per_class"}, default="pooled"
        "pooled": one synthesizer fitted on all rows with ``y`` as a column, sampled with the
        condition ``{target: class}``. "per_class": one synthesizer for each class that gets
        rows, fitted on that class's rows only (without ``y``) and sampled without a condition
        (the class-specific models of TabEBM, Margeloiu et al., NeurIPS 2024); it learns a small
        class from its own rows, at the cost of what the other classes could teach it. A class
        of fewer than ``MIN_CLASS_ROWS`` (4) rows is drawn from a pooled model instead.
    synthesizer : Synthesizer, optional
        The template: cloned and the clone fitted on every call of ``fit_resample``, so in a
        pipeline under cross-validation it only ever sees the training fold. Default:
        ``Synthesizer(epochs=30, verbose=False)``. With ``refit_synthesizer=False`` and
        ``class_models="per_class"``: a dict class -> fitted synthesizer (``synthesizer_`` of an
        earlier call).
    epochs, batch_size, pac : int, optional
        Override the template's values when given. With the default template: 30 epochs
        (a full fit defaults to 80), batch_size 500, pac 10. On a small table (under
        cross-validation: the training fold) both shrink by themselves: pac to at most a quarter
        of the rows, the batch to at most half of them (``fit_params_`` says what was used).
    min_steps : int or None, default=500
        Raise the epochs so that a fit makes at least this many generator steps: 30 epochs of a
        100-row table are only 60 steps. None: the epochs as given.
    categorical_features : array-like of int, str or bool, optional
        Which columns of ``X`` are categorical, as indices, column names (DataFrames) or a boolean
        mask (as in SMOTENC). Arrays: when omitted, columns holding strings are categorical and
        the rest numeric. DataFrames: when omitted, synthgan infers every column's kind
        (strings, booleans and ``category`` dtype are categorical; see docs/schema.md); given
        columns are made discrete, e.g. integer-coded categories.
    refit_synthesizer : bool, default=True
        False: use ``synthesizer`` as it is, already fitted, without fitting it again. It must
        have been fitted on ``X``'s columns plus the target column (named as in
        ``target_column_``). Under cross-validation this leaks: a model fitted before the split
        has seen the test folds.
    random_state : int, RandomState instance or None, default=None
        Seeds the synthesizer's fit and the sampling. When None, the template's own random_state
        is used.

    Attributes
    ----------
    sampling_strategy_ : dict
        Class -> number of synthetic rows added (after the cap and curation).
    fit_params_ : dict
        The synthesizer's epochs, batch_size and pac in the last fit (after shrinking for a
        small table); empty when ``refit_synthesizer=False``. With ``class_models="per_class"``:
        class -> those of its model (and "pooled" -> those of the pooled one, when fitted).
    curation_ : dict or None
        With curation: class -> {"drawn", "kept", "added"} rows of the last call.
    synthesizer_ : Synthesizer or dict
        The fitted synthesizer of the last call (the given one when ``refit_synthesizer=False``);
        with ``class_models="per_class"`` a dict class -> its fitted synthesizer (the pooled one
        for a class too small for its own).
    target_column_ : str
        The name ``y`` had in the synthesizer's table: ``y``'s name (a named Series not clashing
        with ``X``'s columns) or "target".
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only for DataFrames with string column names.

    Notes
    -----
    NumPy arrays become a table with columns ``x0, x1, ...``; their numeric columns come back in
    ``X``'s dtype (integer arrays get whole numbers). DataFrames come back with their columns and
    dtypes and a fresh RangeIndex.

    Examples
    --------
    >>> from imblearn.pipeline import make_pipeline
    >>> from sklearn.model_selection import cross_validate
    >>> from synthgan.augment import SyntheticOverSampler
    >>> from synthgan.evaluate import make_utility_model
    >>> pipe = make_pipeline(SyntheticOverSampler(random_state=0),
    ...                      make_utility_model("classification"))
    >>> scores = cross_validate(pipe, X, y, scoring="roc_auc")  # doctest: +SKIP
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "multiplier": [Interval(numbers.Real, 1, None, closed="left"), None],
        "max_synthetic_share": [Interval(numbers.Real, 0, 1, closed="neither"), None],
        "curation": [StrOptions({"confidence"}), None],
        "redraw_share": [Interval(numbers.Real, 0, 1, closed="right"), None],
        "class_models": [StrOptions({"pooled", "per_class"})],
        "curation_threshold": [Interval(numbers.Real, 0, None, closed="neither")],
        "curation_estimator": [HasMethods(["fit", "predict_proba"]), None],
        "min_steps": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "synthesizer": [HasMethods(["fit", "sample", "get_params"]), dict, None],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "pac": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "categorical_features": ["array-like", None],
        "refit_synthesizer": ["boolean"],
    }

    def __init__(
        self,
        *,
        sampling_strategy: Any = "auto",
        multiplier: float | None = None,
        max_synthetic_share: float | None = 0.5,
        curation: str | None = None,
        curation_threshold: float = 2.0,
        curation_estimator: Any = None,
        redraw_share: float | None = None,
        class_models: str = "pooled",
        synthesizer: Any = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        pac: int | None = None,
        min_steps: int | None = 500,
        categorical_features: Any = None,
        refit_synthesizer: bool = True,
        random_state: Any = None,
    ) -> None:
        super().__init__(sampling_strategy=sampling_strategy)
        self.multiplier = multiplier
        self.max_synthetic_share = max_synthetic_share
        self.curation = curation
        self.curation_threshold = curation_threshold
        self.curation_estimator = curation_estimator
        self.redraw_share = redraw_share
        self.class_models = class_models
        self.synthesizer = synthesizer
        self.epochs = epochs
        self.batch_size = batch_size
        self.pac = pac
        self.min_steps = min_steps
        self.categorical_features = categorical_features
        self.refit_synthesizer = refit_synthesizer
        self.random_state = random_state

    def _more_tags(self):  # the same tags for scikit-learn < 1.6, which reads these
        return {"X_types": ["2darray", "dataframe", "string", "categorical"], "allow_nan": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags

    # -- input checks ----------------------------------------------------------------------------
    def _check_X_y(self, X, y, accept_sparse=None):
        # Like SMOTENC: strings and nulls pass; a DataFrame stays a DataFrame (its dtypes matter).
        if sparse.issparse(X):
            raise InvalidDataError(
                "SyntheticOverSampler does not take sparse matrices. Densify X first, e.g. "
                "X.toarray()."
            )
        if isinstance(X, pd.DataFrame) and any(isinstance(d, pd.SparseDtype) for d in X.dtypes):
            # sparse columns are densified here and made sparse again by fit_resample's caller
            X = X.assign(
                **{
                    name: X[name].sparse.to_dense()
                    for name, dtype in X.dtypes.items()
                    if isinstance(dtype, pd.SparseDtype)
                }
            )
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        if not isinstance(X, pd.DataFrame):
            X = np.asarray(X)
            if X.ndim != 2:
                raise InvalidDataError(
                    f"X must be 2-dimensional (rows, features), got shape {X.shape}."
                )
        if len(X) < 1:
            raise InvalidDataError("X has no rows; SyntheticOverSampler needs some.")
        validate_data(self, X=X, y=y, reset=True, skip_check_array=True)
        return X, y, binarize_y

    def _target_name(self, X: pd.DataFrame | np.ndarray, y_name: Any) -> str:
        taken = {str(c) for c in X.columns} if isinstance(X, pd.DataFrame) else set()
        if isinstance(y_name, str) and y_name and y_name not in taken:
            return y_name
        name = "target"
        while name in taken:
            name += "_"
        return name

    @staticmethod
    def _check_inputs(X, y) -> None:
        """Before imbalanced-learn's checks: names the GAN can take (scikit-learn raised a
        TypeError on names mixing strings and numbers, narwhals on duplicates) and labels."""
        if isinstance(X, pd.DataFrame):
            check_column_names(X.columns)
        check_labels(y, num_rows(X, "X"))

    def fit(self, X, y, **params):
        """Check the inputs and set ``sampling_strategy_``, as imbalanced-learn's samplers do;
        :meth:`fit_resample` is what makes rows."""
        self._check_inputs(X, y)
        return super().fit(X, y, **params)

    def fit_resample(self, X, y, **params):
        """Resample the dataset.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        X_resampled : DataFrame or ndarray of shape (n_samples_new, n_features)
            The rows of ``X`` followed by the synthetic rows, of ``X``'s type, columns and dtypes.
        y_resampled : ndarray or Series of shape (n_samples_new,)
        """
        self._check_inputs(X, y)
        self._y_name = getattr(y, "name", None)
        return super().fit_resample(X, y, **params)

    # -- resampling ------------------------------------------------------------------------------
    def _wanted_counts(self, y: np.ndarray) -> dict[Any, int]:
        """Class -> rows to add: from ``multiplier`` or ``sampling_strategy_``, then capped by
        ``max_synthetic_share``."""
        asked = self._asked_counts(y)
        if self.max_synthetic_share is None:
            return asked
        share = float(self.max_synthetic_share)
        classes, counts = np.unique(y, return_counts=True)
        real = dict(zip(classes.tolist(), counts.tolist()))
        # synthetic / (real + synthetic) <= share  <=>  synthetic <= real * share / (1 - share)
        return {
            cls: min(n, int(np.floor(real[_plain(cls)] * share / (1.0 - share) + 1e-9)))
            for cls, n in asked.items()
        }

    def _asked_counts(self, y: np.ndarray) -> dict[Any, int]:
        """Class -> rows to add, from ``multiplier`` or from ``sampling_strategy_``."""
        if self.multiplier is None:
            return {cls: int(n) for cls, n in self.sampling_strategy_.items()}
        if not (isinstance(self.sampling_strategy, str) and self.sampling_strategy == "auto"):
            raise InvalidDataError(
                f"Give either sampling_strategy={self.sampling_strategy!r} or "
                f"multiplier={self.multiplier!r}, not both; leave sampling_strategy at 'auto' "
                "to use multiplier."
            )
        classes, counts = np.unique(y, return_counts=True)
        return {
            cls: int(round(self.multiplier * count)) - int(count)
            for cls, count in zip(classes, counts)
        }

    def _categorical_columns(self, X: pd.DataFrame | np.ndarray) -> list[int]:
        n_features = X.shape[1]
        spec = self.categorical_features
        if spec is None:
            if isinstance(X, pd.DataFrame) or X.dtype != object:
                return []
            return [
                j
                for j in range(n_features)
                if (types := _value_types(X[:, j])) and all(issubclass(t, str) for t in types)
            ]
        values = np.asarray(spec)
        if values.dtype == bool:
            if values.shape != (n_features,):
                raise InvalidDataError(
                    f"categorical_features is a boolean mask of length {values.size}, but X has "
                    f"{n_features} columns. Give one True/False per column."
                )
            return [int(j) for j in np.flatnonzero(values)]
        columns: list[int] = []
        for item in values.ravel().tolist():
            if isinstance(item, str):
                if not isinstance(X, pd.DataFrame) or item not in X.columns:
                    known = [str(c) for c in X.columns] if isinstance(X, pd.DataFrame) else []
                    raise InvalidDataError(
                        "categorical_features: "
                        + unknown_column_message(item, known, where="X")
                        + ("" if known else " Column names need a DataFrame; use indices.")
                    )
                columns.append(int(X.columns.get_loc(item)))
            elif isinstance(item, int) and -n_features <= item < n_features:
                columns.append(item % n_features)
            else:
                raise InvalidDataError(
                    f"categorical_features holds {item!r}, not a column of X (which has "
                    f"{n_features} columns, indices 0 to {n_features - 1})."
                )
        return sorted(set(columns))

    def _table(
        self, X: pd.DataFrame | np.ndarray, categorical: list[int]
    ) -> tuple[pd.DataFrame, dict[str, ColumnKind]]:
        """X as the synthesizer's table (without the target) and the kinds to impose on it.

        Every column of ``X`` is a feature: one that synthgan would take for an id (strings all
        distinct, or distinct integers named like an id or packed as tightly as ids) is modelled
        as an integer or a category instead of regenerated as new ids beyond the real ones, which
        a classifier would learn to tell the synthetic rows by."""
        if isinstance(X, pd.DataFrame):
            table = X.reset_index(drop=True)
            kinds = {str(table.columns[j]): ColumnKind.DISCRETE for j in categorical}
            for name in table.columns:
                if name not in kinds and infer_kind(table[name]) is ColumnKind.ID:
                    integer = pd.api.types.is_integer_dtype(table[name].dtype)
                    kinds[name] = ColumnKind.INTEGER if integer else ColumnKind.DISCRETE
            return table, kinds
        columns: dict[str, Any] = {}
        for j in range(X.shape[1]):
            name = f"x{j}"
            if j in categorical:
                columns[name] = pd.Series(X[:, j], dtype=object if X.dtype == object else None)
                continue
            raw = pd.Series(X[:, j], dtype=object)
            numbers = pd.to_numeric(raw, errors="coerce").astype("float64")
            bad = numbers.isna() & raw.notna()
            if bad.any():
                example = raw[bad].iloc[0]
                raise InvalidDataError(
                    f"Column {j} of X holds non-numeric values such as {example!r}. Mark it "
                    f"categorical, e.g. categorical_features=[{j}]."
                )
            columns[name] = numbers
        kinds = {f"x{j}": ColumnKind.DISCRETE for j in categorical}
        return pd.DataFrame(columns), kinds

    def _fit_resample(self, X, y):
        wanted = self._wanted_counts(y)
        categorical = self._categorical_columns(X)
        table, kinds = self._table(X, categorical)
        target = self._target_name(X, self._y_name)
        self.target_column_ = target
        rng = make_rng(seed_source(self.random_state, self._template()))
        if self.class_models == "per_class":
            draw = self._per_class_draw(table, y, kinds, target, wanted, rng)
        else:
            draw = self._pooled_draw(table, y, kinds, target, rng)
        if self.redraw_share is not None:
            draw = self._redrawing(table, y, target)

        curator = self._fitted_curator(table, y, rng) if self.curation is not None else None
        self.curation_ = {} if curator is not None else None
        blocks, added = [], {}
        for cls, n_rows in wanted.items():
            seed = draw_seed(rng)  # drawn for every class so each class's rows stay reproducible
            added[cls] = 0
            if n_rows <= 0:
                continue
            if curator is None:
                rows = draw(cls, n_rows, seed)
                if len(rows) != n_rows:  # guards the exact-count promise
                    raise InvalidDataError(
                        f"The synthesizer returned {len(rows)} rows where {n_rows} were asked."
                    )
            else:
                rows = curator.rows(draw, cls, n_rows, seed)
                self.curation_[cls] = curator.facts[cls]
            blocks.append(rows)
            added[cls] = len(rows)
        self.sampling_strategy_ = added
        y_new = np.concatenate(
            [np.full(n_rows, cls, dtype=y.dtype) for cls, n_rows in added.items() if n_rows > 0]
            or [y[:0]]
        )
        synthetic = (
            pd.concat(blocks, ignore_index=True)[list(table.columns)] if blocks else table.iloc[:0]
        )
        X_new = self._like_input(synthetic, X, table)
        if isinstance(X, pd.DataFrame):
            X_res = pd.concat([table, X_new], ignore_index=True)
        else:
            X_res = np.concatenate([X, X_new], axis=0)
        return X_res, np.concatenate([y, y_new])

    def _template(self) -> Any:
        """The synthesizer template to clone, or None (the default); never a dict of fitted
        per-class synthesizers."""
        return None if isinstance(self.synthesizer, dict) else self.synthesizer

    def _template_schema(self) -> Schema | None:
        template = self._template()
        return None if template is None else template.get_params().get("schema")

    def _fit_overrides(self, schema: Any, rng: np.random.Generator) -> dict[str, Any]:
        """What a clone of the template gets: the schema, a seed and the sampler's own
        epochs, batch_size and pac where given."""
        return {
            "schema": schema,
            "random_state": draw_seed(rng),
            **{
                name: getattr(self, name)
                for name in ("epochs", "batch_size", "pac")
                if getattr(self, name) is not None
            },
        }

    def _fitted_params(self, model: Any) -> dict[str, Any]:
        return {k: model.get_params()[k] for k in ("epochs", "batch_size", "pac")}

    def _pooled_draw(self, table, y, kinds, target, rng) -> Any:
        """One synthesizer of all rows with the target as a column; returns ``draw(cls, n,
        seed)``, ``n`` rows of class ``cls`` (``table``'s columns)."""
        if self.refit_synthesizer:
            model = self._fitted_pooled(table, y, kinds, target, rng)
            self.fit_params_ = self._fitted_params(model)
        else:
            model = self._fitted_synthesizer()
            self.fit_params_ = {}
        _check_columns(model, list(table.columns), target)
        self.synthesizer_ = model
        return lambda cls, n_rows, seed: _class_rows(model, target, cls, n_rows, seed, table)

    def _fitted_pooled(self, table, y, kinds, target, rng) -> Any:
        """A clone of the template fitted on all rows with the target as a discrete column."""
        data = table.assign(**{target: y})
        schema = merged_schema(
            self._template_schema(), list(data.columns), {**kinds, target: ColumnKind.DISCRETE}
        )
        # the target is conditioned on, so it stays discrete whatever the template says
        overrides = self._fit_overrides(schema.with_kinds({target: ColumnKind.DISCRETE}), rng)
        model = prepared_synthesizer(
            self._template(), overrides, n_rows=len(data), min_steps=self.min_steps
        )
        return model.fit(data)

    def _per_class_draw(self, table, y, kinds, target, wanted, rng) -> Any:
        """A synthesizer per class that gets rows, each fitted on its class's rows only; a class
        of fewer than ``MIN_CLASS_ROWS`` rows is drawn from one pooled synthesizer instead.
        Returns ``draw(cls, n, seed)`` as :meth:`_pooled_draw` does."""
        grown = [_plain(cls) for cls, n_rows in wanted.items() if n_rows > 0]
        if self.refit_synthesizer:
            models = self._fitted_per_class(table, y, kinds, target, wanted, rng)
            small = [cls for cls in grown if cls not in models]
            if small:
                pooled = self._fitted_pooled(table, y, kinds, target, rng)
                self.fit_params_["pooled"] = self._fitted_params(pooled)
                models.update(dict.fromkeys(small, pooled))
        else:
            models = self._fitted_class_synthesizers(grown)
            self.fit_params_ = {}
        for model in models.values():
            _check_columns(model, list(table.columns))
        self.synthesizer_ = models
        return lambda cls, n_rows, seed: _class_rows(
            models[_plain(cls)], target, cls, n_rows, seed, table
        )

    def _redrawing(self, table, y, target) -> Any:
        """``draw(cls, n, seed)`` whose rows start from real rows of the class, ``redraw_share``
        of their cells drawn anew by the class's fitted synthesizer."""
        models = self.synthesizer_

        def draw(cls: Any, n_rows: int, seed: int) -> pd.DataFrame:
            model = models[_plain(cls)] if isinstance(models, dict) else models
            real = table[y == cls].reset_index(drop=True)
            return _redrawn_rows(model, target, cls, real, n_rows, seed, self.redraw_share)

        return draw

    def _fitted_per_class(self, table, y, kinds, target, wanted, rng) -> dict[Any, Any]:
        """Class -> a clone of the template fitted on that class's rows, for every grown class
        of at least ``MIN_CLASS_ROWS`` rows (``fit_params_`` records each fit)."""
        template, template_schema = self._template(), self._template_schema()
        if template_schema is not None:  # the target is not a column of a class's table
            template_schema = Schema(
                tuple(spec for spec in template_schema.columns if spec.name != target)
            )
        # every column's kind as read on all rows: a class's few rows could read otherwise
        kinds = {name: kinds.get(name) or infer_kind(table[name]) for name in table.columns}
        schema = merged_schema(template_schema, list(table.columns), kinds)
        models, self.fit_params_ = {}, {}
        for cls, n_rows in wanted.items():
            overrides = self._fit_overrides(schema, rng)  # a seed drawn for every class
            if n_rows <= 0:
                continue
            rows = table[y == cls].reset_index(drop=True)
            if len(rows) < MIN_CLASS_ROWS:
                continue
            model = prepared_synthesizer(
                template, overrides, n_rows=len(rows), min_steps=self.min_steps
            )
            self.fit_params_[_plain(cls)] = self._fitted_params(model)
            models[_plain(cls)] = model.fit(rows)
        return models

    def _fitted_curator(
        self, table: pd.DataFrame, y: np.ndarray, rng: np.random.Generator
    ) -> _ConfidenceCurator:
        """The curation classifier, fitted on the real rows (never on synthetic ones)."""
        if self.curation_estimator is None:
            from synthgan.evaluate import make_utility_model

            estimator = make_utility_model("classification", random_state=draw_seed(rng))
        else:
            estimator = clone(self.curation_estimator)
        estimator.fit(table, y)
        classes, counts = np.unique(y, return_counts=True)
        base_rates = {cls: count / len(y) for cls, count in zip(classes.tolist(), counts)}
        return _ConfidenceCurator(estimator, base_rates, float(self.curation_threshold))

    def _fitted_synthesizer(self) -> Any:
        model = self.synthesizer
        if isinstance(model, dict):
            raise InvalidDataError(
                "synthesizer= is a dict of per-class synthesizers, which class_models='pooled' "
                "cannot use. Pass class_models='per_class' with it, or one synthesizer fitted on "
                "X with the target as a column."
            )
        if model is None or not is_fitted(model):
            raise NotFittedError(
                "refit_synthesizer=False needs an already fitted synthesizer=; got "
                f"{'none' if model is None else 'an unfitted one'}. Fit it on X with the target "
                "as a column first, or leave refit_synthesizer=True (safe under "
                "cross-validation)."
            )
        return model

    def _fitted_class_synthesizers(self, needed: list[Any]) -> dict[Any, Any]:
        models = self.synthesizer
        if not isinstance(models, dict) or any(
            cls not in models or not is_fitted(models[cls]) for cls in needed
        ):
            raise NotFittedError(
                "refit_synthesizer=False with class_models='per_class' needs synthesizer= as a "
                f"dict class -> fitted synthesizer for the classes {needed!r} (the "
                "synthesizer_ of an earlier call); or leave refit_synthesizer=True (safe under "
                "cross-validation)."
            )
        return models

    def _like_input(
        self, synthetic: pd.DataFrame, X: pd.DataFrame | np.ndarray, table: pd.DataFrame
    ) -> pd.DataFrame | np.ndarray:
        """The synthetic rows in ``X``'s form: its dtypes (DataFrame) or its array dtype."""
        if isinstance(X, pd.DataFrame):
            return with_dtypes_of(synthetic.reset_index(drop=True), table)
        result = np.empty((len(synthetic), X.shape[1]), dtype=X.dtype)
        for j, name in enumerate(table.columns):
            values = synthetic[name].to_numpy(dtype=object if X.dtype == object else None)
            if X.dtype == object:
                values = _like_python_numbers(values, X[:, j])
            elif np.issubdtype(X.dtype, np.integer):
                values = np.rint(values.astype("float64"))
            result[:, j] = values
        return result


class _ConfidenceCurator:
    """Keeps the synthetic rows of a class whose predicted probability of that class reaches
    the class's floor (``_curation_floor``)."""

    MAX_DRAWN = 20
    """Rows drawn per class at most, as a multiple of the rows wanted."""

    def __init__(self, estimator: Any, base_rates: dict[Any, float], threshold: float) -> None:
        self.estimator = estimator
        self.base_rates = base_rates
        self.threshold = threshold
        self.facts: dict[Any, dict[str, int]] = {}

    def _column(self, cls: Any) -> int:
        classes = list(np.asarray(self.estimator.classes_).tolist())
        if cls in classes:
            return classes.index(cls)
        as_text = [str(c) for c in classes]  # synthgan's utility model learns labels as text
        return as_text.index(str(cls))

    def rows(self, draw: Any, cls: Any, n_rows: int, seed: int) -> pd.DataFrame:
        """Up to ``n_rows`` kept rows of class ``cls``, drawn by ``draw(cls, n, seed)``."""
        local = np.random.default_rng(seed)
        column = self._column(_plain(cls))
        floor = _curation_floor(self.threshold, self.base_rates[_plain(cls)])
        kept: list[pd.DataFrame] = []
        n_kept = n_drawn = 0
        budget = self.MAX_DRAWN * n_rows
        while n_kept < n_rows and n_drawn < budget:
            # draw enough for the rows still missing at the acceptance seen so far (>= 5%)
            acceptance = max(n_kept / n_drawn, 0.05) if n_drawn else 0.5
            size = min(
                budget - n_drawn, max(64, int(np.ceil(1.2 * (n_rows - n_kept) / acceptance)))
            )
            drawn = draw(cls, size, draw_seed(local))
            proba = np.asarray(self.estimator.predict_proba(drawn))[:, column]
            keep = drawn[proba >= floor]
            kept.append(keep)
            n_kept += len(keep)
            n_drawn += len(drawn)
        rows = pd.concat(kept, ignore_index=True).iloc[:n_rows]
        self.facts[cls] = {"drawn": n_drawn, "kept": n_kept, "added": len(rows)}
        return rows


def _curation_floor(threshold: float, share: float) -> float:
    """The least predicted probability of class c that keeps a synthetic row of c, for a class
    holding ``share`` of the real rows: ``threshold`` times its share; above a threshold of 1,
    at most the probability that leaves the other classes ``1 / threshold`` of their share.

    The second floor is the lower one only for a common class (at a threshold of 2: a share
    above a third), where ``threshold * share`` would be near or above 1, a probability no row
    reaches or few do; it is below 1 for every class short of all the rows.
    """
    floor = threshold * share
    if threshold > 1.0:
        floor = min(floor, 1.0 - (1.0 - share) / threshold)
    return floor


def _value_types(values: np.ndarray) -> set[type]:
    """The Python types of the non-null values of one object column."""
    return set(map(type, pd.Series(values, dtype=object).dropna().to_numpy()))


def _like_python_numbers(values: np.ndarray, original: np.ndarray) -> np.ndarray:
    """In an object array, give synthetic numbers the Python type (bool, int) of the column's
    original values, which went through the synthesizer as floats."""
    types = _value_types(original)
    if not types or not all(issubclass(t, (bool, int, np.bool_, np.integer)) for t in types):
        return values
    as_bool = all(issubclass(t, (bool, np.bool_)) for t in types)
    floats = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy("float64")
    null = np.isnan(floats)
    whole = np.rint(np.where(null, 0.0, floats)).astype(bool if as_bool else np.int64)
    out = whole.astype(object)
    out[null] = values[null]
    return out


def _check_columns(model: Any, features: list[str], target: str | None = None) -> None:
    """The synthesizer must produce every column of X, and the target when one is named (a
    pooled model; a class's own model has no target column)."""
    produced = list(model.transformer_.output_columns)
    needed = features if target is None else [*features, target]
    missing = [name for name in needed if name not in produced]
    if missing:
        plus = "" if target is None else f" plus the target column {target!r}"
        raise InvalidDataError(
            f"The synthesizer lacks the column(s) {', '.join(map(repr, missing))}: it was fitted "
            f"on other columns, or its schema ignores them. It must model X's columns{plus} "
            "(arrays: x0, x1, ...)."
        )


def _class_rows(
    model: Any, target: str, cls: Any, n_rows: int, seed: int, table: pd.DataFrame
) -> pd.DataFrame:
    """``n_rows`` rows of class ``cls`` from ``model``: conditioned on the class when the model
    has the target as a column (a pooled model), as they come when it has not (a class's own)."""
    conditions = {target: _plain(cls)} if target in model.transformer_.output_columns else None
    return model.sample(n_rows, conditions, random_state=seed)[list(table.columns)]


def _redrawn_rows(
    model: Any, target: str, cls: Any, real: pd.DataFrame, n_rows: int, seed: int, share: float
) -> pd.DataFrame:
    """``n_rows`` rows of class ``cls``, each a row of ``real`` (the class's real rows) drawn at
    random with each cell (at least one) drawn anew by ``model`` with probability ``share``,
    given the row's other cells and, for a pooled model, the class."""
    rng = np.random.default_rng(seed)
    starts = real.iloc[rng.integers(0, len(real), n_rows)].reset_index(drop=True)
    redrawn = rng.random(starts.shape) < share
    none = ~redrawn.any(axis=1)
    redrawn[np.flatnonzero(none), rng.integers(0, starts.shape[1], none.sum())] = True
    frame = starts.mask(redrawn)
    if target in model.transformer_.output_columns:
        frame = frame.assign(**{target: _plain(cls)})
    filled = model.impute(frame, random_state=int(rng.integers(2**31)))[list(real.columns)]
    real_nulls = starts.isna().to_numpy() & ~redrawn  # impute fills them; they were not chosen
    return filled.mask(real_nulls) if real_nulls.any() else filled


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
