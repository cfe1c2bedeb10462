"""Baselines beside every fidelity figure, and the verdict per area (synthgan/evaluate/verdicts.py)."""

from __future__ import annotations

import math

import pytest

from synthgan import share
from synthgan.evaluate import METRICS, evaluate
from synthgan.evaluate.context import EvaluationContext
from synthgan.evaluate.verdicts import (
    FIDELITY_TOLERANCES,
    NO_BASELINE,
    NOISE_ALLOWANCE,
    PRIVACY_MAX_COPY_EXCESS,
    PRIVACY_MAX_DCR_SHARE,
    PRIVACY_MAX_MIA_AUC,
    UTILITY_TOLERANCE,
    VERDICTS,
    Tolerance,
    format_verdicts,
    judge,
)
from synthgan.schema import infer_schema

FIDELITY = [name for name, entry in METRICS.items() if entry.group == "fidelity"]
BOTH = {"holdout": True, "target": True}


def entry(name: str, value: float, *, ci=None, **details) -> dict:
    """A Report.metrics entry of metric ``name``."""
    return {"value": value, "ci": ci, **METRICS[name].info(), "details": details}


def level_of(metrics: dict, area: str, n_rows: int | None = None) -> str:
    return judge(metrics, available=BOTH, n_rows=n_rows)[area]["level"]


# -- baselines ------------------------------------------------------------------------------------


class TestBaselines:
    @pytest.mark.parametrize("name", FIDELITY)
    def test_every_fidelity_metric_has_one(self, known_reports, name):
        details = known_reports["fresh"].metrics[name]["details"]
        low, high = METRICS[name].range
        assert low <= details["baseline"] <= high

    @pytest.mark.parametrize("name", FIDELITY)
    def test_it_is_the_holdout_scored_by_the_same_code(self, known_reports, known_tables, name):
        holdout_as_synthetic = evaluate(known_tables["real"], known_tables["holdout"])
        baseline = known_reports["fresh"].metrics[name]["details"]["baseline"]
        assert baseline == pytest.approx(holdout_as_synthetic.scores[name], nan_ok=True)

    @pytest.mark.parametrize("name", FIDELITY)
    def test_a_fresh_sample_scores_near_its_baseline(self, known_reports, name):
        metric = known_reports["fresh"].metrics[name]
        tolerance = FIDELITY_TOLERANCES[name].for_rows(400)
        assert abs(metric["value"] - metric["details"]["baseline"]) <= tolerance.close

    def test_shapes_per_column(self, known_reports):
        report = known_reports["fresh"]
        columns = report.columns.set_index("column")
        assert list(report.columns.columns[:4]) == ["column", "kind", "shape", "shape_baseline"]
        per_column = report.metrics["column_shapes"]["details"]["baseline_per_column"]
        assert columns["shape_baseline"].to_dict() == pytest.approx(per_column)
        assert columns.loc["colour", "shape_baseline"] < 1.0  # a real sample is not a copy

    def test_utility_is_read_against_the_model_trained_on_real_rows(self, known_reports):
        metrics = known_reports["fresh"].metrics
        assert (
            metrics["utility_synthetic"]["details"]["baseline"] == metrics["utility_real"]["value"]
        )
        assert metrics["f1_synthetic"]["details"]["baseline"] == metrics["f1_real"]["value"]

    def test_baseline_time_is_reported(self, known_reports):
        seconds = known_reports["fresh"].meta["seconds"]
        assert 0 < seconds["fidelity_baselines"] < seconds["total"]

    def test_without_holdout_no_baseline_said_plainly(self, known_tables):
        report = evaluate(known_tables["real"], known_tables["fresh"])
        for name in FIDELITY:
            assert "baseline" not in report.metrics[name]["details"]
        summary = report.summary().set_index("metric")
        assert (summary.loc[FIDELITY, "baseline"] == NO_BASELINE).all()
        assert NO_BASELINE == "no holdout: no baseline"
        assert report.to_dict()["notes"]["baseline"] == NO_BASELINE
        assert "shape_baseline" not in report.columns

    def test_as_baseline_needs_a_holdout(self, known_tables):
        real = known_tables["real"]
        context = EvaluationContext(real, real, None, None, infer_schema(real), 0)
        with pytest.raises(ValueError, match=r"as_baseline\(\) needs a holdout"):
            context.as_baseline()


# -- verdicts on known tables --------------------------------------------------------------------


class TestKnownAnswers:
    def test_a_fresh_real_sample_is_good_everywhere(self, known_reports):
        verdicts = known_reports["fresh"].verdicts
        assert verdicts["fidelity"]["verdict"] == "close to real data"
        assert verdicts["utility"]["verdict"] == "as useful as real data"
        assert verdicts["privacy"]["verdict"] == "no sign of exposed training rows"

    def test_copies_fail_privacy_like_the_share_gate(self, known_reports):
        privacy = known_reports["copy"].verdicts["privacy"]
        assert privacy["level"] == "bad"
        assert privacy["verdict"] == "exposes training rows (the share gate would block it)"
        failing = {r["metric"] for r in privacy["reasons"] if r["level"] == "bad"}
        assert failing == {"dcr_share", "mia_auc", "exact_copy_rate"}
        # and a copy is a perfect fidelity: the verdict does not hide that behind privacy
        assert known_reports["copy"].verdicts["fidelity"]["level"] == "good"

    @pytest.mark.parametrize("name", ["copy", "fresh", "shuffled", "noise"])
    def test_privacy_bad_exactly_when_the_share_gate_blocks(self, known_reports, name):
        report = known_reports[name]
        checks = share.privacy_checks(
            report,
            max_dcr_share=share.MAX_DCR_SHARE,
            max_mia_auc=share.MAX_MIA_AUC,
            max_copy_excess=share.MAX_COPY_EXCESS,
        )
        blocked = not all(check.passed for check in checks)
        assert (report.verdicts["privacy"]["level"] == "bad") == blocked

    @pytest.mark.parametrize("name", ["shuffled", "noise"])
    def test_unrelated_tables_are_far(self, known_reports, name):
        verdicts = known_reports[name].verdicts
        assert verdicts["fidelity"]["verdict"] == "far from real data"
        assert verdicts["utility"]["verdict"] == "far less useful than real data"

    def test_shuffled_columns_are_caught_by_pairs_and_detection_not_shapes(self, known_reports):
        reasons = known_reports["shuffled"].verdicts["fidelity"]["reasons"]
        by_metric = {r["metric"]: r["level"] for r in reasons}
        assert by_metric["column_pairs"] == by_metric["detection_auc"] == "bad"
        assert by_metric["column_shapes"] == "good"
        assert [r["level"] for r in reasons[:2]] == ["bad", "bad"]  # worst first

    def test_without_holdout_nothing_is_measured(self, known_tables):
        verdicts = evaluate(known_tables["real"], known_tables["fresh"]).verdicts
        assert verdicts["fidelity"]["verdict"] == "not measured (needs holdout)"
        assert verdicts["fidelity"]["reasons"][0]["text"] == "no holdout: no baseline"
        assert verdicts["utility"]["verdict"] == "not measured (needs holdout and target)"
        assert verdicts["privacy"]["verdict"] == "not measured (needs holdout)"

    def test_without_target_utility_is_not_measured(self, known_tables):
        report = evaluate(
            known_tables["real"],
            known_tables["fresh"],
            holdout=known_tables["holdout"],
            metrics=["column_shapes"],
        )
        assert report.verdicts["utility"]["verdict"] == "not measured (needs target)"
        assert report.verdicts["fidelity"]["level"] == "good"
        assert report.verdicts["privacy"]["verdict"] == (
            "not measured (no privacy metric was computed)"
        )


# -- the thresholds, one by one ------------------------------------------------------------------


class TestThresholds:
    @pytest.mark.parametrize(
        ("value", "level"), [(0.981, "good"), (0.969, "warn"), (0.95, "warn"), (0.889, "bad")]
    )
    def test_column_shapes_against_baseline(self, value, level):
        metrics = {"column_shapes": entry("column_shapes", value, baseline=0.99)}
        assert level_of(metrics, "fidelity") == level

    @pytest.mark.parametrize(
        ("value", "level"), [(0.54, "good"), (0.46, "good"), (0.56, "warn"), (0.91, "bad")]
    )
    def test_detection_auc_distance_from_half(self, value, level):
        metrics = {"detection_auc": entry("detection_auc", value, baseline=0.5)}
        assert level_of(metrics, "fidelity") == level

    @pytest.mark.parametrize(("value", "level"), [(0.14, "good"), (0.16, "warn"), (0.4, "bad")])
    def test_lower_is_better_metrics(self, value, level):
        metrics = {"wasserstein": entry("wasserstein", value, baseline=0.1)}
        assert level_of(metrics, "fidelity") == level

    def test_the_worst_figure_decides(self):
        metrics = {
            "column_shapes": entry("column_shapes", 0.99, baseline=0.99),
            "column_pairs": entry("column_pairs", 0.80, baseline=0.98),
        }
        verdict = judge(metrics, available=BOTH)["fidelity"]
        assert verdict["verdict"] == "far from real data"
        assert verdict["reasons"][0]["text"] == (
            "column_pairs 0.8000 against the holdout's 0.9800: 0.1800 worse (far: beyond 0.1)"
        )

    def test_nan_figures_are_left_out(self):
        metrics = {
            "column_pairs": entry("column_pairs", math.nan, baseline=math.nan),
            "column_shapes": entry("column_shapes", 0.99, baseline=0.99),
        }
        verdict = judge(metrics, available=BOTH)["fidelity"]
        assert [r["metric"] for r in verdict["reasons"]] == ["column_shapes"]

    @pytest.mark.parametrize(("gap", "level"), [(0.015, "good"), (0.05, "warn"), (0.15, "bad")])
    def test_utility_gap(self, gap, level):
        metrics = {
            "utility_synthetic": entry(
                "utility_synthetic", 0.9 - gap, baseline=0.9, score="roc_auc"
            )
        }
        assert level_of(metrics, "utility") == level
        assert UTILITY_TOLERANCE == Tolerance(close=0.02, far=0.10)

    def test_small_tables_widen_close_to_the_sampling_noise(self):
        metrics = {"column_shapes": entry("column_shapes", 0.95, baseline=0.99)}  # 0.04 worse
        assert level_of(metrics, "fidelity", n_rows=100_000) == "warn"
        assert level_of(metrics, "fidelity", n_rows=400) == "good"  # within 1/sqrt(400) = 0.05
        notes = judge(metrics, available=BOTH, n_rows=400)["fidelity"]["reasons"]
        assert notes[-1]["level"] == "note" and "widened to within 0.050" in notes[-1]["text"]
        assert NOISE_ALLOWANCE == 1.0

    def test_widening_never_puts_far_inside_close(self):
        widened = Tolerance(close=0.02, far=0.10).for_rows(25)
        assert widened == Tolerance(close=0.2, far=0.2)
        assert Tolerance(close=0.02, far=0.10).for_rows(None) == Tolerance(close=0.02, far=0.10)


class TestPrivacyThresholds:
    def test_they_are_the_share_gates(self):
        assert PRIVACY_MAX_DCR_SHARE == share.MAX_DCR_SHARE
        assert PRIVACY_MAX_MIA_AUC == share.MAX_MIA_AUC
        assert PRIVACY_MAX_COPY_EXCESS == share.MAX_COPY_EXCESS

    @pytest.mark.parametrize("name", ["dcr_share", "mia_auc"])
    @pytest.mark.parametrize(
        ("value", "ci", "level"),
        [
            (0.56, (0.50, 0.62), "bad"),  # the gate decides on the value
            (0.54, (0.51, 0.57), "warn"),  # below the gate, but beyond chance
            (0.52, (0.48, 0.56), "good"),
        ],
    )
    def test_rates(self, name, value, ci, level):
        assert level_of({name: entry(name, value, ci=ci)}, "privacy") == level

    @pytest.mark.parametrize(
        ("ci", "level"), [((0.031, 0.05), "bad"), ((0.015, 0.03), "warn"), ((0.005, 0.02), "good")]
    )
    def test_copies_against_the_holdouts_rate(self, ci, level):
        copies = entry("exact_copy_rate", 0.02, ci=ci, baseline=0.01, baseline_ci=[0.005, 0.03])
        assert level_of({"exact_copy_rate": copies}, "privacy") == level

    def test_dcr_p5_below_the_holdouts(self):
        low = entry("dcr_p5", 0.1, ci=(0.05, 0.2), baseline=0.5, baseline_ci=[0.4, 0.6])
        same = entry("dcr_p5", 0.45, ci=(0.35, 0.55), baseline=0.5, baseline_ci=[0.4, 0.6])
        assert level_of({"dcr_p5": low}, "privacy") == "warn"
        assert level_of({"dcr_p5": same}, "privacy") == "good"


def test_every_fidelity_metric_has_a_tolerance():
    assert sorted(FIDELITY_TOLERANCES) == sorted(FIDELITY)
    for tolerance in [*FIDELITY_TOLERANCES.values(), UTILITY_TOLERANCE]:
        assert 0 < tolerance.close < tolerance.far


def test_cli_block_shows_only_what_pulled_a_verdict_down(known_reports):
    text = format_verdicts(known_reports["shuffled"].verdicts)
    lines = text.splitlines()
    assert lines[1] == f"  Fidelity: {VERDICTS['fidelity']['bad']}"
    assert any(line.startswith("    - column_pairs 0.") for line in lines)
    assert not any("column_shapes" in line for line in lines)  # within tolerance: not listed
