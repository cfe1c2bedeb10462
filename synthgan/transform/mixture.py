"""A one-dimensional variational Gaussian mixture with a Dirichlet-process prior, on weighted points.

Why not scikit-learn's BayesianGaussianMixture: it has no sample weights, so it must see every row.
Fitting on the distinct values of a column, weighted by their counts, is the exact same EM on the
full column at a fraction of the cost (an integer column of a million rows: a few hundred distinct
values). Where a column has more distinct values than ``max_points`` (Adult's fnlwgt: 21,648), they
are merged into ``max_points`` runs of consecutive values of equal weight, each summarised by its
weight, mean and variance (BIRCH-style clustering features); the EM uses the variance too, so its
statistics are exact for each run taken as a whole. Runs are far narrower than any component.
The updates are the standard mean-field ones (Bishop, PRML, sec. 10.2, with the stick-breaking weights of Blei & Jordan, 2006),
written for one dimension and vectorised over points and components.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, logsumexp
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class Mixture:
    """Fitted components: weights (summing to 1), means and standard deviations."""

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray

    @property
    def n_components(self) -> int:
        return len(self.weights)

    def posterior_weights(self, x: np.ndarray) -> np.ndarray:
        """Each value's posterior over components, up to a per-row factor: shape (n, k).

        Rows are scaled so their largest entry is 1 (no overflow); divide by the row sum for
        probabilities. Sampling a component needs no normalisation.
        """
        # halves: x - mean overflows between values near +-1e308; a value that far from a
        # mode (in its standard deviations) has weight 0 there, and inf says so
        half_z = (x[:, None] / 2 - self.means[None, :] / 2) / self.stds[None, :]  # (n, k)
        with np.errstate(over="ignore"):
            log_joint = np.log(self.weights / self.stds)[None, :] - 2.0 * half_z * half_z
        log_joint -= log_joint.max(axis=1, keepdims=True)
        return np.exp(log_joint, out=log_joint)


def fit_mixture(
    values: np.ndarray,
    weights: np.ndarray,
    *,
    max_components: int = 10,
    weight_threshold: float = 0.005,
    concentration: float = 1e-3,
    max_iter: int = 200,
    tol: float = 1e-5,
    max_points: int = 2048,
    seed: int = 0,
) -> Mixture:
    """Fit a variational DP Gaussian mixture to ``values`` with per-value ``weights``.

    Components whose expected weight falls below ``weight_threshold`` are dropped and the rest
    renormalised; components are returned sorted by mean. Deterministic for a given ``seed``
    (which seeds the k-means++ initialisation).
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    total = weights.sum()
    # Moments of the values divided by their largest magnitude: at 1e300 the squares overflow,
    # at 1e-300 they underflow to 0 (and every value would collapse onto one mean).
    magnitude = float(np.abs(values).max())
    if magnitude == 0.0:
        return Mixture(np.ones(1), np.zeros(1), np.ones(1))
    unit = values / magnitude
    unit_center = float(np.dot(weights, unit) / total)
    unit_scale = float(np.sqrt(np.dot(weights, (unit - unit_center) ** 2) / total))
    center = unit_center * magnitude
    if unit_scale == 0.0:  # one value: any width decodes it exactly
        return Mixture(np.ones(1), np.array([center]), np.array([abs(center) * 1e-3 or 1.0]))
    x = (unit - unit_center) / unit_scale  # standardised, for stable updates
    x, weights, spread = _summarise_runs(x, weights, max_points)

    k = int(min(max_components, len(x)))
    # k-means++ seeding finds small, distant clusters that a quantile split would merge.
    with warnings.catch_warnings():
        # fewer distinct clusters than k (heavily weighted points): the EM below sorts it out
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = (
            KMeans(n_clusters=k, n_init=1, random_state=seed)
            .fit(x[:, None], sample_weight=weights)
            .labels_
        )
    resp = np.zeros((len(x), k))
    resp[np.arange(len(x)), labels] = 1.0

    # Priors on standardised data. scikit-learn's defaults (beta0 = 1, psi0 = the data's variance)
    # pull a small, distant cluster's mean towards the centre and inflate its variance by the
    # squared distance; weak priors let such a cluster keep its own location and width.
    mean_prior, beta0, nu0, psi0 = 0.0, 1e-3, 1.0, 1e-2
    eps = 10 * np.finfo(np.float64).eps
    previous = None
    for _ in range(max_iter):
        # M step: sufficient statistics, then the variational posteriors' parameters
        wr = resp * weights[:, None]  # (m, k)
        nk = wr.sum(axis=0) + eps
        xbar = (wr * x[:, None]).sum(axis=0) / nk
        sk = (wr * ((x[:, None] - xbar) ** 2 + spread[:, None])).sum(axis=0) / nk + 1e-6
        alpha1 = 1.0 + nk
        alpha2 = concentration + (nk.sum() - np.cumsum(nk))
        beta = beta0 + nk
        mean = (beta0 * mean_prior + nk * xbar) / beta
        nu = nu0 + nk
        psi = psi0 + nk * sk + beta0 * nk / (beta0 + nk) * (xbar - mean_prior) ** 2

        shares = nk / nk.sum()
        if previous is not None and np.max(np.abs(shares - previous)) < tol:
            break
        previous = shares

        # E step
        dg_sum = digamma(alpha1 + alpha2)
        log_stick = digamma(alpha2) - dg_sum
        e_log_weight = digamma(alpha1) - dg_sum + np.concatenate(([0.0], np.cumsum(log_stick)[:-1]))
        e_log_precision = digamma(nu / 2.0) + np.log(2.0) - np.log(psi)
        e_precision = nu / psi
        log_rho = (
            e_log_weight
            + 0.5 * e_log_precision
            - 0.5 * LOG_2PI
            - 0.5 * (1.0 / beta + e_precision * ((x[:, None] - mean) ** 2 + spread[:, None]))
        )
        resp = np.exp(log_rho - logsumexp(log_rho, axis=1, keepdims=True))

    stick = alpha1 / (alpha1 + alpha2)
    expected_weights = stick * np.concatenate(([1.0], np.cumprod(1.0 - stick)[:-1]))
    keep = expected_weights > weight_threshold
    if not keep.any():
        keep[np.argmax(expected_weights)] = True
    kept_weights = expected_weights[keep] / expected_weights[keep].sum()
    means = (mean[keep] * unit_scale + unit_center) * magnitude
    stds = np.sqrt(psi[keep] / nu[keep]) * unit_scale * magnitude
    by_mean = np.argsort(means, kind="stable")
    return Mixture(kept_weights[by_mean], means[by_mean], stds[by_mean])


def _summarise_runs(
    x: np.ndarray, weights: np.ndarray, max_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge sorted-by-value points into at most ``max_points`` runs of about equal weight.

    Returns each run's mean, weight and within-run variance (all zero variance when no merge is
    needed).
    """
    if len(x) <= max_points:
        return x, weights, np.zeros_like(x)
    order = np.argsort(x, kind="stable")
    x, weights = x[order], weights[order]
    start_share = (np.cumsum(weights) - weights) / weights.sum()
    run = np.minimum((start_share * max_points).astype(np.int64), max_points - 1)
    run_weight = np.bincount(run, weights=weights)
    used = run_weight > 0
    run_weight = run_weight[used]
    run_mean = np.bincount(run, weights=weights * x)[used] / run_weight
    run_sq = np.bincount(run, weights=weights * x * x)[used] / run_weight
    return run_mean, run_weight, np.maximum(run_sq - run_mean**2, 0.0)
