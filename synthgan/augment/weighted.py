"""SyntheticAugmentedClassifier: fit a classifier on real plus synthetic rows, the synthetic ones
weighted down.

imbalanced-learn's ``Pipeline`` cannot pass sample weights through a sampler: ``fit_resample``
returns only ``(X, y)`` (imbalanced-learn issue #457). This meta-estimator runs the sampler
itself, so it knows which rows are synthetic and can weight them.

It imports only scikit-learn and pandas; imbalanced-learn is needed only for the default
sampler, :class:`~synthgan.augment.SyntheticOverSampler`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    check_is_fitted,
    column_or_1d,
    has_fit_parameter,
)

from synthgan.augment.inputs import check_labels, num_rows
from synthgan.exceptions import InvalidDataError


def _estimator_has(name: str):
    """``available_if`` check: the fitted estimator (or, before fit, the given one) has ``name``."""

    def check(self: SyntheticAugmentedClassifier) -> bool:
        fitted = getattr(self, "estimator_", None)
        return hasattr(fitted if fitted is not None else self.estimator, name)

    return check


class SyntheticAugmentedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A classifier fitted on the real rows plus a sampler's synthetic rows, with the synthetic
    rows weighted ``synthetic_weight`` and the real ones 1.

    ``fit(X, y)`` runs ``sampler.fit_resample(X, y)`` on a clone of ``sampler``, then fits a clone
    of ``estimator`` on the result with ``sample_weight``: 1 for the first ``len(X)`` rows (the
    real ones: an over-sampler returns them first, in order, which is checked) and
    ``synthetic_weight`` for the rest. ``predict``, ``predict_proba``, ``decision_function`` and
    ``classes_`` come from the fitted estimator; at prediction time nothing is resampled.

    Use it where imbalanced-learn's ``Pipeline`` would hold the sampler: a ``Pipeline`` cannot
    weight rows by where they came from (imbalanced-learn issue #457).

    Parameters
    ----------
    estimator : classifier
        Cloned and fitted on the resampled rows. Its ``fit`` must take ``sample_weight``; for a
        scikit-learn ``Pipeline`` the weights go to its last step
        (``<last step>__sample_weight``), which must take them.
    sampler : object with ``fit_resample``, optional
        An over-sampler that returns ``X``'s rows first, unchanged and in order, then the new
        ones: :class:`~synthgan.augment.SyntheticOverSampler` (the default, with its defaults),
        and imbalanced-learn's ``RandomOverSampler``, ``SMOTE`` and ``SMOTENC`` do. Cloned on
        every fit.
    synthetic_weight : float >= 0, default=0.5
        The sample weight of each synthetic row; real rows weigh 1. 1 gives the plain
        oversampled fit; 0 the real rows alone (the synthetic ones are still drawn).

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``.
    sampler_ : object
        The fitted clone of ``sampler`` (e.g. its ``sampling_strategy_``).
    n_synthetic_ : int
        Synthetic rows the estimator was fitted on.
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when the estimator records them (fitted on a DataFrame with string column names).

    Notes
    -----
    Down-weighting synthetic rows is a lever with indirect evidence only (importance weighting
    of synthetic data, Ghalebikesabi et al., UAI 2022); its effect here is measured in
    docs/augment.md, not assumed.

    Examples
    --------
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from synthgan.augment import SyntheticAugmentedClassifier, SyntheticOverSampler
    >>> model = SyntheticAugmentedClassifier(
    ...     HistGradientBoostingClassifier(),
    ...     sampler=SyntheticOverSampler(curation="confidence", random_state=0),
    ...     synthetic_weight=0.5,
    ... )
    >>> model.fit(X, y).predict_proba(X_test)  # doctest: +SKIP
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "sampler": [HasMethods(["fit_resample"]), None],
        "synthetic_weight": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(self, estimator: Any, *, sampler: Any = None, synthetic_weight: float = 0.5):
        self.estimator = estimator
        self.sampler = sampler
        self.synthetic_weight = synthetic_weight

    def __sklearn_tags__(self):  # scikit-learn >= 1.6 calls it, and has get_tags
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.string = inner.input_tags.string
        tags.input_tags.categorical = inner.input_tags.categorical
        tags.input_tags.sparse = inner.input_tags.sparse and self.sampler is not None
        if self.sampler is not None:
            try:
                tags.input_tags.sparse &= get_tags(self.sampler).input_tags.sparse
            except (AttributeError, TypeError):  # a sampler without scikit-learn's tags
                tags.input_tags.sparse = False
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any) -> SyntheticAugmentedClassifier:
        """Resample ``(X, y)`` with the sampler, then fit the estimator with weights.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : SyntheticAugmentedClassifier

        Raises
        ------
        InvalidDataError
            When the estimator's fit takes no ``sample_weight``, or the sampler does not return
            ``X``'s rows first.
        """
        weight_param = _weight_parameter(self.estimator)
        sampler = self._default_sampler() if self.sampler is None else clone(self.sampler)
        if len(getattr(y, "shape", ())) == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # as scikit-learn's classifiers do
        n_real = num_rows(X, "X")
        check_labels(y, n_real)  # before the sampler, whose own checks warn or name no input
        X_res, y_res = sampler.fit_resample(X, y)
        _check_real_rows_first(y, y_res, n_real)
        n_synthetic = num_rows(y_res, "y") - n_real
        weights = np.concatenate(
            [np.ones(n_real), np.full(n_synthetic, float(self.synthetic_weight))]
        )
        estimator = clone(self.estimator)
        estimator.fit(X_res, y_res, **{weight_param: weights})
        self.sampler_ = sampler
        self.estimator_ = estimator
        self.n_synthetic_ = n_synthetic
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(estimator, name):
                setattr(self, name, getattr(estimator, name))
        return self

    @staticmethod
    def _default_sampler() -> Any:
        from synthgan.augment import SyntheticOverSampler  # says which extra when imblearn lacks

        return SyntheticOverSampler()

    @property
    def classes_(self) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return self.estimator_.classes_

    def predict(self, X: Any) -> np.ndarray:
        """The fitted estimator's ``predict(X)``."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> np.ndarray:
        """The fitted estimator's ``predict_proba(X)``, ndarray of shape (n, n_classes)."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The fitted estimator's ``predict_log_proba(X)``."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> np.ndarray:
        """The fitted estimator's ``decision_function(X)``."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)


def _weight_parameter(estimator: Any) -> str:
    """The keyword that carries sample weights to ``estimator.fit``: ``sample_weight``, or
    ``<last step>__sample_weight`` for a Pipeline."""
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps:
        for name, step in steps[:-1]:
            if hasattr(step, "fit_resample"):
                raise InvalidDataError(
                    f"estimator is a pipeline with a sampler (step {name!r}); the weights could "
                    "not follow its resampled rows. Pass that sampler as sampler= and the "
                    "pipeline without it as estimator=."
                )
        name, last = steps[-1]
        if last is not None and last != "passthrough" and has_fit_parameter(last, "sample_weight"):
            return f"{name}__sample_weight"
        what = f"the pipeline's last step {name!r} ({type(last).__name__})"
    else:
        if has_fit_parameter(estimator, "sample_weight"):
            return "sample_weight"
        what = type(estimator).__name__
    raise InvalidDataError(
        f"estimator: {what}.fit takes no sample_weight, so synthetic rows cannot be weighted. "
        "Use a classifier whose fit takes sample_weight (HistGradientBoostingClassifier, "
        "LogisticRegression, ...), or put the sampler in an imblearn Pipeline instead (all rows "
        "weigh the same there)."
    )


def _check_real_rows_first(y: Any, y_res: Any, n_real: int) -> None:
    """The sampler must return the real rows first, in order (checked on the labels)."""
    y_before, y_after = np.asarray(y), np.asarray(y_res)
    if len(y_after) < n_real or not np.array_equal(y_after[:n_real], y_before):
        raise InvalidDataError(
            f"sampler: {n_real} real rows went in, but the sampler's fit_resample did not return "
            "them first and in order (it removed or reordered rows), so the synthetic rows "
            "cannot be told apart. Use an over-sampler that keeps the original rows first, such "
            "as SyntheticOverSampler, RandomOverSampler, SMOTE or SMOTENC."
        )
