"""Tests of SyntheticAugmentedClassifier: the sampler's synthetic rows weighted in the fit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("imblearn")
# the estimator checks read __sklearn_tags__ and the tests use TunedThresholdClassifierCV: both
# scikit-learn >= 1.6 (the oldest claimed, 1.3.2, runs without this module's tests)
pytest.importorskip("sklearn", minversion="1.6")

from imblearn.over_sampling import RandomOverSampler  # noqa: E402
from imblearn.under_sampling import RandomUnderSampler  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import TunedThresholdClassifierCV  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from synthgan import InvalidDataError  # noqa: E402
from synthgan.augment import SyntheticAugmentedClassifier, SyntheticOverSampler  # noqa: E402
from tests.unit.augment.test_augment import tiny  # noqa: E402


def tiny_sampler(**params) -> SyntheticOverSampler:
    """A SyntheticOverSampler whose GAN fits in a fraction of a second on a hundred rows."""
    return SyntheticOverSampler(min_steps=None, synthesizer=tiny(batch_size=40), **params)


def binary_frame(n: int = 120, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    y = pd.Series(np.where(np.arange(n) % 4 == 0, "yes", "no"), name="answer")
    X = pd.DataFrame(
        {
            "score": rng.normal(size=n) + (y == "yes"),
            "city": rng.choice(["Berlin", "Paris", "Rome"], n),
        }
    )
    return X, y


def numeric_binary(n: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 5 == 0).astype(int)
    X = rng.normal(size=(n, 3)) + y[:, None]
    return X, y


class WeightRecorder(LogisticRegression):
    """LogisticRegression that keeps the rows and weights its fit saw (clone keeps the class)."""

    def fit(self, X, y, sample_weight=None):
        self.seen_rows_ = len(y)
        self.seen_weight_ = None if sample_weight is None else np.asarray(sample_weight)
        return super().fit(X, y, sample_weight=sample_weight)


def encoded(estimator):
    """``estimator`` after one-hot encoding binary_frame's city."""
    encode = ColumnTransformer(
        [("city", OneHotEncoder(handle_unknown="ignore"), ["city"])], remainder="passthrough"
    )
    return Pipeline([("encode", encode), ("model", estimator)])


# -- scikit-learn's own checks (with a fast sampler; the wrapper is what is checked) --------------


@parametrize_with_checks(
    [SyntheticAugmentedClassifier(LogisticRegression(), sampler=RandomOverSampler(random_state=0))]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# -- weights --------------------------------------------------------------------------------------


class TestWeights:
    def test_real_rows_weigh_one_and_synthetic_rows_synthetic_weight(self):
        X, y = binary_frame()  # 90 "no", 30 "yes"
        model = SyntheticAugmentedClassifier(
            encoded(WeightRecorder()), sampler=tiny_sampler(random_state=0), synthetic_weight=0.3
        ).fit(X, y)
        seen = model.estimator_.named_steps["model"]
        assert model.n_synthetic_ == 30 == sum(model.sampler_.sampling_strategy_.values())
        assert seen.seen_rows_ == 150
        np.testing.assert_array_equal(seen.seen_weight_, np.r_[np.ones(120), np.full(30, 0.3)])

    def test_weight_one_is_the_plain_oversampled_fit(self):
        X, y = numeric_binary()
        sampler = RandomOverSampler(random_state=0)
        model = SyntheticAugmentedClassifier(
            LogisticRegression(), sampler=sampler, synthetic_weight=1.0
        ).fit(X, y)
        X_res, y_res = clone(sampler).fit_resample(X, y)
        plain = LogisticRegression().fit(X_res, y_res)
        np.testing.assert_allclose(model.predict_proba(X), plain.predict_proba(X), rtol=1e-6)

    def test_weight_zero_is_the_real_rows_alone(self):
        X, y = numeric_binary()
        model = SyntheticAugmentedClassifier(
            LogisticRegression(tol=1e-10),
            sampler=RandomOverSampler(random_state=0),
            synthetic_weight=0.0,
        ).fit(X, y)
        real = LogisticRegression(tol=1e-10).fit(X, y)
        assert model.n_synthetic_ == 48
        np.testing.assert_allclose(model.predict_proba(X), real.predict_proba(X), atol=1e-4)

    def test_lower_weight_moves_probabilities_towards_the_real_prior(self):
        X, y = numeric_binary()
        sampler = RandomOverSampler(random_state=0)
        probas = [
            SyntheticAugmentedClassifier(LogisticRegression(), sampler=sampler, synthetic_weight=w)
            .fit(X, y)
            .predict_proba(X)[:, 1]
            .mean()
            for w in (0.0, 0.5, 1.0)
        ]
        assert probas[0] < probas[1] < probas[2]

    def test_a_pipeline_gets_the_weights_in_its_last_step(self):
        X, y = numeric_binary()
        model = SyntheticAugmentedClassifier(
            make_pipeline(StandardScaler(), WeightRecorder()),
            sampler=RandomOverSampler(random_state=0),
            synthetic_weight=0.25,
        ).fit(X, y)
        seen = model.estimator_.steps[-1][1]
        assert seen.seen_rows_ == len(y) + model.n_synthetic_
        assert set(seen.seen_weight_[: len(y)]) == {1.0}
        assert set(seen.seen_weight_[len(y) :]) == {0.25}


# -- delegation and scikit-learn's contract -------------------------------------------------------


class TestContract:
    def test_predictions_come_from_the_fitted_estimator(self):
        X, y = binary_frame()
        model = SyntheticAugmentedClassifier(
            encoded(HistGradientBoostingClassifier(max_iter=5)),
            sampler=tiny_sampler(random_state=0),
        ).fit(X, y)
        assert list(model.classes_) == ["no", "yes"]
        np.testing.assert_array_equal(model.predict(X), model.estimator_.predict(X))
        np.testing.assert_array_equal(model.predict_proba(X), model.estimator_.predict_proba(X))
        assert model.n_features_in_ == 2
        assert list(model.feature_names_in_) == ["score", "city"]

    def test_the_templates_are_never_fitted(self):
        X, y = binary_frame()
        estimator, sampler = encoded(WeightRecorder()), tiny_sampler(random_state=0)
        model = SyntheticAugmentedClassifier(estimator, sampler=sampler).fit(X, y)
        assert model.estimator_ is not estimator and model.sampler_ is not sampler
        assert not hasattr(estimator.named_steps["model"], "coef_")
        assert not hasattr(sampler, "synthesizer_")

    def test_params_reach_the_inner_estimator_and_sampler(self):
        model = SyntheticAugmentedClassifier(LogisticRegression(), sampler=tiny_sampler())
        params = model.get_params()
        assert params["synthetic_weight"] == 0.5
        assert params["estimator__C"] == 1.0
        assert params["sampler__max_synthetic_share"] == 0.5
        model.set_params(estimator__C=0.1, sampler__curation="confidence")
        copy = clone(model)
        assert copy.estimator.C == 0.1
        assert copy.sampler.curation == "confidence"

    def test_the_default_sampler_is_synthgans(self):
        model = SyntheticAugmentedClassifier(LogisticRegression())
        assert model.sampler is None
        assert isinstance(model._default_sampler(), SyntheticOverSampler)

    def test_works_under_threshold_tuning(self):
        X, y = binary_frame(160)
        model = SyntheticAugmentedClassifier(
            encoded(LogisticRegression()), sampler=tiny_sampler(random_state=0)
        )
        tuned = TunedThresholdClassifierCV(model, scoring="f1", cv=2, random_state=0)
        tuned.fit(X, (y == "yes").astype(int))
        assert 0.0 < tuned.best_threshold_ < 1.0
        assert tuned.predict_proba(X).shape == (160, 2)

    def test_predict_before_fit_is_an_error(self):
        X, _ = numeric_binary()
        model = SyntheticAugmentedClassifier(LogisticRegression())
        with pytest.raises(NotFittedError, match="not fitted"):
            model.predict(X)
        with pytest.raises(NotFittedError, match="not fitted"):
            model.predict_proba(X)

    def test_no_predict_proba_when_the_estimator_has_none(self):
        from sklearn.svm import LinearSVC

        model = SyntheticAugmentedClassifier(LinearSVC())
        assert not hasattr(model, "predict_proba")
        assert hasattr(model, "decision_function")


# -- bad input ------------------------------------------------------------------------------------


class TestErrors:
    def test_an_estimator_without_sample_weight_is_named(self):
        X, y = numeric_binary()
        model = SyntheticAugmentedClassifier(
            KNeighborsClassifier(), sampler=RandomOverSampler(random_state=0)
        )
        with pytest.raises(
            InvalidDataError, match=r"estimator: KNeighborsClassifier\.fit takes no sample_weight"
        ):
            model.fit(X, y)

    @pytest.mark.parametrize("bad", [np.nan, np.inf])
    def test_labels_that_are_not_finite_are_named_before_the_sampler_casts_them(self, bad):
        X, y = numeric_binary()
        y = y.astype(float)
        y[3] = bad
        model = SyntheticAugmentedClassifier(
            LogisticRegression(), sampler=RandomOverSampler(random_state=0)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # imbalanced-learn's cast warned before the error
            with pytest.raises(ValueError, match="Input y contains (NaN|infinity)"):
                model.fit(X, y)

    def test_labels_of_another_length_are_named(self):
        X, y = numeric_binary()
        model = SyntheticAugmentedClassifier(
            LogisticRegression(), sampler=RandomOverSampler(random_state=0)
        )
        with pytest.raises(InvalidDataError, match="X has 80 rows and y 79 labels"):
            model.fit(X, y[:-1])

    def test_a_pipeline_whose_last_step_takes_no_weights_is_named(self):
        X, y = numeric_binary()
        model = SyntheticAugmentedClassifier(
            make_pipeline(StandardScaler(), KNeighborsClassifier()),
            sampler=RandomOverSampler(random_state=0),
        )
        with pytest.raises(
            InvalidDataError, match=r"last step 'kneighborsclassifier' \(KNeighborsClassifier\)"
        ):
            model.fit(X, y)

    def test_a_pipeline_holding_a_sampler_is_refused(self):
        from imblearn.pipeline import make_pipeline as imblearn_pipeline

        X, y = numeric_binary()
        model = SyntheticAugmentedClassifier(
            imblearn_pipeline(RandomOverSampler(), LogisticRegression()),
            sampler=RandomOverSampler(random_state=0),
        )
        with pytest.raises(InvalidDataError, match="pipeline with a sampler.*Pass that sampler"):
            model.fit(X, y)

    def test_a_sampler_that_drops_real_rows_is_refused(self):
        X, y = numeric_binary()
        model = SyntheticAugmentedClassifier(
            LogisticRegression(), sampler=RandomUnderSampler(random_state=0)
        )
        with pytest.raises(InvalidDataError, match="did not return them first and in order"):
            model.fit(X, y)

    @pytest.mark.parametrize("weight", [-0.5, "half"])
    def test_synthetic_weight_must_be_a_non_negative_number(self, weight):
        X, y = numeric_binary()
        model = SyntheticAugmentedClassifier(
            LogisticRegression(), sampler=RandomOverSampler(), synthetic_weight=weight
        )
        with pytest.raises(ValueError, match="'synthetic_weight' parameter"):
            model.fit(X, y)

    def test_a_sampler_without_fit_resample_is_named(self):
        X, y = numeric_binary()
        model = SyntheticAugmentedClassifier(LogisticRegression(), sampler=StandardScaler())
        with pytest.raises(ValueError, match="'sampler' parameter"):
            model.fit(X, y)
