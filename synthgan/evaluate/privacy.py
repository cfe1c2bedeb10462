"""Privacy: does the synthetic table give away the training rows? (needs real holdout rows)

Every row is embedded once (:class:`RowEmbedding`, fitted on the training rows); nearest
neighbours come from scikit-learn's NearestNeighbors, queried in chunks of
:data:`NEIGHBOUR_CHUNK` rows so no n x n matrix is ever built. Id-like and ignored columns are
left out of every figure (regenerated ids would make any table look private). Definitions,
subsampling and confidence intervals: docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.neighbors import NearestNeighbors

from synthgan.evaluate._columns import (
    NULL_LABEL,
    category_labels,
    is_numeric,
    largest_magnitude,
    numeric_values,
    row_keys,
)
from synthgan.evaluate.context import EvaluationContext, subsample
from synthgan.evaluate.registry import Score, metric
from synthgan.exceptions import not_fitted
from synthgan.schema import Schema

PRIVACY_MAX_ROWS = 20_000
"""At most this many holdout rows, and as many training rows as holdout rows, enter the
distance-based figures."""
DCR_MAX_SYNTHETIC = 10_000
"""At most this many synthetic rows are measured for dcr_share, dcr_p5 and nndr."""
MIA_MAX_SYNTHETIC = 50_000
"""The membership-inference attack looks at the synthetic table's rows, up to this many."""
MAX_ONE_HOT = 100
"""A categorical column keeps its most frequent 100 training labels in the embedding; other
labels share one extra coordinate."""
FARTHEST = 1e100
"""Standard deviations from the training mean at most, in the row embedding: a value farther off
(a holdout value of 1e76 in a column whose training values are near 1e-300) is as far as any,
and its squared distance stays finite."""
OTHER_TAG_SCALE = 1e-3
"""Labels that share the "other" coordinate also get a hash-derived coordinate below this, so two
different rare labels are a little apart (never at 0) while any mismatch still weighs about 1."""
NEIGHBOUR_CHUNK = 2048
"""Query rows per nearest-neighbour call."""
DISTANCE_DECIMALS = 6
"""Distances are rounded to this many decimals, so that equal distances tie despite
floating-point noise."""
CANDIDATE_MARGIN = 8
"""Extra neighbour candidates whose exact distances are recomputed: the approximate ranking may
swap rows whose distances differ by less than its rounding error."""
BOOTSTRAP_RESAMPLES = 1000
MIA_BOOTSTRAP_RESAMPLES = 200
Z_95 = 1.959963984540054


# -- the embedding ------------------------------------------------------------------------------


class RowEmbedding:
    """Rows as points in a space where one standard deviation and one category mismatch weigh 1.

    Numbers (datetimes as seconds) are standardized by the training mean and standard deviation;
    a null becomes 0 plus a null-indicator coordinate of 1, so null vs non-null weighs like one
    standard deviation more. Categories are one-hot coordinates scaled by 1/sqrt(2), so two rows
    with different labels are at distance 1 in that column; null is a label of its own, and labels
    unseen in training (or beyond :data:`MAX_ONE_HOT`) share an "other" coordinate, plus a tiny
    per-label coordinate (:data:`OTHER_TAG_SCALE`) so that only identical rows are at distance 0.

    Parameters
    ----------
    schema : Schema
    columns : list of str
        The columns to embed (numeric and categorical ones).
    """

    def __init__(self, *, schema: Schema, columns: list[str]) -> None:
        self.schema = schema
        self.columns = columns

    def fit(self, train: pd.DataFrame) -> RowEmbedding:
        self.numeric_: dict[str, tuple[float, float, float]] = {}  # standardisation()
        self.labels_: dict[str, dict[str, int]] = {}
        for name in self.columns:
            if is_numeric(self.schema.kind(name)):
                values = numeric_values(train[name], table="training table")
                self.numeric_[name] = standardisation(values[~np.isnan(values)])
            else:
                labels = pd.Series(_labels_with_null(train[name]), dtype=object)
                top = labels.value_counts().index[:MAX_ONE_HOT]
                self.labels_[name] = {str(label): i for i, label in enumerate(top)}
        return self

    @property
    def dimension(self) -> int:
        return 2 * len(self.numeric_) + sum(len(v) + 2 for v in self.labels_.values())

    def transform(self, df: pd.DataFrame, *, table: str = "table") -> np.ndarray:
        """The embedded rows, ndarray of shape (n_rows, dimension)."""
        if not hasattr(self, "numeric_"):
            raise not_fitted(self)
        points = np.zeros((len(df), self.dimension))  # (n_rows, dimension)
        offset = 0
        rows = np.arange(len(df))
        for name in self.columns:
            if name in self.numeric_:
                magnitude, mean, std = self.numeric_[name]
                values = numeric_values(df[name], table=table)
                with np.errstate(over="ignore"):  # beyond the float range: clipped just below
                    values = np.clip((values / magnitude - mean) / std, -FARTHEST, FARTHEST)
                null = np.isnan(values)
                points[:, offset] = np.where(null, 0.0, values)
                points[:, offset + 1] = null
                offset += 2
            else:
                codes = self.labels_[name]
                labels = pd.Series(_labels_with_null(df[name]), dtype=object)
                index = labels.map(codes).fillna(len(codes)).to_numpy(dtype=int)
                points[rows, offset + index] = 1.0 / np.sqrt(2.0)
                other = index == len(codes)
                points[other, offset + len(codes) + 1] = _label_tag(labels[other].to_numpy())
                offset += len(codes) + 2
        return points


def standardisation(
    values: np.ndarray, counts: np.ndarray | None = None
) -> tuple[float, float, float]:
    """How :class:`RowEmbedding` standardises a numeric column, from its present ``values``
    (each seen ``counts`` times, default once): ``(magnitude, mean, std)``, a value ``x`` becoming
    ``(x / magnitude - mean) / std``. Scaled by their largest magnitude first, values near
    +-1.7e308 do not overflow; a constant column keeps a unit of 1."""
    if not len(values):
        return 1.0, 0.0, 1.0
    magnitude = largest_magnitude(values)
    scaled = values / magnitude
    mean = float(np.average(scaled, weights=counts))
    std = float(np.sqrt(np.average((scaled - mean) ** 2, weights=counts)))
    return magnitude, mean, std if std > 0 else 1.0 / magnitude


def _label_tag(labels: np.ndarray) -> np.ndarray:
    """A tiny coordinate in [0, OTHER_TAG_SCALE) that tells "other" labels apart, so that only
    identical rows are at distance 0 (exact_copy_rate and the distances agree)."""
    hashed = pd.util.hash_array(labels.astype(str).astype(object)) % (2**20)
    return (1.0 + hashed) / (2**20 + 1) * OTHER_TAG_SCALE


def _labels_with_null(series: pd.Series) -> np.ndarray:
    labels = category_labels(series)
    labels[pd.isna(labels)] = NULL_LABEL
    return labels


def nearest_distances(reference: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Distances from each query row to its ``k`` nearest reference rows, ascending, exact.

    scikit-learn's brute-force search ranks by the expansion |x|^2 - 2xy + |y|^2, which cancels
    badly at large magnitudes (identical rows came out 4e-5 apart). It only proposes
    :data:`CANDIDATE_MARGIN` more candidates than asked for, on centred points; their distances are
    then recomputed as the norm of the difference, so identical rows are at exactly 0.

    Returns
    -------
    ndarray of shape (n_queries, k)
        Euclidean distances, rounded to :data:`DISTANCE_DECIMALS` except that a positive distance
        stays positive (0 means identical points); NaN columns when the reference has fewer than
        ``k`` rows.
    """
    result = np.full((len(queries), k), np.nan)
    k_found = min(k, len(reference))
    if k_found == 0 or len(queries) == 0:
        return result
    centre = reference.mean(axis=0)
    reference, queries = reference - centre, queries - centre
    n_candidates = min(k_found + CANDIDATE_MARGIN, len(reference))
    index = NearestNeighbors(n_neighbors=n_candidates, algorithm="brute").fit(reference)
    for start in range(0, len(queries), NEIGHBOUR_CHUNK):
        chunk = queries[start : start + NEIGHBOUR_CHUNK]
        candidates = index.kneighbors(chunk, return_distance=False)  # (chunk, n_candidates)
        exact = np.linalg.norm(reference[candidates] - chunk[:, None, :], axis=2)
        result[start : start + len(chunk), :k_found] = np.sort(exact, axis=1)[:, :k_found]
    rounded = np.round(result, DISTANCE_DECIMALS)
    return np.where((rounded == 0) & (result > 0), result, rounded)


# -- confidence intervals -------------------------------------------------------------------------


def bootstrap_ci(
    values: np.ndarray,
    statistic: Callable[..., np.ndarray],
    rng: np.random.Generator,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> tuple[float, float]:
    """95% percentile-bootstrap interval of ``statistic(values, axis=1)`` over resampled rows."""
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return (float("nan"), float("nan"))
    block = max(1, 2_000_000 // len(values))  # resamples per block, to bound memory
    stats = []
    for start in range(0, resamples, block):
        count = min(block, resamples - start)
        picks = rng.integers(0, len(values), size=(count, len(values)))
        stats.append(statistic(values[picks], axis=1))
    low, high = np.quantile(np.concatenate(stats), [0.025, 0.975])
    return (float(low), float(high))


def wilson_ci(successes: int, trials: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if trials == 0:
        return (float("nan"), float("nan"))
    p = successes / trials
    denominator = 1 + Z_95**2 / trials
    centre = (p + Z_95**2 / (2 * trials)) / denominator
    half = Z_95 * np.sqrt(p * (1 - p) / trials + Z_95**2 / (4 * trials**2)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return (float(low), float(high))


def _fifth_percentile(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    return np.quantile(values, 0.05, axis=axis)


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a positive scores above a negative), ties counting half (the Mann-Whitney ROC AUC)."""
    return float(_auc_rows(positive[None, :], negative[None, :])[0])


def _auc_rows(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """Row-wise ROC AUC of (resamples, n_pos) positive and (resamples, n_neg) negative scores."""
    n_pos, n_neg = positive.shape[1], negative.shape[1]
    ranks = rankdata(np.concatenate([positive, negative], axis=1), axis=1)
    return (ranks[:, :n_pos].sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def auc_bootstrap_ci(
    positive: np.ndarray, negative: np.ndarray, rng: np.random.Generator
) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the AUC, resampling each class separately."""
    stats = []
    block = 20
    for start in range(0, MIA_BOOTSTRAP_RESAMPLES, block):
        count = min(block, MIA_BOOTSTRAP_RESAMPLES - start)
        pos = positive[rng.integers(0, len(positive), size=(count, len(positive)))]
        neg = negative[rng.integers(0, len(negative), size=(count, len(negative)))]
        stats.append(_auc_rows(pos, neg))
    low, high = np.quantile(np.concatenate(stats), [0.025, 0.975])
    return (float(low), float(high))


# -- the shared distance computation -------------------------------------------------------------


def distances(context: EvaluationContext) -> dict[str, Any]:
    """Every nearest-neighbour distance the privacy metrics use (computed once per evaluation).

    Keys: ``synthetic_to_train`` (n_synthetic, 2), ``synthetic_to_holdout`` (n_synthetic,),
    ``holdout_to_train`` (n_holdout, 2), ``member_to_synthetic`` and ``nonmember_to_synthetic``
    (n_holdout,), and the row counts.
    """

    def compute() -> dict[str, Any]:
        rng = context.rng("privacy")
        columns = context.columns
        holdout = subsample(context.holdout, PRIVACY_MAX_ROWS, rng)
        # Training rows subsampled to the holdout's size: with more training than holdout rows a
        # perfect generator would sit closer to training rows by chance alone.
        train = subsample(context.real, len(holdout), rng)
        released = subsample(context.synthetic, MIA_MAX_SYNTHETIC, rng)
        embedding = RowEmbedding(schema=context.schema, columns=columns).fit(context.real)
        train_points = embedding.transform(train, table="real table")
        holdout_points = embedding.transform(holdout, table="holdout table")
        released_points = embedding.transform(released, table="synthetic table")
        picked = rng.choice(
            len(released), size=min(DCR_MAX_SYNTHETIC, len(released)), replace=False
        )
        synthetic_points = released_points[np.sort(picked)]
        to_synthetic = nearest_distances(
            released_points, np.concatenate([train_points, holdout_points]), 1
        )[:, 0]
        return {
            "synthetic_to_train": nearest_distances(train_points, synthetic_points, 2),
            "synthetic_to_holdout": nearest_distances(holdout_points, synthetic_points, 1)[:, 0],
            "holdout_to_train": nearest_distances(train_points, holdout_points, 2),
            "member_to_synthetic": to_synthetic[: len(train)],
            "nonmember_to_synthetic": to_synthetic[len(train) :],
            "n_train": len(train),
            "n_holdout": len(holdout),
            "n_synthetic": len(synthetic_points),
            "n_synthetic_attacked": len(released),
            "embedding_dimension": embedding.dimension,
        }

    return context.cached("distances", compute)


def _nndr(nearest_two: np.ndarray) -> np.ndarray:
    """Nearest / second-nearest distance; 0 when the nearest is at distance 0."""
    first, second = nearest_two[:, 0], nearest_two[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(first == 0, 0.0, first / second)


# -- registered metrics ---------------------------------------------------------------------------


@metric(
    "dcr_share",
    group="privacy",
    direction="target",
    range=(0.0, 1.0),
    ideal=0.5,
    needs=("holdout",),
    description="Share of synthetic rows closer to a training row than to a holdout row (ties "
    "half; training rows subsampled to the holdout's size). 0.5 ideal; far above: memorization.",
)
def dcr_share(context: EvaluationContext) -> Score:
    found = distances(context)
    to_train, to_holdout = found["synthetic_to_train"][:, 0], found["synthetic_to_holdout"]
    closer = (to_train < to_holdout) + 0.5 * (to_train == to_holdout)
    ci = bootstrap_ci(closer.astype(float), np.mean, context.rng("dcr_share_ci"))
    return Score(
        float(closer.mean()),
        ci=ci,
        details={"n_synthetic": found["n_synthetic"], "n_train": found["n_train"]},
    )


@metric(
    "dcr_p5",
    group="privacy",
    direction="higher",
    range=(0.0, np.inf),
    needs=("holdout",),
    description="5th percentile of the synthetic rows' distance to the closest training row; "
    "compare with the baseline, the same figure for holdout rows.",
)
def dcr_p5(context: EvaluationContext) -> Score:
    found = distances(context)
    synthetic, holdout = found["synthetic_to_train"][:, 0], found["holdout_to_train"][:, 0]
    baseline = float(_fifth_percentile(holdout))
    baseline_ci = bootstrap_ci(holdout, _fifth_percentile, context.rng("dcr_p5_baseline_ci"))
    return Score(
        float(_fifth_percentile(synthetic)),
        ci=bootstrap_ci(synthetic, _fifth_percentile, context.rng("dcr_p5_ci")),
        details={"baseline": baseline, "baseline_ci": list(baseline_ci)},
    )


@metric(
    "nndr",
    group="privacy",
    direction="higher",
    range=(0.0, 1.0),
    needs=("holdout",),
    description="Median ratio of the distances to the nearest and second-nearest training rows "
    "(low: synthetic rows sit on single training rows); baseline: the same for holdout rows.",
)
def nndr(context: EvaluationContext) -> Score:
    found = distances(context)
    synthetic, holdout = _nndr(found["synthetic_to_train"]), _nndr(found["holdout_to_train"])
    return Score(
        float(np.nanmedian(synthetic)) if np.isfinite(synthetic).any() else float("nan"),
        ci=bootstrap_ci(synthetic, np.median, context.rng("nndr_ci")),
        details={
            "baseline": float(np.nanmedian(holdout)) if np.isfinite(holdout).any() else None,
            "baseline_ci": list(bootstrap_ci(holdout, np.median, context.rng("nndr_base_ci"))),
        },
    )


@metric(
    "exact_copy_rate",
    group="privacy",
    direction="lower",
    range=(0.0, 1.0),
    needs=("holdout",),
    description="Share of synthetic rows identical to a training row (all rows, id-like columns "
    "left out); baseline: the same share for holdout rows.",
)
def exact_copy_rate(context: EvaluationContext) -> Score:
    train_keys = row_keys(context.schema, context.columns, context.real, "real table")
    synthetic_copies = int(
        np.isin(
            row_keys(context.schema, context.columns, context.synthetic, "synthetic table"),
            train_keys,
        ).sum()
    )
    holdout_copies = int(
        np.isin(
            row_keys(context.schema, context.columns, context.holdout, "holdout table"), train_keys
        ).sum()
    )
    n_synthetic, n_holdout = len(context.synthetic), len(context.holdout)
    return Score(
        synthetic_copies / n_synthetic,
        ci=wilson_ci(synthetic_copies, n_synthetic),
        details={
            "baseline": holdout_copies / n_holdout,
            "baseline_ci": list(wilson_ci(holdout_copies, n_holdout)),
        },
    )


@metric(
    "mia_auc",
    group="privacy",
    direction="target",
    range=(0.0, 1.0),
    ideal=0.5,
    needs=("holdout",),
    description="ROC AUC of a distance-based membership-inference attack (members: training rows, "
    "non-members: as many holdout rows; score: closeness of the nearest synthetic row). 0.5 means "
    "this attack fails, not that nothing leaks.",
)
def mia_auc(context: EvaluationContext) -> Score:
    found = distances(context)
    members, nonmembers = -found["member_to_synthetic"], -found["nonmember_to_synthetic"]
    return Score(
        roc_auc(members, nonmembers),
        ci=auc_bootstrap_ci(members, nonmembers, context.rng("mia_ci")),
        details={"n_members": len(members), "n_nonmembers": len(nonmembers)},
    )


def dcr_histograms(context: EvaluationContext, bins: int = 40) -> dict[str, Any]:
    """What the report's DCR plot draws: distances to the closest training row of synthetic and of
    holdout rows, and of synthetic rows to the closest holdout row, on shared bins."""
    found = distances(context)
    series = {
        "synthetic to training": found["synthetic_to_train"][:, 0],
        "synthetic to holdout": found["synthetic_to_holdout"],
        "holdout to training": found["holdout_to_train"][:, 0],
    }
    everything = np.concatenate(list(series.values()))
    high = float(np.nanquantile(everything, 0.99)) if len(everything) else 1.0
    edges = np.linspace(0.0, max(high, 1e-9), bins + 1)
    return {
        "edges": edges.tolist(),
        "series": {
            label: (np.histogram(np.clip(v, 0, high), bins=edges)[0] / max(len(v), 1)).tolist()
            for label, v in series.items()
        },
    }
