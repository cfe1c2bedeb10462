"""More (or rebalanced) training rows from a conditional GAN.

* :func:`augment`: a DataFrame's rows followed by synthetic ones (no extra dependency).
* :class:`SyntheticOverSampler`: imbalanced-learn's ``fit_resample`` contract, for
  ``imblearn.pipeline.Pipeline`` and cross-validation. Needs the ``synthgan[augment]`` extra;
  imbalanced-learn is imported only when the sampler is asked for.
* :class:`SyntheticAugmentedClassifier`: a classifier fitted on a sampler's output with the
  synthetic rows weighted down (what imbalanced-learn's Pipeline cannot pass, imblearn#457).
"""

from __future__ import annotations

from typing import Any

from synthgan.augment.tables import AUGMENT_EPOCHS, augment

__all__ = ["AUGMENT_EPOCHS", "SyntheticAugmentedClassifier", "SyntheticOverSampler", "augment"]

_MISSING_IMBLEARN = "SyntheticOverSampler needs imbalanced-learn: pip install 'synthgan[augment]'"


def __getattr__(name: str) -> Any:
    if name == "SyntheticAugmentedClassifier":  # scikit-learn only; its default sampler needs more
        from synthgan.augment.weighted import SyntheticAugmentedClassifier

        return SyntheticAugmentedClassifier
    if name != "SyntheticOverSampler":
        raise AttributeError(f"module 'synthgan.augment' has no attribute {name!r}")
    try:
        from synthgan.augment.oversampler import SyntheticOverSampler
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in ("imblearn", "sklearn_compat"):
            raise ImportError(_MISSING_IMBLEARN) from exc
        raise
    return SyntheticOverSampler
