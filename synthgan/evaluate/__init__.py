"""Is the synthetic table good enough to use and safe enough to share? Fidelity, utility, privacy.

The entry point is :func:`evaluate`, which returns a :class:`Report`. The fixed model every
utility figure in synthgan uses (the evaluator and every benchmark) is
:func:`make_utility_model` / :func:`utility_scores`. Every metric lives in one registry,
:data:`METRICS` (name, direction, range, function).
"""

from synthgan.evaluate.evaluator import evaluate
from synthgan.evaluate.registry import METRICS, Metric, Score
from synthgan.evaluate.report import Report
from synthgan.evaluate.utility import UTILITY_MODEL_PARAMS, make_utility_model, utility_scores

__all__ = [
    "METRICS",
    "Metric",
    "Report",
    "Score",
    "UTILITY_MODEL_PARAMS",
    "evaluate",
    "make_utility_model",
    "utility_scores",
]
