"""The issue's known answers: a copy, a fresh draw and an independently shuffled table."""

from __future__ import annotations

import pytest

from tests.unit.evaluate.conftest import REQUIRED_SCORES


class TestCopyOfTrainingRows:
    def test_fidelity_is_perfect(self, known_reports):
        scores = known_reports["copy"].scores
        assert scores["column_shapes"] == pytest.approx(1.0)
        assert scores["column_pairs"] == pytest.approx(1.0)
        assert scores["wasserstein"] == pytest.approx(0.0)
        # identical rows share a fold, so the classifier cannot tell the twins apart
        assert scores["detection_auc"] == pytest.approx(0.5, abs=0.05)

    def test_privacy_flags_it(self, known_reports):
        report = known_reports["copy"]
        assert report.scores["exact_copy_rate"] == 1.0
        assert report.scores["dcr_share"] == pytest.approx(1.0)
        assert report.scores["mia_auc"] > 0.9
        assert report.scores["dcr_p5"] == 0.0
        assert report.metrics["exact_copy_rate"]["details"]["baseline"] == 0.0
        low, high = report.metrics["dcr_share"]["ci"]
        assert low > 0.9  # far from 0.5 beyond noise

    def test_utility_matches_real(self, known_reports):
        scores = known_reports["copy"].scores
        assert scores["utility_synthetic"] == pytest.approx(scores["utility_real"])
        assert scores["utility_gap"] == pytest.approx(0.0)


class TestFreshDrawFromTheSameDistribution:
    def test_fidelity_near_one(self, known_reports):
        scores = known_reports["fresh"].scores
        assert scores["column_shapes"] > 0.9
        assert scores["column_pairs"] > 0.9
        assert abs(scores["detection_auc"] - 0.5) < 0.1

    def test_privacy_looks_like_holdout(self, known_reports):
        report = known_reports["fresh"]
        assert abs(report.scores["dcr_share"] - 0.5) < 0.08
        assert abs(report.scores["mia_auc"] - 0.5) < 0.08
        assert report.scores["exact_copy_rate"] == 0.0
        low, high = report.metrics["mia_auc"]["ci"]
        assert low < 0.5 < high

    def test_utility_close_to_real(self, known_reports):
        assert known_reports["fresh"].scores["utility_gap"] < 0.1


class TestColumnsShuffledIndependently:
    def test_shapes_stay_perfect_while_pairs_and_detection_degrade(self, known_reports):
        shuffled, fresh = known_reports["shuffled"].scores, known_reports["fresh"].scores
        assert shuffled["column_shapes"] == pytest.approx(1.0)
        assert shuffled["column_pairs"] < fresh["column_pairs"] - 0.15
        assert shuffled["detection_auc"] > 0.85
        assert shuffled["utility_gap"] > 0.2


def test_every_required_score_is_present_with_direction_and_range(known_reports):
    report = known_reports["fresh"]
    for name in REQUIRED_SCORES:
        assert name in report.scores
        entry = report.metrics[name]
        assert entry["direction"] in ("higher", "lower", "target")
        low, high = entry["range"]
        value = report.scores[name]
        assert (low == "-inf" or value >= low) and (high == "inf" or value <= high)
