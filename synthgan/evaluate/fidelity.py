"""Fidelity: how closely the synthetic table matches the real one, column by column and in pairs.

Definitions (exact formulas in docs/metrics.md):

* column shape: 1 - KS statistic (numeric: continuous, integer, datetime as seconds) or
  1 - total variation distance (discrete, boolean), on non-null values;
* column pair: 1 - |corr_real - corr_synthetic| / 2 for two numeric columns (Pearson), otherwise
  1 - total variation distance of the two contingency tables (numbers in 10 bins, null its own
  value), on at most :data:`PAIRS_MAX_ROWS` rows of each table;
* per column: Wasserstein distance on values standardized by the real mean and deviation,
  null-rate difference, coverage and adherence;
* detection: ROC AUC of the fixed gradient-boosted model telling real from synthetic rows on
  held-out folds, on at most :data:`DETECTION_MAX_ROWS` rows of each table.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance
from sklearn.metrics import roc_auc_score

from synthgan.evaluate._columns import (
    category_labels,
    is_numeric,
    largest_magnitude,
    numeric_values,
    row_keys,
)
from synthgan.evaluate.context import EvaluationContext, subsample
from synthgan.evaluate.registry import Score, metric
from synthgan.evaluate.utility import make_utility_model
from synthgan.schema import ColumnKind

PAIRS_MAX_ROWS = 20_000
"""Rows of each table (drawn at random) the pair metrics look at."""
PAIR_BINS = 10
"""Equal-width bins over the real range that a numeric column falls into in a contingency table."""
DETECTION_MAX_ROWS = 10_000
"""Rows of each table (drawn at random) the detection classifier sees."""
DETECTION_FOLDS = 3
HISTOGRAM_BINS = 30
TOP_CATEGORIES = 12
"""Categories shown per column in the report's bar charts (the rest are pooled)."""


# -- per column -----------------------------------------------------------------------------------


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def total_variation(a: np.ndarray, b: np.ndarray) -> float:
    """Half the L1 distance between the label frequencies of ``a`` and ``b``."""
    freq_a = pd.Series(a, dtype=object).value_counts(normalize=True)
    freq_b = pd.Series(b, dtype=object).value_counts(normalize=True)
    freq_a, freq_b = freq_a.align(freq_b, fill_value=0.0)
    return float(0.5 * np.abs(freq_a.to_numpy() - freq_b.to_numpy()).sum())


def _numeric_column_scores(real: np.ndarray, synth: np.ndarray) -> dict[str, float]:
    """Scores of one numeric column from its non-null values."""
    if len(synth) == 0:
        return {"shape": 0.0, "wasserstein": float("nan"), "coverage": 0.0, "adherence": 0.0}
    # every score below is unchanged by scaling both columns; scaled by their largest magnitude,
    # means, spreads and ranges of values near +-1.7e308 do not overflow
    magnitude = largest_magnitude(real, synth)
    real, synth = real / magnitude, synth / magnitude
    low, high = real.min(), real.max()
    centre, scale = real.mean(), real.std()
    scale = scale if scale > 0 else 1.0
    if high > low:
        covered = min(high, synth.max()) - max(low, synth.min())
        coverage = float(np.clip(covered / (high - low), 0.0, 1.0))
    else:
        coverage = float(np.any(synth == low))
    return {
        "shape": 1.0 - ks_statistic(real, synth),
        "wasserstein": float(
            wasserstein_distance((real - centre) / scale, (synth - centre) / scale)
        ),
        "coverage": coverage,
        "adherence": float(np.mean((synth >= low) & (synth <= high))),
    }


def _categorical_column_scores(real: np.ndarray, synth: np.ndarray) -> dict[str, float]:
    """Scores of one categorical column from its non-null labels."""
    if len(synth) == 0:
        return {"shape": 0.0, "wasserstein": float("nan"), "coverage": 0.0, "adherence": 0.0}
    real_labels = pd.unique(real)
    return {
        "shape": 1.0 - total_variation(real, synth),
        "wasserstein": float("nan"),
        "coverage": float(np.mean(np.isin(real_labels, synth))),
        "adherence": float(np.mean(np.isin(synth, real_labels))),
    }


def column_values(context: EvaluationContext, name: str, table: str) -> np.ndarray:
    """A column of ``table`` ("real", "synthetic", "holdout") as floats (numeric) or labels."""
    df = getattr(context, table)
    if is_numeric(context.schema.kind(name)):
        return numeric_values(df[name], table=f"{table} table")
    return category_labels(df[name])


def column_table(context: EvaluationContext) -> pd.DataFrame:
    """One row per compared column: kind, shape, wasserstein, null-rate difference, coverage,
    adherence (computed once per evaluation)."""

    def compute() -> pd.DataFrame:
        rows = []
        for name in context.columns:
            kind = context.schema.kind(name)
            real = column_values(context, name, "real")
            synth = column_values(context, name, "synthetic")
            real_null, synth_null = pd.isna(real), pd.isna(synth)
            score = _numeric_column_scores if is_numeric(kind) else _categorical_column_scores
            scores = score(real[~real_null], synth[~synth_null])
            rows.append(
                {
                    "column": name,
                    "kind": kind.value,
                    **scores,
                    "null_rate_difference": abs(float(real_null.mean()) - float(synth_null.mean())),
                }
            )
        columns = ["column", "kind", "shape", "wasserstein", "null_rate_difference"]
        return pd.DataFrame(rows, columns=[*columns, "coverage", "adherence"])

    return context.cached("column_table", compute)


@metric(
    "column_shapes",
    group="fidelity",
    direction="higher",
    range=(0.0, 1.0),
    description="Mean over columns of 1 - KS statistic (numeric) or 1 - total variation (categorical).",
)
def column_shapes(context: EvaluationContext) -> Score:
    table = column_table(context)
    return Score(float(table["shape"].mean()), details={"per_column": _records(table, "shape")})


@metric(
    "wasserstein",
    group="fidelity",
    direction="lower",
    range=(0.0, np.inf),
    description="Mean over numeric columns of the Wasserstein distance on real-standardized values.",
)
def wasserstein(context: EvaluationContext) -> float:
    values = column_table(context)["wasserstein"].dropna()
    return float(values.mean()) if len(values) else float("nan")


@metric(
    "null_rate_difference",
    group="fidelity",
    direction="lower",
    range=(0.0, 1.0),
    description="Largest absolute difference between a column's real and synthetic null rates.",
)
def null_rate_difference(context: EvaluationContext) -> float:
    return float(column_table(context)["null_rate_difference"].max())


@metric(
    "coverage",
    group="fidelity",
    direction="higher",
    range=(0.0, 1.0),
    description="Mean share of real categories / of the real range that the synthetic data covers.",
)
def coverage(context: EvaluationContext) -> float:
    return float(column_table(context)["coverage"].mean())


@metric(
    "adherence",
    group="fidelity",
    direction="higher",
    range=(0.0, 1.0),
    description="Mean share of synthetic values inside the real range / among the real categories.",
)
def adherence(context: EvaluationContext) -> float:
    return float(column_table(context)["adherence"].mean())


# -- pairs ------------------------------------------------------------------------------------------


def _pair_codes(real: np.ndarray, synth: np.ndarray, numeric: bool) -> tuple[np.ndarray, ...]:
    """Integer codes of one column in both tables for contingency tables; null is its own code."""
    if numeric:
        present = real[~np.isnan(real)]
        low, high = (present.min(), present.max()) if len(present) else (0.0, 1.0)
        # halves: high - low overflows for values near +-1.7e308 (the same edges otherwise)
        edges = 2.0 * np.linspace(low / 2.0, high / 2.0, PAIR_BINS + 1)[1:-1]

        def codes_of(values: np.ndarray) -> np.ndarray:
            return np.where(np.isnan(values), PAIR_BINS, np.searchsorted(edges, values, "right"))

        return codes_of(real), codes_of(synth), PAIR_BINS + 1
    labels = pd.Series(np.concatenate([real, synth]), dtype=object)
    codes, uniques = pd.factorize(labels, use_na_sentinel=True)
    codes = np.where(codes < 0, len(uniques), codes)
    return codes[: len(real)], codes[len(real) :], len(uniques) + 1


def _contingency_similarity(real_codes, synth_codes, sizes) -> float:
    """1 - total variation between the joint frequencies of two coded columns."""
    (real_a, real_b), (synth_a, synth_b) = real_codes, synth_codes
    cells = sizes[0] * sizes[1]
    real_freq = np.bincount(real_a * sizes[1] + real_b, minlength=cells) / len(real_a)
    synth_freq = np.bincount(synth_a * sizes[1] + synth_b, minlength=cells) / len(synth_a)
    return float(1.0 - 0.5 * np.abs(real_freq - synth_freq).sum())


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    both = ~(np.isnan(a) | np.isnan(b))
    a, b = a[both], b[both]
    if len(a) < 2:
        return float("nan")
    # unchanged by scaling either column; scaled by its largest magnitude, the sums of squares of
    # values near +-1.7e308 do not overflow
    a, b = a / largest_magnitude(a), b / largest_magnitude(b)
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def pair_matrix(context: EvaluationContext) -> pd.DataFrame:
    """Pair scores of every two compared columns, a symmetric (n_columns, n_columns) frame with 1
    on the diagonal (computed once per evaluation)."""

    def compute() -> pd.DataFrame:
        rng = context.rng("pairs")
        real = subsample(context.real, PAIRS_MAX_ROWS, rng)
        synth = subsample(context.synthetic, PAIRS_MAX_ROWS, rng)
        names = context.columns
        values, codes = {}, {}
        for name in names:
            numeric = is_numeric(context.schema.kind(name))
            if numeric:
                real_values = numeric_values(real[name], table="real table")
                synth_values = numeric_values(synth[name], table="synthetic table")
            else:
                real_values, synth_values = (
                    category_labels(real[name]),
                    category_labels(synth[name]),
                )
            values[name] = (real_values, synth_values) if numeric else None
            codes[name] = _pair_codes(real_values, synth_values, numeric)
        matrix = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
        for a, b in combinations(names, 2):
            score = float("nan")
            if values[a] is not None and values[b] is not None:
                rho_real = _correlation(values[a][0], values[b][0])
                rho_synth = _correlation(values[a][1], values[b][1])
                score = 1.0 - abs(rho_real - rho_synth) / 2.0
            if np.isnan(score):  # a categorical column, or a constant numeric one
                score = _contingency_similarity(
                    (codes[a][0], codes[b][0]),
                    (codes[a][1], codes[b][1]),
                    (codes[a][2], codes[b][2]),
                )
            matrix.loc[a, b] = matrix.loc[b, a] = score
        return matrix

    return context.cached("pair_matrix", compute)


@metric(
    "column_pairs",
    group="fidelity",
    direction="higher",
    range=(0.0, 1.0),
    description="Mean over column pairs of correlation similarity (numeric) or contingency similarity.",
)
def column_pairs(context: EvaluationContext) -> Score:
    matrix = pair_matrix(context).to_numpy()
    upper = matrix[np.triu_indices_from(matrix, k=1)]
    if upper.size == 0:
        return Score(float("nan"))
    return Score(float(upper.mean()))


# -- detection ----------------------------------------------------------------------------------


@metric(
    "detection_auc",
    group="fidelity",
    direction="target",
    range=(0.0, 1.0),
    ideal=0.5,
    description="ROC AUC of a gradient-boosted model telling real from synthetic rows on held-out "
    "folds (0.5: indistinguishable).",
)
def detection_auc(context: EvaluationContext) -> float:
    rng = context.rng("detection")
    columns = context.columns
    real = subsample(context.real[columns], DETECTION_MAX_ROWS, rng)
    synth = subsample(context.synthetic[columns], DETECTION_MAX_ROWS, rng)
    rows = pd.concat([real, synth], ignore_index=True)
    is_synthetic = np.r_[np.zeros(len(real), dtype=int), np.ones(len(synth), dtype=int)]
    # Identical rows share a fold: a copied row must not be recognised by its twin's label.
    keys = row_keys(context.schema, columns, rows, "detection table")
    _, group = np.unique(keys, return_inverse=True)
    fold = rng.integers(0, DETECTION_FOLDS, size=group.max() + 1)[group]
    scores = np.empty(len(rows))
    for k in range(DETECTION_FOLDS):
        train_index, test_index = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        if len(test_index) == 0:
            continue
        model = make_utility_model(
            "classification",
            schema=context.schema,
            random_state=context.random_state,
            n_threads=context.n_threads,
        )
        model.fit(rows.iloc[train_index], is_synthetic[train_index])
        proba = model.predict_proba(rows.iloc[test_index])
        scores[test_index] = proba[:, -1] if proba.shape[1] == 2 else 0.5
    return float(roc_auc_score(is_synthetic, scores))


# -- plot data ----------------------------------------------------------------------------------


def distributions(context: EvaluationContext) -> dict[str, dict[str, Any]]:
    """Per column, what the report's real-vs-synthetic plot draws (histogram or bars)."""
    result: dict[str, dict[str, Any]] = {}
    for name in context.columns:
        real = column_values(context, name, "real")
        synth = column_values(context, name, "synthetic")
        if is_numeric(context.schema.kind(name)):
            real, synth = real[~np.isnan(real)], synth[~np.isnan(synth)]
            low, high = np.quantile(np.concatenate([real, synth]), [0.005, 0.995])
            if high <= low:
                low, high = low - 0.5, high + 0.5
            # halves: high - low overflows for values near +-1.7e308
            edges = np.linspace(low / 2, high / 2, HISTOGRAM_BINS + 1) * 2
            result[name] = {
                "type": "histogram",
                "datetime": context.schema.kind(name) is ColumnKind.DATETIME,
                "edges": edges.tolist(),
                "real": _density(np.clip(real, low, high), edges),
                "synthetic": _density(np.clip(synth, low, high), edges),
            }
        else:
            real_freq = _label_frequencies(real)
            synth_freq = _label_frequencies(synth)
            top = list(real_freq.index[:TOP_CATEGORIES])
            real_shares = [float(real_freq.get(t, 0.0)) for t in top]
            synth_shares = [float(synth_freq.get(t, 0.0)) for t in top]
            other = (1.0 - sum(real_shares), 1.0 - sum(synth_shares))
            if max(other) > 1e-9:  # labels beyond the top ones, or synthetic-only labels
                top, real_shares, synth_shares = (
                    [*top, "(other)"],
                    [*real_shares, other[0]],
                    [*synth_shares, other[1]],
                )
            result[name] = {
                "type": "bars",
                "labels": [str(t) for t in top],
                "real": real_shares,
                "synthetic": synth_shares,
            }
    return result


def _density(values: np.ndarray, edges: np.ndarray) -> list[float]:
    counts, _ = np.histogram(values, bins=edges)
    return (counts / max(len(values), 1)).tolist()


def _label_frequencies(labels: np.ndarray) -> pd.Series:
    series = pd.Series(labels, dtype=object).fillna("(null)")
    return series.value_counts(normalize=True)


def _records(table: pd.DataFrame, column: str) -> dict[str, float]:
    return dict(zip(table["column"], table[column].astype(float)))
