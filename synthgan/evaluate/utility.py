"""Machine-learning utility: train on synthetic vs train on real, both tested on real holdout rows.

This module holds the ONE fixed model every utility figure in synthgan uses (the evaluator, the
detection metric and every benchmark): :func:`make_utility_model` and :func:`utility_scores`.
Changing its hyperparameters changes every published number, so they are module constants.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import f1_score, r2_score, roc_auc_score
from threadpoolctl import threadpool_limits

from synthgan.evaluate._columns import category_labels, is_categorical, is_numeric, numeric_values
from synthgan.evaluate.context import EvaluationContext
from synthgan.evaluate.registry import Score, metric
from synthgan.exceptions import InvalidDataError, not_fitted
from synthgan.schema import ColumnKind, Schema, infer_schema, unknown_column_message

Task = Literal["classification", "regression"]
TASKS = ("classification", "regression")

UTILITY_MODEL_PARAMS: dict[str, Any] = {
    "learning_rate": 0.1,
    "max_iter": 100,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 20,
    "l2_regularization": 0.0,
    "max_bins": 255,
    "early_stopping": False,
}
"""Hyperparameters of the fixed gradient-boosted model (scikit-learn's defaults, no early stopping
so that the number of trees, and therefore the result, does not depend on a validation split)."""

MAX_CATEGORIES = 254
"""A categorical feature keeps its most frequent 254 labels; the rest share one 'other' code
(HistGradientBoosting handles at most 255 bins per feature, one of them for missing values)."""


class UtilityFeatures(BaseEstimator):
    """Turn a table into the float matrix the utility model reads.

    Numbers and datetimes (seconds since 1970) become floats with NaN for nulls; discrete and
    boolean columns are ordinal-encoded by descending training frequency (labels beyond
    :data:`MAX_CATEGORIES` share one code; labels unseen in training and nulls become NaN, which
    HistGradientBoosting treats as missing). Id-like and ignored columns are dropped.

    Parameters
    ----------
    schema : Schema or None
        Column kinds; inferred from the table given to ``fit`` when None.
    """

    def __init__(self, *, schema: Schema | None = None) -> None:
        self.schema = schema

    def fit(self, X: pd.DataFrame, y: Any = None) -> UtilityFeatures:
        schema = self.schema if self.schema is not None else infer_schema(X)
        self.columns_: list[str] = []
        self.categorical_mask_: list[bool] = []
        self.codes_: dict[str, dict[str, float]] = {}
        self.exponents_: dict[str, int] = {}
        for name in X.columns:
            if name not in schema.names:
                continue
            kind = schema.kind(name)
            if is_numeric(kind):
                self.columns_.append(name)
                self.categorical_mask_.append(False)
                self.exponents_[name] = _shrinking_exponent(numeric_values(X[name]))
            elif is_categorical(kind):
                counts = pd.Series(category_labels(X[name])).value_counts(sort=True)
                labels = [str(label) for label in counts.index]
                codes = {label: float(min(i, MAX_CATEGORIES)) for i, label in enumerate(labels)}
                self.columns_.append(name)
                self.categorical_mask_.append(True)
                self.codes_[name] = codes
        if not self.columns_:
            raise InvalidDataError(
                "The utility model has no feature columns (every column is the target, id-like "
                "or ignored). Keep at least one numeric or categorical column besides the target."
            )
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """The feature matrix, ndarray of shape (n_rows, n_features)."""
        if not hasattr(self, "columns_"):
            raise not_fitted(self)
        missing = [name for name in self.columns_ if name not in X.columns]
        if missing:
            raise InvalidDataError(
                f"The table lacks the feature column(s) {', '.join(map(repr, missing))} the "
                "utility model was fitted with. Give train and test tables the same columns."
            )
        matrix = np.empty((len(X), len(self.columns_)), dtype="float64")
        for j, name in enumerate(self.columns_):
            if name in self.codes_:
                labels = pd.Series(category_labels(X[name]), dtype=object)
                matrix[:, j] = labels.map(self.codes_[name]).to_numpy(dtype="float64")
            else:
                matrix[:, j] = np.ldexp(numeric_values(X[name]), -self.exponents_[name])
        return matrix


LARGEST_FEATURE = 2.0**996
"""Numeric features beyond this in size are divided by a power of two (exactly, and without
changing their order, which is all the trees read): near the float maximum, the model's binning
overflowed taking midpoints."""


def _shrinking_exponent(values: np.ndarray) -> int:
    """The power of two a numeric feature is divided by: 0 unless it holds values beyond
    :data:`LARGEST_FEATURE`."""
    finite = np.abs(values[np.isfinite(values)])
    largest = float(finite.max()) if len(finite) else 0.0
    return max(0, math.frexp(largest)[1] - math.frexp(LARGEST_FEATURE)[1])


class UtilityModel(BaseEstimator):
    """The fixed gradient-boosted model of synthgan's utility figures: features + HistGradientBoosting.

    Parameters
    ----------
    task : {"classification", "regression"}
    schema : Schema or None
        Kinds of the feature columns; inferred from the training table when None.
    random_state : int or None
    n_threads : int or None, default 1
        OpenMP threads for fitting and predicting (None: the library default, all cores). One
        thread is the default because OpenMP pools slow down badly on a shared, busy machine.
    min_samples_leaf : int or None, default None
        The trees' least rows in a leaf; None: :data:`UTILITY_MODEL_PARAMS`'s 20. Every utility
        figure uses None; a smaller leaf lets the model separate a class of fewer rows.
    """

    def __init__(
        self,
        *,
        task: Task = "classification",
        schema: Schema | None = None,
        random_state: int | None = 0,
        n_threads: int | None = 1,
        min_samples_leaf: int | None = None,
    ) -> None:
        self.task = task
        self.schema = schema
        self.random_state = random_state
        self.n_threads = n_threads
        self.min_samples_leaf = min_samples_leaf

    def _threads(self) -> threadpool_limits:
        # OpenMP pools spin-wait; on a busy machine two threads can be 50x slower than one.
        return threadpool_limits(limits=self.n_threads, user_api="openmp")

    def fit(self, X: pd.DataFrame, y: Any) -> UtilityModel:
        task = check_task(self.task)
        self.features_ = UtilityFeatures(schema=self.schema).fit(X)
        matrix = self.features_.transform(X)
        # A feature with no value in the training rows is a constant to the model (and
        # scikit-learn 1.9's binning fails on it): it is read as 0 in training and prediction.
        self.blank_features_ = np.isnan(matrix).all(axis=0)
        matrix[:, self.blank_features_] = 0.0
        mask = np.asarray(self.features_.categorical_mask_, dtype=bool)
        params = dict(UTILITY_MODEL_PARAMS, random_state=self.random_state)
        if self.min_samples_leaf is not None:
            params["min_samples_leaf"] = self.min_samples_leaf
        params["categorical_features"] = mask if mask.any() else None
        target = np.asarray(y)
        if task == "classification":
            self.classes_ = np.unique(target.astype(str))
            if len(self.classes_) < 2:
                # A generator that emits one class only: predict it with certainty.
                self.model_ = None
                return self
            with self._threads():
                self.model_ = HistGradientBoostingClassifier(**params).fit(
                    matrix, target.astype(str)
                )
        else:
            with self._threads():
                self.model_ = HistGradientBoostingRegressor(**params).fit(
                    matrix, target.astype("float64")
                )
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "features_"):
            raise not_fitted(self)

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        matrix = self.features_.transform(X)
        matrix[:, self.blank_features_] = 0.0
        return matrix

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Class probabilities, ndarray of shape (n_rows, n_classes) in the order of ``classes_``."""
        self._check_fitted()
        if check_task(self.task) != "classification":
            raise InvalidDataError("predict_proba needs task='classification'.")
        if self.model_ is None:
            return np.ones((len(X), 1))
        with self._threads():
            return self.model_.predict_proba(self._matrix(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        if check_task(self.task) == "classification" and self.model_ is None:
            return np.full(len(X), self.classes_[0], dtype=object)
        with self._threads():
            return self.model_.predict(self._matrix(X))


def check_task(task: str) -> Task:
    if task not in TASKS:
        raise InvalidDataError(
            f"Unknown task {task!r}. Use 'classification' or 'regression' (or leave task=None to "
            "infer it from the target column)."
        )
    return task  # type: ignore[return-value]


def make_utility_model(
    task: Task,
    *,
    schema: Schema | None = None,
    random_state: int | None = 0,
    n_threads: int | None = 1,
) -> UtilityModel:
    """The fixed gradient-boosted model and preprocessing behind every utility figure.

    Parameters
    ----------
    task : {"classification", "regression"}
    schema : Schema, optional
        Kinds of the feature columns; inferred from the training table when omitted.
    random_state : int or None, default 0
    n_threads : int or None, default 1
        OpenMP threads (None: all cores).

    Returns
    -------
    UtilityModel
        An unfitted estimator with ``fit(X, y)``, ``predict`` and (classification)
        ``predict_proba``; hyperparameters in :data:`UTILITY_MODEL_PARAMS`.

    Examples
    --------
    >>> model = make_utility_model("classification")
    >>> model.fit(train.drop(columns="income"), train["income"])  # doctest: +SKIP
    """
    return UtilityModel(
        task=check_task(task), schema=schema, random_state=random_state, n_threads=n_threads
    )


def infer_task(kind: ColumnKind, *, column: str) -> Task:
    """Classification for a discrete or boolean target, regression for a numeric one."""
    if is_categorical(kind):
        return "classification"
    if is_numeric(kind):
        return "regression"
    raise InvalidDataError(
        f"Target column {column!r} is {kind.value}; utility needs a discrete, boolean or numeric "
        "target. Pick another target column."
    )


def check_target(df: pd.DataFrame, target: str, *, table: str) -> None:
    if target not in df.columns:
        raise InvalidDataError(unknown_column_message(target, list(df.columns), where=table))


def utility_scores(
    train_df: pd.DataFrame,
    test_df: pd.DataFrame,
    target: str,
    *,
    task: Task | None = None,
    schema: Schema | None = None,
    random_state: int | None = 0,
    n_threads: int | None = 1,
) -> dict[str, float]:
    """Fit the fixed utility model on ``train_df`` and score it on ``test_df``.

    Rows whose target is null are dropped from both tables.

    Parameters
    ----------
    train_df, test_df : DataFrame
        The training table (real or synthetic) and the real test table, both with ``target``.
    target : str
        The column to predict.
    task : {"classification", "regression"}, optional
        Inferred from the target's kind when omitted (discrete/boolean: classification).
    schema : Schema, optional
        Column kinds; inferred from ``test_df`` (always real data) when omitted.
    random_state : int or None, default 0
    n_threads : int or None, default 1
        OpenMP threads of the model (None: all cores).

    Returns
    -------
    dict
        Classification: ``roc_auc`` (binary: of the positive class; multiclass: one-vs-rest,
        macro average) and ``f1`` (binary: of the positive class, the less frequent class of
        ``test_df``; multiclass: macro average). Regression: ``r2``.

    Raises
    ------
    InvalidDataError
        When ``target`` is missing from a table (with the closest column name), or the target's
        kind cannot be predicted.
    """
    check_target(train_df, target, table="training table")
    check_target(test_df, target, table="test table")
    if schema is None:
        schema = infer_schema(test_df)
    if task is None:
        task = infer_task(schema.kind(target), column=target)
    task = check_task(task)
    train_df = train_df[train_df[target].notna()]
    test_df = test_df[test_df[target].notna()]
    for frame, name in ((train_df, "training"), (test_df, "test")):
        if len(frame) == 0:
            raise InvalidDataError(
                f"The {name} table has no row with a non-null {target!r}; utility needs some."
            )
    model = make_utility_model(task, schema=schema, random_state=random_state, n_threads=n_threads)
    features = [
        name
        for name in test_df.columns
        if name != target
        and name in schema.names
        and (is_numeric(schema.kind(name)) or is_categorical(schema.kind(name)))
    ]
    missing = [name for name in features if name not in train_df.columns]
    if missing:
        raise InvalidDataError(
            f"The training table lacks the feature column(s) {', '.join(map(repr, missing))} of "
            "the test table. Give both tables the same columns."
        )
    model.fit(train_df[features], _target_values(train_df[target], task))
    y_test = _target_values(test_df[target], task)
    if task == "regression":
        return {"r2": float(r2_score(y_test, model.predict(test_df[features])))}
    return _classification_scores(y_test, model.predict_proba(test_df[features]), model.classes_)


def _target_values(series: pd.Series, task: Task) -> np.ndarray:
    if task == "classification":
        return category_labels(series).astype(str)
    return numeric_values(series)


def _classification_scores(
    y_test: np.ndarray, proba: np.ndarray, model_classes: np.ndarray
) -> dict[str, float]:
    labels, counts = np.unique(y_test, return_counts=True)
    # Probabilities of the test's classes; a class the model never saw gets probability 0.
    aligned = np.zeros((len(y_test), len(labels)))  # (n_test, n_test_classes)
    for j, label in enumerate(labels):
        hits = np.flatnonzero(model_classes == label)
        if hits.size:
            aligned[:, j] = proba[:, hits[0]]
    predicted = np.asarray(model_classes)[np.argmax(proba, axis=1)]
    if len(labels) < 2:
        return {"roc_auc": float("nan"), "f1": float(np.mean(predicted == y_test))}
    if len(labels) == 2:
        positive = labels[np.argmin(counts)]
        score = aligned[:, list(labels).index(positive)]
        return {
            "roc_auc": float(roc_auc_score(y_test == positive, score)),
            "f1": float(f1_score(y_test == positive, predicted == positive)),
        }
    totals = aligned.sum(axis=1, keepdims=True)
    aligned = np.where(totals > 0, aligned / np.where(totals > 0, totals, 1), 1 / len(labels))
    return {
        "roc_auc": float(roc_auc_score(y_test, aligned, multi_class="ovr", labels=labels)),
        "f1": float(f1_score(y_test, predicted, average="macro", labels=labels)),
    }


# -- registered metrics -----------------------------------------------------------------------


def _utility_pair(context: EvaluationContext) -> dict[str, dict[str, float]]:
    """Scores of the utility model trained on real and on synthetic rows (computed once)."""

    def compute() -> dict[str, dict[str, float]]:
        target, holdout = context.target, context.holdout
        kwargs = {
            "schema": context.schema,
            "random_state": context.random_state,
            "n_threads": context.n_threads,
        }
        return {
            "real": utility_scores(context.real, holdout, target, **kwargs),
            "synthetic": utility_scores(context.synthetic, holdout, target, **kwargs),
        }

    return context.cached("utility", compute)


def _main_score(scores: dict[str, float]) -> str:
    return "r2" if "r2" in scores else "roc_auc"


def _utility_details(scores: dict[str, float]) -> dict[str, Any]:
    return {"score": _main_score(scores), **{k: float(v) for k, v in scores.items()}}


@metric(
    "utility_real",
    group="utility",
    direction="higher",
    range=(-np.inf, 1.0),
    needs=("holdout", "target"),
    description="The fixed model trained on real rows, tested on the holdout: ROC AUC "
    "(classification) or R^2 (regression).",
)
def utility_real(context: EvaluationContext) -> Score:
    scores = _utility_pair(context)["real"]
    return Score(scores[_main_score(scores)], details=_utility_details(scores))


@metric(
    "utility_synthetic",
    group="utility",
    direction="higher",
    range=(-np.inf, 1.0),
    needs=("holdout", "target"),
    description="The same model trained on synthetic rows, tested on the holdout; baseline: "
    "utility_real.",
)
def utility_synthetic(context: EvaluationContext) -> Score:
    pair = _utility_pair(context)
    scores, key = pair["synthetic"], _main_score(pair["real"])
    return Score(scores[key], details={**_utility_details(scores), "baseline": pair["real"][key]})


@metric(
    "utility_gap",
    group="utility",
    direction="lower",
    range=(-np.inf, np.inf),
    ideal=0.0,
    needs=("holdout", "target"),
    description="utility_real - utility_synthetic (0: the synthetic rows teach as much as the real).",
)
def utility_gap(context: EvaluationContext) -> float:
    pair = _utility_pair(context)
    key = _main_score(pair["real"])
    return pair["real"][key] - pair["synthetic"][key]


@metric(
    "f1_real",
    group="utility",
    direction="higher",
    range=(0.0, 1.0),
    needs=("holdout", "target"),
    description="F1 of the model trained on real rows (classification only).",
)
def f1_real(context: EvaluationContext) -> float:
    return _utility_pair(context)["real"].get("f1", float("nan"))


@metric(
    "f1_synthetic",
    group="utility",
    direction="higher",
    range=(0.0, 1.0),
    needs=("holdout", "target"),
    description="F1 of the model trained on synthetic rows (classification only); baseline: "
    "f1_real.",
)
def f1_synthetic(context: EvaluationContext) -> Score:
    pair = _utility_pair(context)
    return Score(
        pair["synthetic"].get("f1", float("nan")),
        details={"baseline": pair["real"].get("f1", float("nan"))},
    )


__all__ = [
    "UTILITY_MODEL_PARAMS",
    "UtilityFeatures",
    "UtilityModel",
    "make_utility_model",
    "utility_scores",
]
