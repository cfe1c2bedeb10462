from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist
from sklearn.metrics import roc_auc_score

from synthgan import infer_schema
from synthgan.evaluate import evaluate, privacy
from synthgan.evaluate.privacy import (
    RowEmbedding,
    bootstrap_ci,
    nearest_distances,
    roc_auc,
    wilson_ci,
)


def embed(train: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    schema = infer_schema(train)
    return RowEmbedding(schema=schema, columns=schema.names).fit(train).transform(rows)


class TestRowEmbedding:
    train = pd.DataFrame({"v": [0.0, 2.0, 4.0, np.nan], "c": ["a", "b", "a", None]})

    def distance(self, first: dict, second: dict) -> float:
        points = embed(self.train, pd.DataFrame([first, second]))
        return float(np.linalg.norm(points[0] - points[1]))

    def test_one_standard_deviation_weighs_one(self):
        std = np.std([0.0, 2.0, 4.0])
        assert self.distance({"v": 1.0, "c": "a"}, {"v": 1.0 + std, "c": "a"}) == pytest.approx(1)

    def test_a_category_mismatch_weighs_one(self):
        assert self.distance({"v": 1.0, "c": "a"}, {"v": 1.0, "c": "b"}) == pytest.approx(1.0)

    def test_null_is_a_value_of_its_own(self):
        # at the mean: only the null indicator differs
        assert self.distance({"v": 2.0, "c": "a"}, {"v": np.nan, "c": "a"}) == pytest.approx(1.0)
        assert self.distance({"v": 2.0, "c": None}, {"v": 2.0, "c": "a"}) == pytest.approx(1.0)

    def test_unseen_category_is_one_away_from_every_known_one(self):
        assert self.distance({"v": 2.0, "c": "new"}, {"v": 2.0, "c": "b"}) == pytest.approx(1.0)
        # two unseen labels share the "other" coordinate but are not identical rows
        apart = self.distance({"v": 2.0, "c": "new"}, {"v": 2.0, "c": "other"})
        assert 0.0 < apart < privacy.OTHER_TAG_SCALE
        assert self.distance({"v": 2.0, "c": "new"}, {"v": 2.0, "c": "new"}) == 0.0

    def test_transform_before_fit(self):
        schema = infer_schema(self.train)
        with pytest.raises(Exception, match="not fitted yet"):
            RowEmbedding(schema=schema, columns=schema.names).transform(self.train)


class TestNearestDistances:
    def test_matches_brute_force_and_chunking_changes_nothing(self, monkeypatch):
        rng = np.random.default_rng(0)
        reference, queries = rng.normal(size=(50, 4)), rng.normal(size=(37, 4))
        expected = np.sort(cdist(queries, reference), axis=1)[:, :2]
        np.testing.assert_allclose(nearest_distances(reference, queries, 2), expected, atol=1e-6)
        monkeypatch.setattr(privacy, "NEIGHBOUR_CHUNK", 5)
        np.testing.assert_allclose(nearest_distances(reference, queries, 2), expected, atol=1e-6)

    @pytest.mark.parametrize("magnitude", [1e-6, 1e-3, 1.0, 1e3, 1e6, 1e9])
    def test_identical_rows_are_at_exactly_zero(self, magnitude):
        rng = np.random.default_rng(1)
        points = rng.normal(size=(300, 8)) * magnitude + magnitude
        assert (nearest_distances(points, points, 1) == 0).all()
        # and the second neighbour, a different row, is not at zero
        assert (nearest_distances(points, points, 2)[:, 1] > 0).all()

    @pytest.mark.parametrize("magnitude", [1e-6, 1.0, 1e9])
    def test_distances_are_exact_at_every_magnitude(self, magnitude):
        rng = np.random.default_rng(2)
        reference = rng.normal(size=(200, 5)) * magnitude + 3 * magnitude
        queries = reference[:40] + rng.normal(size=(40, 5)) * magnitude * 1e-3
        expected = np.sort(cdist(queries, reference), axis=1)[:, :3]
        found = nearest_distances(reference, queries, 3)
        np.testing.assert_allclose(
            found, expected, rtol=1e-9, atol=10.0**-privacy.DISTANCE_DECIMALS
        )

    def test_exact_copy_rate_agrees_with_distance_zero(self):
        rng = np.random.default_rng(3)
        n = 400
        train = pd.DataFrame({
            "x": rng.normal(size=n) * 1e9,
            "k": rng.integers(0, 3, n),
            "rare": [f"label{i}" for i in rng.integers(0, 300, n)],  # beyond MAX_ONE_HOT
            "c": rng.choice(["a", "b", None], n),
        })  # fmt: skip
        synthetic = train.sample(n, replace=True, random_state=0).reset_index(drop=True)
        # near copies that differ only in a rare label, a small number, or a null
        synthetic.loc[:99, "rare"] = [f"label{300 + i}" for i in range(100)]
        synthetic.loc[100:149, "x"] += 1.0
        synthetic.loc[150:199, "c"] = None
        schema = infer_schema(train)
        embedding = RowEmbedding(schema=schema, columns=schema.names).fit(train)
        zero = nearest_distances(embedding.transform(train), embedding.transform(synthetic), 1)
        keys = privacy.row_keys(schema, schema.names, train, "real")
        copies = np.isin(privacy.row_keys(schema, schema.names, synthetic, "synthetic"), keys)
        np.testing.assert_array_equal(zero[:, 0] == 0, copies)
        assert 0 < copies.sum() < n

    def test_too_few_reference_rows(self):
        result = nearest_distances(np.zeros((1, 2)), np.ones((3, 2)), 2)
        assert np.isnan(result[:, 1]).all() and (result[:, 0] > 0).all()


class TestIntervals:
    def test_wilson_known_values(self):
        low, high = wilson_ci(0, 10)
        assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
        low, high = wilson_ci(5, 10)
        assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)

    def test_bootstrap_interval_covers_the_mean_and_shrinks_with_n(self):
        rng = np.random.default_rng(0)
        small = bootstrap_ci(rng.random(100), np.mean, np.random.default_rng(1))
        large = bootstrap_ci(rng.random(10_000), np.mean, np.random.default_rng(1))
        assert small[0] < 0.5 < small[1]
        assert large[1] - large[0] < (small[1] - small[0]) / 5

    def test_roc_auc_matches_sklearn_with_ties(self):
        positive = np.array([0.9, 0.5, 0.5, 0.1])
        negative = np.array([0.5, 0.2, 0.0])
        expected = roc_auc_score([1] * 4 + [0] * 3, np.r_[positive, negative])
        assert roc_auc(positive, negative) == pytest.approx(expected)


class TestPrivacyMetrics:
    def test_training_rows_subsampled_to_holdout_size(self, known_tables):
        real = pd.concat([known_tables["real"], known_tables["fresh"]], ignore_index=True)
        report = evaluate(
            real, known_tables["fresh"], holdout=known_tables["holdout"], metrics=["dcr_share"]
        )
        assert report.metrics["dcr_share"]["details"]["n_train"] == len(known_tables["holdout"])

    def test_regenerated_ids_do_not_hide_copies(self, known_tables):
        copy = known_tables["real"].copy()
        copy["row_id"] = np.arange(len(copy)) + 5_000_000
        report = evaluate(
            known_tables["real"],
            copy,
            holdout=known_tables["holdout"],
            metrics=["exact_copy_rate", "dcr_share"],
        )
        assert report.scores["exact_copy_rate"] == 1.0
        assert report.scores["dcr_share"] == 1.0

    def test_half_copied_rows(self, known_tables):
        real, fresh = known_tables["real"], known_tables["fresh"]
        half = pd.concat([real.iloc[:200], fresh.iloc[200:]], ignore_index=True)
        report = evaluate(
            real, half, holdout=known_tables["holdout"], metrics=["exact_copy_rate", "mia_auc"]
        )
        assert report.scores["exact_copy_rate"] == 0.5
        low, high = report.metrics["exact_copy_rate"]["ci"]
        assert low < 0.5 < high
        assert 0.65 < report.scores["mia_auc"] < 0.9

    def test_holdout_copy_baseline(self, known_tables):
        real, holdout = known_tables["real"], known_tables["holdout"].copy()
        holdout.iloc[:40] = real.iloc[:40].to_numpy()
        report = evaluate(real, known_tables["fresh"], holdout=holdout, metrics=["exact_copy_rate"])
        assert report.metrics["exact_copy_rate"]["details"]["baseline"] == pytest.approx(0.1)

    def test_privacy_needs_a_holdout(self, known_tables):
        report = evaluate(known_tables["real"], known_tables["fresh"])
        assert "mia_auc" not in report.scores
        assert report.skipped["mia_auc"] == "needs holdout"
        assert report.skipped["utility_real"] == "needs holdout and target"


class TestSubsamplingKnownAnswers:
    def test_copy_of_a_larger_training_table(self, known_tables):
        # training twice the holdout: only half the copies' sources are in the training sample
        real = pd.concat([known_tables["real"], known_tables["fresh"]], ignore_index=True)
        report = evaluate(
            real,
            real.copy(),
            holdout=known_tables["holdout"],
            metrics=["dcr_share", "mia_auc", "exact_copy_rate"],
        )
        assert report.scores["dcr_share"] == pytest.approx(0.75, abs=0.06)
        assert report.scores["mia_auc"] > 0.95
        assert report.scores["exact_copy_rate"] == 1.0

    def test_attack_sees_every_synthetic_row(self, known_tables, monkeypatch):
        monkeypatch.setattr(privacy, "DCR_MAX_SYNTHETIC", 50)
        report = evaluate(
            known_tables["real"],
            known_tables["copy"],
            holdout=known_tables["holdout"],
            metrics=["dcr_share", "mia_auc"],
        )
        assert report.metrics["dcr_share"]["details"]["n_synthetic"] == 50
        assert report.scores["mia_auc"] > 0.95
