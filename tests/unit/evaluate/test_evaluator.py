from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgan import InvalidDataError
from synthgan.evaluate import evaluate
from synthgan.schema import Schema


@pytest.fixture()
def small(known_tables):
    return known_tables["real"].iloc[:80], known_tables["fresh"].iloc[:80]


class TestInputErrors:
    def test_not_a_dataframe(self, small):
        with pytest.raises(
            InvalidDataError, match="The synthetic table: Expected a pandas DataFrame"
        ):
            evaluate(small[0], small[1].to_numpy())

    def test_mismatched_columns_are_named(self, small):
        real, synth = small
        synth = synth.drop(columns=["colour"]).rename(columns={"x": "x2"})
        with pytest.raises(
            InvalidDataError,
            match="synthetic table lacks the real table's column\\(s\\) 'x', 'colour' and has "
            "column\\(s\\) 'x2' the real table lacks",
        ):
            evaluate(real, synth)

    def test_holdout_columns_are_checked(self, small):
        with pytest.raises(
            InvalidDataError, match="holdout table lacks the real table's column\\(s\\) 'y'"
        ):
            evaluate(small[0], small[1], holdout=small[1].drop(columns="y"))

    def test_id_columns_may_be_absent(self, small):
        report = evaluate(small[0], small[1].drop(columns="row_id"), metrics=["column_shapes"])
        assert report.meta["excluded_columns"] == ["row_id"]

    def test_misspelt_target_suggests_the_closest(self, small):
        with pytest.raises(
            InvalidDataError, match="Column 'colur' is not in the real table. Did you mean 'colour'"
        ):
            evaluate(small[0], small[1], target="colur")

    def test_id_target(self, small):
        with pytest.raises(InvalidDataError, match="Target column 'row_id' is id"):
            evaluate(small[0], small[1], target="row_id")

    def test_random_state_type(self, small):
        with pytest.raises(
            InvalidDataError, match="random_state must be an integer or None, got 'zero'"
        ):
            evaluate(small[0], small[1], random_state="zero")

    def test_n_threads(self, small):
        with pytest.raises(
            InvalidDataError, match="n_threads must be a positive integer or None, got 0"
        ):
            evaluate(small[0], small[1], n_threads=0)

    def test_text_where_real_has_numbers(self, small):
        synth = small[1].assign(x=["high"] * len(small[1]))
        with pytest.raises(
            InvalidDataError, match="Column 'x' of the synthetic table holds non-numeric values"
        ):
            evaluate(small[0], synth, metrics=["column_shapes"])

    def test_unknown_metric(self, small):
        with pytest.raises(
            InvalidDataError, match="Unknown metric 'colum_shapes'. Did you mean 'column_shapes'"
        ):
            evaluate(small[0], small[1], metrics=["colum_shapes"])


class TestEvaluate:
    def test_numbers_as_text_in_csv_style_tables_are_converted(self, small):
        synth = small[1].assign(x=small[1]["x"].astype(str))
        report = evaluate(small[0], synth, metrics=["column_shapes"])
        assert report.scores["column_shapes"] > 0.8

    def test_user_schema_overrides_kinds(self, small):
        schema = Schema.from_dict({"columns": [{"name": "count", "kind": "discrete"}]})
        report = evaluate(small[0], small[1], schema=schema, metrics=["column_shapes"])
        kinds = dict(zip(report.columns["column"], report.columns["kind"]))
        assert kinds["count"] == "discrete"

    def test_random_state_changes_the_subsamples_only_slightly(self, known_tables):
        args = (known_tables["real"], known_tables["fresh"])
        first = evaluate(*args, metrics=["detection_auc"], random_state=1).scores["detection_auc"]
        second = evaluate(*args, metrics=["detection_auc"], random_state=2).scores["detection_auc"]
        assert first != second and abs(first - second) < 0.15

    def test_regression_target(self, known_tables):
        report = evaluate(
            known_tables["real"],
            known_tables["fresh"],
            holdout=known_tables["holdout"],
            target="x",
            metrics=["utility_real", "utility_synthetic", "f1_real"],
        )
        assert report.metrics["utility_real"]["details"]["score"] == "r2"
        assert report.scores["utility_real"] > 0.5
        assert np.isnan(report.scores["f1_real"])

    def test_seconds_are_recorded(self, known_reports):
        seconds = known_reports["fresh"].meta["seconds"]
        assert seconds["total"] >= seconds["column_shapes"] >= 0

    def test_pandas_nullable_and_categorical_dtypes(self):
        rng = np.random.default_rng(0)
        real = pd.DataFrame(
            {
                "n": pd.array(rng.integers(0, 9, 120), dtype="Int64"),
                "b": pd.array(rng.random(120) < 0.5, dtype="boolean"),
                "k": pd.Categorical(rng.choice(["lo", "hi"], 120)),
                "s": pd.array(rng.choice(["u", "v"], 120), dtype="string"),
            }
        )
        real.loc[::7, "n"] = None
        real.loc[::9, "b"] = None
        report = evaluate(
            real,
            real.sample(frac=1.0, random_state=0),
            holdout=real.iloc[:60],
            metrics=["column_shapes", "exact_copy_rate"],
        )
        assert report.scores["column_shapes"] == pytest.approx(1.0)
        assert report.scores["exact_copy_rate"] == 1.0


def test_only_id_like_columns(known_tables):
    ids = known_tables["real"][["row_id"]]
    with pytest.raises(InvalidDataError, match="no column to compare: every column is id-like"):
        evaluate(ids, ids)


def test_utility_without_the_id_column_in_synthetic(known_tables):
    report = evaluate(
        known_tables["real"],
        known_tables["fresh"].drop(columns="row_id"),
        holdout=known_tables["holdout"],
        target="flag",
        metrics=["utility_synthetic"],
    )
    assert report.scores["utility_synthetic"] > 0.6
