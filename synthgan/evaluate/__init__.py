"""Is the synthetic table good enough to use and safe enough to share? Fidelity, utility, privacy.

The public entry point is :func:`evaluate`; the fixed utility model every benchmark uses is
:func:`make_utility_model` / :func:`utility_scores`.
"""

from synthgan.evaluate.utility import UTILITY_MODEL_PARAMS, make_utility_model, utility_scores

__all__ = ["UTILITY_MODEL_PARAMS", "make_utility_model", "utility_scores"]
