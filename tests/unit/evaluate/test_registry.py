"""The registry, and a contract every registered metric must meet (like parametrize_with_checks)."""

from __future__ import annotations

import math

import pytest

from synthgan import InvalidDataError
from synthgan.evaluate import METRICS, evaluate
from synthgan.evaluate.registry import get_metric, metric
from tests.unit.evaluate.conftest import REQUIRED_SCORES


def test_registry_holds_the_required_metrics():
    for name in REQUIRED_SCORES:
        assert name in METRICS


def test_unknown_metric_suggests_the_closest():
    with pytest.raises(InvalidDataError, match="Unknown metric 'mia_acu'. Did you mean 'mia_auc'"):
        get_metric("mia_acu")


def test_registering_a_name_twice_fails():
    with pytest.raises(ValueError, match="registered twice"):
        metric(
            "column_shapes", group="fidelity", direction="higher", range=(0, 1), description="again"
        )(lambda context: 0.0)


def test_adding_a_metric_is_adding_a_function(known_tables):
    @metric(
        "test_row_ratio",
        group="fidelity",
        direction="target",
        range=(0, math.inf),
        ideal=1.0,
        description="synthetic rows per real row",
    )
    def row_ratio(context):
        return len(context.synthetic) / len(context.real)

    try:
        report = evaluate(
            known_tables["real"], known_tables["fresh"].iloc[:200], metrics=["test_row_ratio"]
        )
        assert report.scores == {"test_row_ratio": 0.5}
        assert report.metrics["test_row_ratio"]["ideal"] == 1.0
    finally:
        del METRICS["test_row_ratio"]


@pytest.mark.parametrize("name", list(METRICS))
class TestMetricContract:
    def test_declares_direction_range_and_description(self, name):
        entry = METRICS[name]
        assert entry.direction in ("higher", "lower", "target")
        assert entry.range[0] < entry.range[1]
        assert entry.range[0] <= entry.ideal <= entry.range[1]
        assert entry.group in ("fidelity", "utility", "privacy") and entry.description
        assert set(entry.needs) <= {"holdout", "target"}

    def test_value_in_range_and_deterministic(self, name, known_tables):
        def run():
            return evaluate(
                known_tables["real"],
                known_tables["fresh"],
                holdout=known_tables["holdout"],
                target="colour",
                metrics=[name],
                random_state=7,
            )

        first, second = run(), run()
        value = first.scores[name]
        low, high = METRICS[name].range
        assert math.isnan(value) or low <= value <= high
        assert first.metrics[name] == second.metrics[name]
        ci = first.metrics[name]["ci"]
        if ci is not None:
            assert ci[0] <= ci[1]
