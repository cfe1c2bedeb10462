"""The one registry of metrics: name, direction, range, what it needs, and the function.

Adding a metric is adding a function decorated with :func:`metric` in fidelity.py, utility.py or
privacy.py (the package ``__init__`` imports those three modules explicitly; nothing is found by
globbing). The function takes the shared :class:`~synthgan.evaluate.context.EvaluationContext`
and returns a float or a :class:`Score`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from synthgan.exceptions import InvalidDataError

if TYPE_CHECKING:
    from synthgan.evaluate.context import EvaluationContext

Direction = Literal["higher", "lower", "target"]
Needs = Literal["holdout", "target"]


@dataclass(frozen=True)
class Score:
    """The value of one metric, with its confidence interval and extra figures for the report.

    ``ci`` is a 95% interval ``(low, high)`` or None; ``details`` holds named side figures
    (a baseline, a per-column table) that the report shows next to the value.
    """

    value: float
    ci: tuple[float, float] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def with_baseline(self, baseline: Score) -> Score:
        """This score with ``baseline``'s value in ``details["baseline"]`` (and its interval in
        ``baseline_ci``, its per-column figures in ``baseline_per_column``, where it has them)."""
        extra: dict[str, Any] = {"baseline": float(baseline.value)}
        if baseline.ci is not None:
            extra["baseline_ci"] = [float(baseline.ci[0]), float(baseline.ci[1])]
        if "per_column" in baseline.details:
            extra["baseline_per_column"] = baseline.details["per_column"]
        return replace(self, details={**self.details, **extra})


@dataclass(frozen=True)
class Metric:
    """One registered metric.

    Attributes
    ----------
    name : str
        The key in ``Report.scores``.
    group : {"fidelity", "utility", "privacy"}
    direction : {"higher", "lower", "target"}
        Which way is better; "target" means closest to ``ideal`` (0.5 for the AUCs and dcr_share).
    range : tuple of float
        The values it can take (``math.inf`` for unbounded).
    ideal : float
        The best value.
    needs : tuple of str
        Inputs beyond real and synthetic ("holdout", "target"); skipped without them.
    description : str
        One line for the report.
    function : callable
        ``function(context) -> float | Score``.
    """

    name: str
    group: str
    direction: Direction
    range: tuple[float, float]
    ideal: float
    needs: tuple[Needs, ...]
    description: str
    function: Callable[[EvaluationContext], float | Score]

    def compute(self, context: EvaluationContext) -> Score:
        result = self.function(context)
        return result if isinstance(result, Score) else Score(float(result))

    def info(self) -> dict[str, Any]:
        """Direction, range, ideal and description (what the JSON report stores beside a value)."""
        return {
            "group": self.group,
            "direction": self.direction,
            "range": [_json_number(self.range[0]), _json_number(self.range[1])],
            "ideal": self.ideal,
            "description": self.description,
        }


METRICS: dict[str, Metric] = {}
"""Every registered metric by name, in registration order (the order of the report)."""


def metric(
    name: str,
    *,
    group: str,
    direction: Direction,
    range: tuple[float, float],
    ideal: float | None = None,
    needs: tuple[Needs, ...] = (),
    description: str,
) -> Callable[[Callable[[EvaluationContext], float | Score]], Callable]:
    """Register the decorated function as metric ``name``."""

    def register(function: Callable[[EvaluationContext], float | Score]) -> Callable:
        if name in METRICS:
            raise ValueError(f"Metric {name!r} is registered twice.")  # a programming error
        best = ideal
        if best is None:
            best = range[1] if direction == "higher" else range[0]
        METRICS[name] = Metric(name, group, direction, range, best, needs, description, function)
        return function

    return register


def get_metric(name: str) -> Metric:
    """The registered metric ``name``; a misspelt name gets the closest suggestion."""
    if name not in METRICS:
        hint = difflib.get_close_matches(name, list(METRICS), n=1)
        fix = f" Did you mean {hint[0]!r}?" if hint else ""
        raise InvalidDataError(
            f"Unknown metric {name!r}.{fix} Known metrics: {', '.join(METRICS)}."
        )
    return METRICS[name]


def _json_number(value: float) -> float | str:
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value
