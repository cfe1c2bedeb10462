"""Tests of synthgan.augment: SyntheticOverSampler (imbalanced-learn's contract) and augment()."""

from __future__ import annotations

import sys
import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("imblearn")

from imblearn.pipeline import Pipeline  # noqa: E402
from imblearn.utils.estimator_checks import estimator_checks_generator  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import KFold, cross_validate  # noqa: E402

from synthgan import ColumnKind, InvalidDataError, Schema, Synthesizer  # noqa: E402
from synthgan.augment import SyntheticOverSampler, augment  # noqa: E402
from synthgan.augment.oversampler import _curation_floor  # noqa: E402
from synthgan.evaluate import make_utility_model  # noqa: E402
from synthgan.schema import ColumnSpec  # noqa: E402
from tests.conftest import make_mixed_frame  # noqa: E402

FIT_LOG: list[pd.DataFrame] = []
"""Every table a RecordingSynthesizer was fitted on, in order."""


class RecordingSynthesizer(Synthesizer):
    """A Synthesizer that records the rows each fit sees (clone keeps the class)."""

    def fit(self, data: pd.DataFrame, *, resume: bool = False) -> RecordingSynthesizer:
        FIT_LOG.append(data.copy())
        return super().fit(data, resume=resume)


def tiny(cls: type = Synthesizer, **params) -> Synthesizer:
    """A synthesizer that fits in a fraction of a second on a hundred rows. Without the row
    critic (rejection sampling: three quarters of such a fit's time, tested in
    tests/unit/model/test_selection.py); test_the_sampler_keeps_the_row_critic_when_asked keeps
    it, and the augmentation fuzz test uses the default."""
    settings = dict(
        rejection=False,
        epochs=1,
        batch_size=50,
        pac=5,
        embedding_dim=8,
        generator_dims=(16,),
        discriminator_dims=(16,),
        max_modes=2,
        device="cpu",
        verbose=False,
    )
    settings.update(params)
    return cls(**settings)


@pytest.fixture(autouse=True)
def clear_fit_log():
    FIT_LOG.clear()
    yield
    FIT_LOG.clear()


def three_classes(counts=(60, 30, 15), seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    n = sum(counts)
    labels = np.repeat(["a", "b", "c"], counts)
    X = pd.DataFrame(
        {
            "size": rng.normal(size=n) + (labels == "a"),
            "colour": rng.choice(["red", "green", "blue"], n),
        }
    )
    return X, pd.Series(labels, name="label")


def binary_frame(n: int = 120, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    y = pd.Series(np.where(np.arange(n) % 4 == 0, "yes", "no"), name="answer")
    X = pd.DataFrame(
        {
            # distinct non-whole floats: a continuous column that names every row
            "uid": np.arange(n) + 0.5,
            "score": rng.normal(size=n) + (y == "yes"),
            "city": rng.choice(["Berlin", "Paris", "Rome"], n),
        }
    )
    return X, y


# -- imbalanced-learn's own checks ----------------------------------------------------------------

EXPECTED_FAILED_CHECKS: dict[str, str] = {
    # At imbalanced-learn 0.14.2 with scikit-learn 1.9 every other sampler check passes,
    # check_samplers_pandas_sparse included (sparse DataFrame columns are densified for the GAN
    # and made sparse again on the way out). Sparse scipy matrices are refused with a clear
    # error, and the 'sparse' tag says so, so check_samplers_sparse is not run.
    "check_samplers_fit_resample": "by design: the default max_synthetic_share=0.5 stops 'auto' "
    "short of the majority's count (at most one synthetic row per real one); the check passes "
    "with the cap lifted (test_uncapped_auto_reaches_the_majority_count)",
}


def _imblearn_checks() -> list:
    sampler = SyntheticOverSampler(
        min_steps=None, synthesizer=tiny(batch_size=20, pac=5, max_modes=1), random_state=0
    )
    checks = list(
        estimator_checks_generator(
            sampler, expected_failed_checks=EXPECTED_FAILED_CHECKS, mark="xfail"
        )
    )
    # ids by check name: the default ids hold the template's repr, a memory address
    names = [(c.values if hasattr(c, "values") else c)[1].func.__name__ for c in checks]
    return [
        pytest.param(
            *(c.values if hasattr(c, "values") else c), id=name, marks=getattr(c, "marks", ())
        )
        for c, name in zip(checks, names)
    ]


@pytest.mark.parametrize(("estimator", "check"), _imblearn_checks())
def test_imblearn_estimator_checks(estimator, check):
    check(estimator)


def test_uncapped_auto_reaches_the_majority_count():
    from imblearn.utils.estimator_checks import check_samplers_fit_resample

    sampler = SyntheticOverSampler(
        min_steps=None,
        max_synthetic_share=None,
        synthesizer=tiny(batch_size=20, pac=5, max_modes=1),
        random_state=0,
    )
    check_samplers_fit_resample("SyntheticOverSampler", sampler)


# -- scikit-learn / imbalanced-learn pipelines ----------------------------------------------------


class TestPipeline:
    def test_cross_validate_refits_the_sampler_on_each_training_fold(self):
        X, y = binary_frame(120)
        template = tiny(RecordingSynthesizer)
        pipe = Pipeline(
            [
                (
                    "augment",
                    SyntheticOverSampler(min_steps=None, synthesizer=template, random_state=0),
                ),
                ("model", make_utility_model("classification")),
            ]
        )
        cv = KFold(3, shuffle=True, random_state=0)
        result = cross_validate(
            pipe,
            X,
            y,
            cv=cv,
            scoring=lambda est, X_, y_: float(np.mean(est.predict(X_) == np.asarray(y_))),
            return_indices=True,
            return_estimator=True,
        )
        assert len(FIT_LOG) == 3
        for seen, train, test in zip(
            FIT_LOG, result["indices"]["train"], result["indices"]["test"]
        ):
            seen_uids = set(seen["uid"])
            assert seen_uids == set(X["uid"].iloc[train])
            assert seen_uids.isdisjoint(X["uid"].iloc[test])
            assert Counter(seen["answer"]) == Counter(y.iloc[train])
        # the template itself is never fitted; each fold's pipeline holds its own fitted clone
        assert not hasattr(template, "transformer_")
        fitted = [est.named_steps["augment"].synthesizer_ for est in result["estimator"]]
        assert len({id(model) for model in fitted}) == 3
        assert all(model is not template for model in fitted)

    def test_reusing_a_fitted_synthesizer_is_an_explicit_opt_in(self):
        X, y = binary_frame(120)
        fitted = tiny(RecordingSynthesizer).fit(X.assign(answer=y))
        FIT_LOG.clear()
        sampler = SyntheticOverSampler(min_steps=None, synthesizer=fitted, refit_synthesizer=False)
        X_res, y_res = sampler.fit_resample(X, y)
        assert FIT_LOG == []
        assert sampler.synthesizer_ is fitted
        assert sampler.fit_params_ == {}
        assert Counter(y_res) == {"no": 90, "yes": 60}  # capped: one synthetic row per real one

    def test_reuse_needs_a_fitted_synthesizer(self):
        X, y = binary_frame(120)
        sampler = SyntheticOverSampler(min_steps=None, synthesizer=tiny(), refit_synthesizer=False)
        with pytest.raises(
            NotFittedError, match="refit_synthesizer=False needs an already fitted synthesizer"
        ):
            sampler.fit_resample(X, y)

    def test_reuse_needs_the_same_columns(self):
        X, y = binary_frame(120)
        fitted = tiny().fit(X.drop(columns="city").assign(answer=y))
        sampler = SyntheticOverSampler(min_steps=None, synthesizer=fitted, refit_synthesizer=False)
        with pytest.raises(InvalidDataError, match=r"lacks the column\(s\) 'city'"):
            sampler.fit_resample(X, y)


# -- class counts ---------------------------------------------------------------------------------


class TestClassCounts:
    @pytest.mark.parametrize(
        ("strategy", "expected"),
        [
            ("auto", {"a": 60, "b": 60, "c": 60}),
            ("not majority", {"a": 60, "b": 60, "c": 60}),
            ("all", {"a": 60, "b": 60, "c": 60}),
            ("minority", {"a": 60, "b": 30, "c": 60}),
            ("not minority", {"a": 60, "b": 60, "c": 15}),
            ({"b": 45, "c": 40}, {"a": 60, "b": 45, "c": 40}),
            (lambda y: {"c": 21}, {"a": 60, "b": 30, "c": 21}),
        ],
        ids=["auto", "not-majority", "all", "minority", "not-minority", "dict", "callable"],
    )
    def test_counts_match_the_strategy_exactly_without_the_cap(self, strategy, expected):
        X, y = three_classes()
        sampler = SyntheticOverSampler(
            min_steps=None,
            max_synthetic_share=None,
            sampling_strategy=strategy,
            synthesizer=tiny(),
            random_state=0,
        )
        X_res, y_res = sampler.fit_resample(X, y)
        assert dict(Counter(y_res)) == expected
        assert len(X_res) == len(y_res)
        # the original rows come first, unchanged
        pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X)
        pd.testing.assert_series_equal(y_res.iloc[: len(y)], y)

    def test_the_sampler_keeps_the_row_critic_when_asked(self):
        """tiny() leaves rejection sampling out; the default synthesizer has it, and its
        selected rows still arrive, class by class, behind the real ones."""
        X, y = binary_frame(120)  # 90 "no", 30 "yes"
        sampler = SyntheticOverSampler(
            min_steps=None, synthesizer=tiny(rejection=True), random_state=0
        )
        X_res, y_res = sampler.fit_resample(X, y)
        assert sampler.synthesizer_.row_critic_ is not None
        assert dict(Counter(y_res)) == {"no": 90, "yes": 60}
        pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X)

    def test_float_ratio_for_a_binary_target(self):
        X, y = binary_frame(120)  # 90 "no", 30 "yes"
        sampler = SyntheticOverSampler(
            min_steps=None, sampling_strategy=0.6, synthesizer=tiny(), random_state=0
        )
        _, y_res = sampler.fit_resample(X, y)
        assert dict(Counter(y_res)) == {"no": 90, "yes": 54}

    @pytest.mark.parametrize(
        ("multiplier", "expected"),
        [
            (1, {"a": 60, "b": 30, "c": 16}),
            (2, {"a": 120, "b": 60, "c": 32}),
            (1.5, {"a": 90, "b": 45, "c": 24}),
        ],
    )
    def test_multiplier_grows_every_class(self, multiplier, expected):
        X, y = three_classes((60, 30, 16))
        sampler = SyntheticOverSampler(
            min_steps=None, multiplier=multiplier, synthesizer=tiny(), random_state=0
        )
        _, y_res = sampler.fit_resample(X, y)
        assert dict(Counter(y_res)) == expected

    def test_the_default_cap_adds_at_most_one_synthetic_row_per_real_one(self):
        X, y = three_classes()  # 60, 30, 15
        sampler = SyntheticOverSampler(min_steps=None, synthesizer=tiny(), random_state=0)
        _, y_res = sampler.fit_resample(X, y)
        assert dict(Counter(y_res)) == {"a": 60, "b": 60, "c": 30}
        assert sampler.sampling_strategy_ == {"b": 30, "c": 15}

    @pytest.mark.parametrize(
        ("share", "expected"),
        [(0.2, {"a": 60, "b": 37, "c": 18}), (0.75, {"a": 60, "b": 60, "c": 60})],
    )
    def test_max_synthetic_share_caps_each_class(self, share, expected):
        X, y = three_classes()
        sampler = SyntheticOverSampler(
            min_steps=None, max_synthetic_share=share, synthesizer=tiny(), random_state=0
        )
        X_res, y_res = sampler.fit_resample(X, y)
        assert dict(Counter(y_res)) == expected
        assert len(X_res) == len(y_res)

    def test_the_cap_applies_to_a_multiplier_too(self):
        X, y = three_classes((60, 30, 16))
        sampler = SyntheticOverSampler(
            min_steps=None, multiplier=3, synthesizer=tiny(), random_state=0
        )
        _, y_res = sampler.fit_resample(X, y)
        assert dict(Counter(y_res)) == {"a": 120, "b": 60, "c": 32}

    @pytest.mark.parametrize("share", [0, 1, 1.5])
    def test_max_synthetic_share_outside_zero_one_is_an_error(self, share):
        X, y = three_classes()
        with pytest.raises(ValueError, match="'max_synthetic_share' parameter"):
            SyntheticOverSampler(max_synthetic_share=share).fit_resample(X, y)

    def test_synthetic_rows_are_conditioned_on_their_class(self):
        X, y = three_classes()
        sampler = SyntheticOverSampler(min_steps=None, synthesizer=tiny(), random_state=0)
        sampler.fit_resample(X, y)
        rows = sampler.synthesizer_.sample(40, {sampler.target_column_: "c"}, random_state=1)
        assert sampler.target_column_ == "label"
        assert set(rows["label"]) == {"c"}

    def test_the_target_stays_discrete_whatever_the_template_schema_says(self):
        X, y = binary_frame(120)
        schema = Schema((ColumnSpec("answer", ColumnKind.INTEGER),))
        sampler = SyntheticOverSampler(
            min_steps=None, synthesizer=tiny(schema=schema), random_state=0
        )
        _, y_res = sampler.fit_resample(X, (y == "yes").astype(int).rename("answer"))
        assert sampler.synthesizer_.transformer_.schema_.kind("answer") is ColumnKind.DISCRETE
        assert dict(Counter(y_res)) == {0: 90, 1: 60}

    def test_a_template_schema_ignoring_a_feature_is_an_error(self):
        X, y = binary_frame(120)
        schema = Schema((ColumnSpec("city", ColumnKind.IGNORED),))
        sampler = SyntheticOverSampler(
            min_steps=None, synthesizer=tiny(schema=schema), random_state=0
        )
        with pytest.raises(InvalidDataError, match=r"lacks the column\(s\) 'city'"):
            sampler.fit_resample(X, y)

    def test_multiplier_and_strategy_together_is_an_error(self):
        X, y = three_classes()
        sampler = SyntheticOverSampler(min_steps=None, sampling_strategy="minority", multiplier=2)
        with pytest.raises(InvalidDataError, match="Give either sampling_strategy='minority'"):
            sampler.fit_resample(X, y)

    def test_multiplier_below_one_is_an_error(self):
        X, y = three_classes()
        with pytest.raises(ValueError, match="The 'multiplier' parameter of SyntheticOverSampler"):
            SyntheticOverSampler(min_steps=None, multiplier=0.5).fit_resample(X, y)

    def test_one_class_is_an_error(self):
        X, y = three_classes()
        with pytest.raises(ValueError, match="needs to have more than 1 class"):
            SyntheticOverSampler(min_steps=None, synthesizer=tiny()).fit_resample(
                X, np.zeros(len(X))
            )

    @pytest.mark.parametrize("method", ["fit", "fit_resample"])
    @pytest.mark.parametrize(
        "labels, message",
        [
            ("strings with None", "Input y contains NaN: 1 missing label.*first at row 7"),
            ("floats with NaN", "Input y contains NaN: 1 missing label.*first at row 7"),
            ("floats with inf", "Input y contains infinity: 1 infinite label.*first at row 7"),
        ],
    )
    def test_a_missing_or_infinite_label_is_named_with_its_row(self, labels, message, method):
        X, y = three_classes()
        if labels == "strings with None":
            y = y.astype(object)
            y[7] = None
        else:
            y = pd.Series(pd.factorize(y)[0].astype(float), name="label")
            y[7] = np.nan if labels == "floats with NaN" else np.inf
        sampler = SyntheticOverSampler(min_steps=None, synthesizer=tiny())
        with warnings.catch_warnings():
            # before, imbalanced-learn's checks warned on the cast, or sorting None raised a
            # TypeError that named no input
            warnings.simplefilter("error")
            with pytest.raises(InvalidDataError, match=message):
                getattr(sampler, method)(X, y)

    @pytest.mark.parametrize("method", ["fit", "fit_resample"])
    @pytest.mark.parametrize(
        "case, message",
        [
            ("fewer labels than rows", r"X has 105 rows and y 100 labels: give one label per row"),
            ("text and numbers", r"y mixes text labels with int labels \(first at row 7\)"),
            ("a name twice", r"Duplicate column names: 'size'"),
            ("a number among the names", r"Column names must be strings; got \[0\]"),
        ],
    )
    def test_mismatched_inputs_are_named(self, case, message, method):
        X, y = three_classes()
        if case == "fewer labels than rows":
            y = y[:100]
        elif case == "text and numbers":
            y = y.astype(object)
            y[7] = 3
        elif case == "a name twice":
            X = pd.concat([X, X[["size"]]], axis=1)
        else:  # scikit-learn raised a TypeError on names of mixed types
            X = X.rename(columns={"colour": 0})
        sampler = SyntheticOverSampler(min_steps=None, synthesizer=tiny())
        with pytest.raises(InvalidDataError, match=message):
            getattr(sampler, method)(X, y)

    def test_a_class_named_inf_is_a_class(self):
        X, y = three_classes()
        y = y.replace({"c": "inf"})
        sampler = SyntheticOverSampler(min_steps=None, synthesizer=tiny(), random_state=0)
        X_res, y_res = sampler.fit_resample(X, y)
        assert "inf" in set(y_res) and len(y_res) > len(y)


# -- input forms ----------------------------------------------------------------------------------


class TestInputs:
    def test_mixed_type_dataframe_keeps_columns_and_dtypes(self):
        X = make_mixed_frame(150, nulls=True)
        y = pd.Series(pd.Categorical(np.where(np.arange(150) % 3 == 0, "rare", "common")))
        sampler = SyntheticOverSampler(min_steps=None, synthesizer=tiny(), random_state=0)
        X_res, y_res = sampler.fit_resample(X, y)
        assert list(X_res.columns) == list(X.columns)
        pd.testing.assert_series_equal(X_res.dtypes, X.dtypes)
        assert isinstance(y_res, pd.Series) and y_res.dtype == y.dtype
        assert Counter(y_res) == {"common": 100, "rare": 100}
        assert isinstance(X_res.index, pd.RangeIndex)
        synthetic = X_res.iloc[150:]
        assert set(synthetic["city"].dropna()) <= set(X["city"].dropna())
        assert set(synthetic["grade"].dropna()) <= set(X["grade"].dropna())

    def test_dataframe_categorical_features_make_columns_discrete(self):
        X, y = binary_frame(120)
        X = X.assign(code=np.random.default_rng(0).choice([3, 7, 11], 120))
        sampler = SyntheticOverSampler(
            min_steps=None, categorical_features=["code"], synthesizer=tiny(), random_state=0
        )
        X_res, _ = sampler.fit_resample(X, y)
        assert X_res["code"].dtype == X["code"].dtype
        assert set(X_res["code"]) <= {3, 7, 11}

    def test_numpy_with_categorical_features(self):
        rng = np.random.default_rng(0)
        n = 120
        X = np.empty((n, 3), dtype=object)
        X[:, 0] = rng.normal(size=n)
        X[:, 1] = rng.choice(["red", "green"], n)
        X[:, 2] = rng.choice([10, 20, 30], n)
        y = np.where(np.arange(n) % 4 == 0, 1, 0)
        by_index = SyntheticOverSampler(
            min_steps=None, categorical_features=[1, 2], synthesizer=tiny(), random_state=0
        )
        X_res, y_res = by_index.fit_resample(X, y)
        assert X_res.dtype == object and X_res.shape == (150, 3)  # 30 ones + 30 (capped)
        assert isinstance(y_res, np.ndarray) and y_res.dtype == y.dtype
        synthetic = X_res[n:]
        assert set(synthetic[:, 1]) <= {"red", "green"}
        assert set(synthetic[:, 2]) <= {10, 20, 30}
        assert all(isinstance(v, float) for v in synthetic[:, 0])
        by_mask = SyntheticOverSampler(
            min_steps=None,
            categorical_features=[False, True, True],
            synthesizer=tiny(),
            random_state=0,
        )
        X_mask, _ = by_mask.fit_resample(X, y)
        np.testing.assert_array_equal(X_mask, X_res)

    def test_numpy_string_columns_are_categorical_by_default(self):
        rng = np.random.default_rng(0)
        X = np.empty((100, 2), dtype=object)
        X[:, 0] = rng.normal(size=100)
        X[:, 1] = rng.choice(["u", "v"], 100)
        y = np.arange(100) % 5 == 0
        X_res, y_res = SyntheticOverSampler(
            min_steps=None, synthesizer=tiny(), random_state=0
        ).fit_resample(X, y)
        assert set(X_res[100:, 1]) <= {"u", "v"}
        assert y_res.dtype == bool and Counter(y_res) == {False: 80, True: 40}

    @pytest.mark.parametrize("dtype", ["float32", "int64"])
    def test_numeric_arrays_keep_their_dtype(self, dtype):
        rng = np.random.default_rng(0)
        X = (rng.normal(size=(100, 2)) * 10).astype(dtype)
        y = (np.arange(100) % 5 == 0).astype("int32")
        X_res, y_res = SyntheticOverSampler(
            min_steps=None, synthesizer=tiny(), random_state=0
        ).fit_resample(X, y)
        assert X_res.dtype == X.dtype and y_res.dtype == y.dtype
        assert X_res.shape == (120, 2)  # 20 minority rows, 20 synthetic (capped)

    def test_non_numeric_column_needs_categorical_features(self):
        X = np.array([[1.0, "a"], [2.0, "b"]] * 30, dtype=object)
        y = np.array([0, 1] * 30)
        sampler = SyntheticOverSampler(min_steps=None, categorical_features=[], synthesizer=tiny())
        with pytest.raises(
            InvalidDataError,
            match=r"Column 1 of X holds non-numeric values such as 'a'\. Mark it categorical, "
            r"e\.g\. categorical_features=\[1\]",
        ):
            sampler.fit_resample(X, y)

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            ([True, False], "boolean mask of length 2, but X has 3 columns"),
            ([5], "categorical_features holds 5, not a column of X"),
            (["colour"], "Column 'colour' is not in the X. Did you mean 'color'"),
        ],
    )
    def test_bad_categorical_features(self, spec, message):
        X = pd.DataFrame(
            {"size": np.arange(60) + 0.5, "color": ["r", "g"] * 30, "n": np.arange(60)}
        )
        y = np.arange(60) % 3 == 0
        sampler = SyntheticOverSampler(
            min_steps=None, categorical_features=spec, synthesizer=tiny()
        )
        with pytest.raises(InvalidDataError, match=message):
            sampler.fit_resample(X, y)

    def test_sparse_matrix_is_refused(self):
        from scipy import sparse

        X = sparse.csr_matrix(np.eye(60))
        y = np.arange(60) % 3 == 0
        with pytest.raises(InvalidDataError, match="does not take sparse matrices"):
            SyntheticOverSampler(min_steps=None, synthesizer=tiny()).fit_resample(X, y)


class TestSmallTables:
    @pytest.mark.parametrize(("n", "batch_size", "pac"), [(20, 10, 5), (48, 20, 10), (30, 14, 7)])
    def test_batch_size_and_pac_shrink_to_fit_the_table(self, n, batch_size, pac):
        X, y = binary_frame(n)
        sampler = SyntheticOverSampler(
            min_steps=None, synthesizer=tiny(batch_size=500, pac=10), random_state=0
        )
        X_res, y_res = sampler.fit_resample(X, y)
        assert sampler.fit_params_ == {"epochs": 1, "batch_size": batch_size, "pac": pac}
        minority = int((y == "yes").sum())
        assert Counter(y_res)["yes"] == 2 * minority and len(X_res) == len(y_res)

    @pytest.mark.parametrize("n", [2, 3])
    def test_two_or_three_rows_train_on_batches_of_two(self, n):
        # the batch was 1 row, and the generator's batch normalisation raised a torch ValueError
        X = pd.DataFrame({"score": np.arange(n, dtype=float)})
        y = pd.Series(["yes", "no", "no"][:n], name="answer")
        sampler = SyntheticOverSampler(min_steps=None, synthesizer=tiny(), random_state=0)
        X_res, y_res = sampler.fit_resample(X, y)
        assert sampler.fit_params_["batch_size"] == 2 and sampler.fit_params_["pac"] == 1
        assert Counter(y_res)["yes"] >= 1 and len(X_res) == len(y_res) >= n

    def test_a_table_of_twice_the_batch_keeps_it(self):
        X, y = binary_frame(100)
        sampler = SyntheticOverSampler(
            min_steps=None, synthesizer=tiny(batch_size=50, pac=5), random_state=0
        )
        sampler.fit_resample(X, y)
        assert sampler.fit_params_ == {"epochs": 1, "batch_size": 50, "pac": 5}

    def test_sampler_batch_size_overrides_the_template(self):
        X, y = binary_frame(100)
        sampler = SyntheticOverSampler(
            min_steps=None, synthesizer=tiny(), batch_size=40, pac=10, random_state=0
        )
        sampler.fit_resample(X, y)
        assert sampler.synthesizer_.batch_size == 40 and sampler.synthesizer_.pac == 10

    def test_min_steps_raises_the_epochs_of_a_small_table(self):
        X, y = binary_frame(100)  # batch 50: two steps an epoch
        sampler = SyntheticOverSampler(min_steps=50, synthesizer=tiny(), random_state=0)
        sampler.fit_resample(X, y)
        assert sampler.fit_params_["epochs"] == 25
        assert sampler.synthesizer_.epochs_trained_ == 25

    def test_min_steps_leaves_enough_epochs_alone(self):
        X, y = binary_frame(100)
        sampler = SyntheticOverSampler(min_steps=4, synthesizer=tiny(epochs=3), random_state=0)
        sampler.fit_resample(X, y)
        assert sampler.fit_params_["epochs"] == 3

    def test_a_template_training_auto_steps_still_shrinks_its_batch(self):
        from synthgan import Synthesizer
        from synthgan.augment.tables import prepared_synthesizer

        template = Synthesizer(random_state=0)  # epochs="auto", batch 500, pac 10
        prepared = prepared_synthesizer(template, {}, n_rows=48, min_steps=500)
        assert (prepared.epochs, prepared.batch_size, prepared.pac) == ("auto", 20, 10)
        assert template.batch_size == 500  # the template itself is left as it was

    def test_twenty_rows_with_the_default_template(self):
        X, y = binary_frame(20)  # 5 "yes"
        sampler = SyntheticOverSampler(epochs=1, min_steps=None, random_state=0)
        X_res, y_res = sampler.fit_resample(X, y)
        assert Counter(y_res) == {"no": 15, "yes": 10}
        assert sampler.fit_params_ == {"epochs": 1, "batch_size": 10, "pac": 5}
        assert list(X_res.columns) == list(X.columns)


class TestCuration:
    class ScoreThreshold:
        """A stand-in classifier: P(yes) is 0.9 when score > 0.5, else 0.05."""

        classes_ = np.array(["no", "yes"])

        def fit(self, X, y):
            return self

        def predict_proba(self, X):
            yes = np.where(X["score"].to_numpy() > 0.5, 0.9, 0.05)
            return np.column_stack([1 - yes, yes])

        def get_params(self, deep=True):
            return {}

        def set_params(self, **params):
            return self

    def test_kept_rows_are_those_the_classifier_finds_typical_of_their_class(self):
        X, y = binary_frame(120)  # base rate of "yes": 0.25, so kept rows need P(yes) >= 0.5
        sampler = SyntheticOverSampler(
            min_steps=None,
            curation="confidence",
            curation_estimator=self.ScoreThreshold(),
            synthesizer=tiny(),
            random_state=0,
        )
        X_res, y_res = sampler.fit_resample(X, y)
        synthetic = X_res.iloc[len(X) :]
        assert len(synthetic) == 30 and Counter(y_res) == {"no": 90, "yes": 60}
        assert (synthetic["score"] > 0.5).all()
        facts = sampler.curation_["yes"]
        assert facts["added"] == 30 and facts["kept"] >= 30 and facts["drawn"] >= facts["kept"]

    def test_a_class_with_too_few_kept_rows_gets_fewer(self):
        X, y = binary_frame(120)
        sampler = SyntheticOverSampler(
            min_steps=None,
            curation="confidence",
            curation_threshold=10,  # P(yes) >= min(2.5, 1 - 0.75 / 10) = 0.925: never
            curation_estimator=self.ScoreThreshold(),
            synthesizer=tiny(),
            random_state=0,
        )
        X_res, y_res = sampler.fit_resample(X, y)
        assert len(X_res) == len(X) and Counter(y_res) == Counter(y)
        assert sampler.sampling_strategy_ == {"yes": 0}
        assert sampler.curation_["yes"] == {"drawn": 600, "kept": 0, "added": 0}

    def test_a_common_class_is_kept_by_the_floor_on_the_other_classes(self):
        X, y = binary_frame(120)  # "no" holds three quarters: twice its share is out of reach
        sampler = SyntheticOverSampler(
            sampling_strategy={"no": 120, "yes": 30},
            min_steps=None,
            curation="confidence",
            curation_threshold=2,  # P(no) >= min(1.5, 1 - 0.25 / 2) = 0.875
            curation_estimator=self.ScoreThreshold(),
            synthesizer=tiny(),
            random_state=0,
        )
        X_res, y_res = sampler.fit_resample(X, y)
        synthetic = X_res.iloc[len(X) :]
        assert len(synthetic) == 30 and Counter(y_res) == {"no": 120, "yes": 30}
        assert (synthetic["score"] <= 0.5).all()  # P(no) 0.95 there, 0.1 elsewhere

    @pytest.mark.parametrize(
        ("threshold", "share", "floor"),
        [
            (1.0, 0.3, 0.3),
            (0.5, 0.4, 0.2),
            (2.0, 0.1, 0.2),
            (2.0, 1 / 3, 2 / 3),  # where the two floors meet
            (2.0, 0.5, 0.75),
            (2.0, 0.9, 0.95),
            (2.0, 1.0, 1.0),
            (10.0, 0.25, 0.925),
        ],
    )
    def test_floor(self, threshold, share, floor):
        assert _curation_floor(threshold, share) == pytest.approx(floor)

    def test_floor_is_below_one_for_every_class_short_of_all_rows(self):
        shares = np.linspace(0.001, 0.999, 999)
        for threshold in (1.0, 1.5, 2.0, 10.0, 1e6):
            floors = np.array([_curation_floor(threshold, share) for share in shares])
            assert (floors < 1).all() and (floors >= shares).all()
            assert (np.diff(floors) > 0).all()

    def test_default_classifier_and_reproducible(self):
        X, y = three_classes()
        kwargs = dict(min_steps=None, curation="confidence", synthesizer=tiny(), random_state=2)
        first = SyntheticOverSampler(**kwargs).fit_resample(X, y)
        again = SyntheticOverSampler(**kwargs).fit_resample(X, y)
        pd.testing.assert_frame_equal(first[0], again[0])
        pd.testing.assert_series_equal(first[1], again[1])

    def test_unknown_curation_is_an_error(self):
        X, y = three_classes()
        with pytest.raises(ValueError, match="'curation' parameter"):
            SyntheticOverSampler(curation="critic").fit_resample(X, y)


class TestRedraw:
    """redraw_share: synthetic rows start from real rows of their class."""

    @staticmethod
    def cells_from_nearest_real_row(synthetic: pd.DataFrame, real: pd.DataFrame) -> np.ndarray:
        """Per synthetic row, how many cells differ from the real row nearest in that count
        (two nulls are equal)."""
        a = synthetic.astype(object).to_numpy()[:, None, :]
        b = real.astype(object).to_numpy()[None, :, :]
        same = (a == b) | (pd.isna(a) & pd.isna(b))
        return (~same).sum(axis=2).min(axis=1)

    @pytest.mark.parametrize("class_models", ["pooled", "per_class"])
    def test_a_small_share_changes_one_cell_of_a_real_row_of_the_class(self, class_models):
        X, y = three_classes()
        sampler = SyntheticOverSampler(
            synthesizer=tiny(), min_steps=None, redraw_share=1e-9, class_models=class_models,
            random_state=0,
        )  # fmt: skip
        X_res, y_res = sampler.fit_resample(X, y)
        kept_sizes = []
        for cls in ("b", "c"):
            mine = (y_res == cls).to_numpy() & (np.arange(len(y_res)) >= len(X))
            differ = self.cells_from_nearest_real_row(X_res[mine], X[y == cls])
            assert mine.sum() > 0 and (differ <= 1).all()  # one cell drawn anew at most
            kept_sizes.append(X_res["size"][mine].isin(X["size"][y == cls]).to_numpy())
        # the cell drawn anew is either column: the rows whose colour was keep their real size
        # (and a model of a class's few rows can draw a real size again)
        assert 0.25 < np.concatenate(kept_sizes).mean() < 1.0
        if class_models == "pooled":  # whole rows of the pooled model keep no real size
            whole = SyntheticOverSampler(synthesizer=tiny(), min_steps=None, random_state=0)
            X_whole, _ = whole.fit_resample(X, y)
            assert not X_whole["size"].iloc[len(X) :].isin(X["size"]).any()

    def test_all_cells_redrawn_keeps_counts_dtypes_and_reproducibility(self):
        X, y = three_classes()
        runs = [
            SyntheticOverSampler(synthesizer=tiny(), min_steps=None, redraw_share=1.0,
                                 random_state=3).fit_resample(X, y)  # fmt: skip
            for _ in range(2)
        ]
        X_res, y_res = runs[0]
        assert Counter(y_res) == {"a": 60, "b": 60, "c": 30}
        assert list(X_res.dtypes) == list(X.dtypes) and X_res.notna().all().all()
        pd.testing.assert_frame_equal(runs[0][0], runs[1][0])

    def test_a_null_cell_not_drawn_anew_stays_null(self):
        X, y = three_classes()
        X.loc[y == "c", "colour"] = None  # every real row of c lacks its colour
        sampler = SyntheticOverSampler(synthesizer=tiny(), min_steps=None, redraw_share=1e-9,
                                       random_state=0)  # fmt: skip
        X_res, y_res = sampler.fit_resample(X, y)
        new_c = X_res.iloc[len(X) :][(y_res.iloc[len(X) :] == "c").to_numpy()]
        changed_size = (new_c["size"].to_numpy()[:, None] != X["size"][y == "c"].to_numpy()).all(1)
        # a row whose size was drawn anew kept its null colour; one whose colour was drew one
        assert new_c["colour"][changed_size].isna().all()
        assert new_c["colour"][~changed_size].notna().all()

    def test_with_curation(self):
        X, y = binary_frame(120)
        sampler = SyntheticOverSampler(
            synthesizer=tiny(), min_steps=None, redraw_share=0.5, curation="confidence",
            curation_estimator=TestCuration.ScoreThreshold(), random_state=0,
        )  # fmt: skip
        X_res, _ = sampler.fit_resample(X, y)
        assert (X_res.iloc[len(X) :]["score"] > 0.5).all()

    @pytest.mark.parametrize("share", [0, -0.1, 1.5])
    def test_a_share_outside_zero_one_is_an_error(self, share):
        X, y = three_classes()
        with pytest.raises(ValueError, match="'redraw_share' parameter"):
            SyntheticOverSampler(redraw_share=share).fit_resample(X, y)


class TestPerClassModels:
    @staticmethod
    def sampler(synthesizer: Synthesizer | None = None, **params) -> SyntheticOverSampler:
        """A seeded per-class sampler of ``synthesizer`` (default: tiny()), epochs as given."""
        settings = {"min_steps": None, "class_models": "per_class", "random_state": 0, **params}
        return SyntheticOverSampler(synthesizer=synthesizer or tiny(), **settings)

    def test_each_grown_class_gets_a_model_of_its_own_rows(self):
        X, y = three_classes()  # a: 60, b: 30, c: 15; "auto" grows b and c
        sampler = self.sampler(tiny(RecordingSynthesizer))
        X_res, y_res = sampler.fit_resample(X, y)
        assert Counter(y_res) == {"a": 60, "b": 60, "c": 30}
        assert [len(table) for table in FIT_LOG] == [30, 15]
        assert all(list(table.columns) == ["size", "colour"] for table in FIT_LOG)
        pd.testing.assert_frame_equal(FIT_LOG[1], X[y == "c"].reset_index(drop=True))
        assert set(sampler.synthesizer_) == {"b", "c"}
        assert set(sampler.fit_params_) == {"b", "c"}
        pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X)
        assert list(X_res.dtypes) == list(X.dtypes)

    def test_a_class_model_learns_its_class_alone(self):
        # "size" is about 1 higher in class a: rows of b and c come from their own models
        X, y = three_classes(counts=(200, 100, 100))
        sampler = self.sampler(tiny(max_modes=1), min_steps=200, sampling_strategy={"b": 200})
        X_res, y_res = sampler.fit_resample(X, y)
        synthetic_b = X_res.iloc[len(X) :]["size"]
        assert len(synthetic_b) == 100 and set(y_res[len(X) :]) == {"b"}
        assert abs(synthetic_b.mean() - X["size"][y == "b"].mean()) < 0.5

    def test_a_fitted_dict_is_reused(self):
        X, y = three_classes()
        first = self.sampler(random_state=1)
        first.fit_resample(X, y)
        again = SyntheticOverSampler(
            class_models="per_class", synthesizer=first.synthesizer_, refit_synthesizer=False,
            random_state=1,
        )  # fmt: skip
        _, labels = again.fit_resample(X, y)
        assert again.synthesizer_ is first.synthesizer_ and again.fit_params_ == {}
        assert Counter(labels) == {"a": 60, "b": 60, "c": 30}

    def test_same_random_state_same_rows(self):
        X, y = three_classes()
        runs = [self.sampler(random_state=1).fit_resample(X, y) for _ in range(2)]
        pd.testing.assert_frame_equal(runs[0][0], runs[1][0])
        pd.testing.assert_series_equal(runs[0][1], runs[1][1])

    def test_curation_draws_from_the_class_model(self):
        X, y = binary_frame(120)
        sampler = self.sampler(
            curation="confidence", curation_estimator=TestCuration.ScoreThreshold()
        )
        X_res, _ = sampler.fit_resample(X, y)
        assert (X_res.iloc[len(X) :]["score"] > 0.5).all()
        assert sampler.curation_["yes"]["added"] == len(X_res) - len(X)

    def test_a_class_too_small_for_a_model_comes_from_a_pooled_one(self):
        X, y = three_classes(counts=(60, 30, 3))
        sampler = self.sampler(tiny(RecordingSynthesizer))
        _, y_res = sampler.fit_resample(X, y)
        assert Counter(y_res) == {"a": 60, "b": 60, "c": 6}
        assert [len(table) for table in FIT_LOG] == [30, 93]  # b's rows, then all rows
        pooled = sampler.synthesizer_["c"]
        assert "label" in pooled.transformer_.output_columns
        assert "label" not in sampler.synthesizer_["b"].transformer_.output_columns
        assert set(sampler.fit_params_) == {"b", "pooled"}

    def test_a_dict_of_models_with_pooled_is_an_error(self):
        X, y = three_classes()
        sampler = SyntheticOverSampler(synthesizer={"b": tiny()}, refit_synthesizer=False)
        with pytest.raises(InvalidDataError, match="class_models='per_class'"):
            sampler.fit_resample(X, y)

    def test_reuse_needs_a_fitted_model_for_every_grown_class(self):
        X, y = three_classes()
        sampler = SyntheticOverSampler(
            class_models="per_class", synthesizer={"b": tiny()}, refit_synthesizer=False
        )
        with pytest.raises(NotFittedError, match=r"\['b', 'c'\]"):
            sampler.fit_resample(X, y)

    def test_unknown_class_models_is_an_error(self):
        X, y = three_classes()
        with pytest.raises(ValueError, match="'class_models' parameter"):
            SyntheticOverSampler(class_models="each").fit_resample(X, y)


@pytest.mark.parametrize("class_models", ["pooled", "per_class"])
def test_a_column_of_distinct_integers_is_a_feature_not_an_id(class_models):
    # distinct, tightly packed integers: synthgan's schema alone takes them for an id and numbers
    # new rows beyond the largest real value, a giveaway for a classifier
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"weight": rng.permutation(np.arange(60_000, 60_080)),
                      "city": rng.choice(["Berlin", "Paris"], 80)})  # fmt: skip
    y = pd.Series(np.where(np.arange(80) % 4 == 0, "yes", "no"), name="answer")
    sampler = SyntheticOverSampler(
        min_steps=None, class_models=class_models, synthesizer=tiny(), random_state=0
    )
    X_res, _ = sampler.fit_resample(X, y)
    synthetic = X_res["weight"].iloc[len(X) :]
    assert len(synthetic) == 20 and X_res["weight"].dtype == X["weight"].dtype
    assert synthetic.between(X["weight"].min(), X["weight"].max()).all()


class TestReproducibility:
    def test_same_random_state_same_rows(self):
        X, y = three_classes()
        first = SyntheticOverSampler(
            min_steps=None, synthesizer=tiny(), random_state=3
        ).fit_resample(X, y)
        again = SyntheticOverSampler(
            min_steps=None, synthesizer=tiny(), random_state=3
        ).fit_resample(X, y)
        other = SyntheticOverSampler(
            min_steps=None, synthesizer=tiny(), random_state=4
        ).fit_resample(X, y)
        pd.testing.assert_frame_equal(first[0], again[0])
        pd.testing.assert_series_equal(first[1], again[1])
        assert not first[0].iloc[len(X) :].equals(other[0].iloc[len(X) :])

    def test_a_seeded_template_is_reproducible_too(self):
        X, y = three_classes()
        first, _ = SyntheticOverSampler(
            min_steps=None, synthesizer=tiny(random_state=5)
        ).fit_resample(X, y)
        again, _ = SyntheticOverSampler(
            min_steps=None, synthesizer=tiny(random_state=5)
        ).fit_resample(X, y)
        pd.testing.assert_frame_equal(first, again)


def test_missing_imbalanced_learn_is_a_clear_error(monkeypatch):
    import synthgan.augment

    # None in sys.modules makes an import fail, even of a submodule imported before
    for name in [m for m in sys.modules if m.split(".")[0] in ("imblearn", "sklearn_compat")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "synthgan.augment.oversampler", raising=False)
    with pytest.raises(
        ImportError,
        match=r"SyntheticOverSampler needs imbalanced-learn: pip install 'synthgan\[augment\]'",
    ):
        synthgan.augment.SyntheticOverSampler  # noqa: B018


# -- augment() ------------------------------------------------------------------------------------


class TestAugment:
    def test_original_rows_then_synthetic_ones(self):
        X, y = binary_frame(100)
        df = X.assign(answer=y)
        out = augment(df, 30, synthesizer=tiny(), random_state=0)
        assert len(out) == 130 and list(out.columns) == list(df.columns)
        pd.testing.assert_series_equal(out.dtypes, df.dtypes)
        pd.testing.assert_frame_equal(out.iloc[:100], df)

    def test_flag_column_only_when_asked(self):
        df = binary_frame(100)[0]
        out = augment(df, 20, flag_column="is_synthetic", synthesizer=tiny(), random_state=0)
        assert out["is_synthetic"].dtype == bool
        assert out["is_synthetic"].tolist() == [False] * 100 + [True] * 20

    def test_conditions_hold_in_every_synthetic_row(self):
        df = binary_frame(100)[0]
        out = augment(df, 40, {"city": "Rome"}, synthesizer=tiny(), random_state=0)
        assert set(out["city"].iloc[100:]) == {"Rome"}

    def test_reproducible(self):
        df = binary_frame(100)[0]
        first = augment(df, 20, synthesizer=tiny(), random_state=1)
        again = augment(df, 20, synthesizer=tiny(), random_state=1)
        pd.testing.assert_frame_equal(first, again)

    def test_a_fitted_synthesizer_is_used_as_it_is(self):
        df = binary_frame(100)[0]
        fitted = tiny(RecordingSynthesizer).fit(df)
        FIT_LOG.clear()
        out = augment(df, 10, synthesizer=fitted, random_state=0)
        assert FIT_LOG == [] and len(out) == 110

    def test_an_unfitted_template_is_cloned(self):
        df = binary_frame(100)[0]
        template = tiny()
        augment(df, 10, synthesizer=template, random_state=0)
        assert not hasattr(template, "transformer_")

    def test_existing_flag_column_is_an_error(self):
        df = binary_frame(100)[0]
        with pytest.raises(InvalidDataError, match="flag_column='city' is already a column"):
            augment(df, 5, flag_column="city", synthesizer=tiny())

    def test_negative_n_is_an_error(self):
        df = binary_frame(100)[0]
        with pytest.raises(InvalidDataError, match="n must be a non-negative integer, got -1"):
            augment(df, -1, synthesizer=tiny())

    def test_a_small_table_shrinks_batch_size_and_pac(self):
        df = binary_frame(30)[0]
        out = augment(df, 5, synthesizer=tiny(), random_state=0)
        assert len(out) == 35

    def test_a_synthesizer_missing_columns_is_an_error(self):
        df = binary_frame(100)[0]
        fitted = tiny().fit(df.drop(columns="city"))
        with pytest.raises(InvalidDataError, match=r"does not produce the column\(s\) 'city'"):
            augment(df, 5, synthesizer=fitted)


@pytest.mark.slow
def test_twenty_adult_rows_with_the_default_template_in_a_pipeline():
    from synthgan.datasets import load_adult

    train, test = load_adult()
    rich = train[train["income"] == ">50K"].sample(5, random_state=0)
    rest = train[train["income"] == "<=50K"].sample(15, random_state=0)
    small = pd.concat([rich, rest], ignore_index=True)
    X, y = small.drop(columns="income"), small["income"]
    pipe = Pipeline(
        [
            ("augment", SyntheticOverSampler(curation="confidence", random_state=0)),
            ("model", make_utility_model("classification")),
        ]
    )
    pipe.fit(X, y)
    sampler = pipe.named_steps["augment"]
    # 20 rows: pac 5, batches of 10, two steps an epoch, so 250 epochs for 500 steps
    assert sampler.fit_params_ == {"epochs": 250, "batch_size": 10, "pac": 5}
    assert 0 <= sampler.sampling_strategy_[">50K"] <= 5
    proba = pipe.predict_proba(test.drop(columns="income").head(200))
    assert proba.shape == (200, 2) and np.isfinite(proba).all()
