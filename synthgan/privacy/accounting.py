"""The privacy budget: noise calibration and the epsilon actually spent, with Opacus' RDP analysis.

Every mechanism that reads the training rows is a Gaussian mechanism, so the whole fit is
accounted in Renyi DP (Mironov 2017) and converted to (epsilon, delta) once, at the end:

* the statistics release (:mod:`synthgan.privacy.dp_transform`): one Gaussian histogram, an
  unsampled Gaussian mechanism (sampling rate 1, one step);
* the critic's DP-SGD steps (:mod:`synthgan.privacy.dp_training`): the Poisson-sampled Gaussian
  mechanism, ``steps`` times, rate ``sample_rate`` over packs.

The RDP of each comes from ``opacus.accountants.analysis.rdp.compute_rdp`` (the analysis behind
Opacus' ``RDPAccountant``) and the conversion from ``get_privacy_spent``.

The privacy unit is one row. With ``pac == 1`` a row is a sampling unit, Opacus' add/remove
setting exactly. With ``pac > 1`` a row belongs to one pack of a fixed random partition; adding or
removing it *changes* that pack (a substitution of one sampling unit), which is bounded by going
through the neighbour without the pack, with the weak triangle inequality of RDP (Mironov 2017,
Proposition 11, p = q = 2):

    D_a(P || R) <= (a - 1/2) / (a - 1) * D_2a(P || Q) + D_(2a-1)(Q || R).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from synthgan.exceptions import InvalidDataError

ORDERS = tuple([1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)) + [80, 128, 256])
"""Renyi orders at which budgets are tracked (Opacus' default alphas and a few large ones)."""
STATS_BUDGET_SHARE = 0.5
"""The statistics release gets the noise that alone would cost this share of epsilon; DP-SGD's
noise is then calibrated so that the composition of all releases spends exactly epsilon.
Gaussian releases add up in Renyi DP by their divergences, which grow with the square of what a
release would cost alone: at 0.5 (and the marginals' 0.5) DP-SGD keeps about half of the
composed budget, and its noise rises by about a fifth over a share of 0.1 (Adult at epsilon 3:
1.49 -> 1.79), while the statistics' noise falls about fivefold, so categories and tails of
about 70 rows survive where 320 did (docs/privacy.md, "The statistics' share of the budget")."""
MARGINALS_BUDGET_SHARE = 0.5
"""The two-way marginals release (synthgan.privacy.dp_marginals) gets the noise that alone would
cost this share of epsilon, decided like the statistics' (docs/privacy.md: the share was chosen on
the public benchmark tables, never on the private data)."""
THRESHOLD_DELTA_SHARE = 0.1
"""Share of delta spent on the noisy threshold that keeps rare categories out of discovered
category lists (only when some category list is read from the data)."""
MAX_GRAD_NORM = 1.0
"""Per-pack gradient clipping bound C."""
MAX_NOISE_MULTIPLIER = 1e4


def _require_opacus():
    try:
        from opacus.accountants.analysis import rdp
    except ImportError:  # pragma: no cover - depends on the environment
        raise InvalidDataError(
            "epsilon= needs the opacus package for its privacy accountant. Install it with "
            "pip install 'synthgan[privacy]' (or pip install opacus)."
        ) from None
    return rdp


def opacus_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("opacus")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _rdp(sigma: float, sample_rate: float, steps: int, orders) -> np.ndarray:
    if steps == 0 or sample_rate == 0:
        return np.zeros(len(orders))
    rdp = _require_opacus()
    return np.asarray(
        rdp.compute_rdp(
            q=float(sample_rate), noise_multiplier=float(sigma), steps=int(steps),
            orders=[float(a) for a in orders],
        ), dtype=np.float64,
    )  # fmt: skip


def gaussian_rdp(sigma: float, orders=ORDERS) -> np.ndarray:
    """RDP of one unsampled Gaussian mechanism with noise ``sigma`` times the L2 sensitivity."""
    return _rdp(sigma, 1.0, 1, orders)


def sgd_rdp(
    sigma: float, sample_rate: float, steps: int, *, substitution: bool, orders=ORDERS
) -> np.ndarray:
    """RDP of ``steps`` Poisson-sampled Gaussian steps, per row.

    ``substitution``: a row's presence changes a sampling unit rather than adding one (packs of
    more than one row); bounded with the weak triangle inequality (module docstring).
    """
    if not substitution:
        return _rdp(sigma, sample_rate, steps, orders)
    alphas = np.asarray(orders, dtype=np.float64)
    remove = _rdp(sigma, sample_rate, steps, 2.0 * alphas)
    add = _rdp(sigma, sample_rate, steps, 2.0 * alphas - 1.0)
    return (alphas - 0.5) / (alphas - 1.0) * remove + add


def epsilon_from_rdp(rdp_values: np.ndarray, delta: float, orders=ORDERS) -> float:
    rdp = _require_opacus()
    eps, _ = rdp.get_privacy_spent(orders=list(orders), rdp=list(rdp_values), delta=delta)
    return float(eps)


def _bisect_sigma(epsilon_of, target: float) -> float:
    """Smallest noise multiplier (to 0.1%) whose epsilon is at most ``target``."""
    low, high = 0.05, 1.0
    while epsilon_of(high) > target:
        low, high = high, high * 2.0
        if high > MAX_NOISE_MULTIPLIER:
            raise InvalidDataError(
                f"epsilon={target:g} cannot be met for this many training steps with a noise "
                f"multiplier below {MAX_NOISE_MULTIPLIER:g}. Raise epsilon or train fewer epochs."
            )
    while high / low > 1.001:
        mid = math.sqrt(low * high)
        if epsilon_of(mid) > target:
            low = mid
        else:
            high = mid
    return high


@dataclass
class PrivacyPlan:
    """What every mechanism of one private fit is told, decided before any row is read."""

    epsilon: float
    delta: float
    delta_threshold: float
    stats_noise_multiplier: float | None
    noise_multiplier: float
    sample_rate: float
    steps: int
    pac: int
    max_grad_norm: float = MAX_GRAD_NORM
    marginals_noise_multiplier: float | None = None
    """Noise of the two-way marginals release, relative to its L2 sensitivity (None: none)."""

    @property
    def delta_rdp(self) -> float:
        return self.delta - self.delta_threshold

    @property
    def substitution(self) -> bool:
        return self.pac > 1

    def rdp(self, steps_taken: int, *, with_stats: bool = True) -> np.ndarray:
        total = sgd_rdp(
            self.noise_multiplier, self.sample_rate, steps_taken, substitution=self.substitution
        )
        if with_stats and self.stats_noise_multiplier is not None:
            total = total + gaussian_rdp(self.stats_noise_multiplier)
        if with_stats and self.marginals_noise_multiplier is not None:
            total = total + gaussian_rdp(self.marginals_noise_multiplier)
        return total

    def spent(self, steps_taken: int) -> float:
        """Total epsilon (at ``delta``) of the statistics and marginals releases and
        ``steps_taken`` steps."""
        return epsilon_from_rdp(self.rdp(steps_taken), self.delta_rdp)

    def to_dict(self) -> dict:
        return asdict(self)


def default_delta(n_rows: int) -> float:
    """Well below 1/n: min(1e-5, 1/(10 n))."""
    return min(1e-5, 1.0 / (10.0 * max(n_rows, 1)))


def threshold_delta(delta: float, discovers_categories: bool) -> float:
    return THRESHOLD_DELTA_SHARE * delta if discovers_categories else 0.0


def stats_noise_multiplier(epsilon: float, delta_rdp: float) -> float:
    """Noise of the statistics release: alone it would cost ``STATS_BUDGET_SHARE * epsilon``.

    Decided before any row is read, and before the sampling rate (which depends on the noisy row
    count that this release contains)."""
    return release_noise_multiplier(STATS_BUDGET_SHARE * epsilon, delta_rdp)


def release_noise_multiplier(epsilon: float, delta_rdp: float) -> float:
    """Noise multiplier of one Gaussian release that alone costs ``epsilon`` at ``delta_rdp``."""
    return _bisect_sigma(lambda s: epsilon_from_rdp(gaussian_rdp(s), delta_rdp), epsilon)


def plan_budget(
    *,
    epsilon: float,
    delta: float,
    sample_rate: float,
    steps: int,
    pac: int,
    stats_sigma: float | None,
    discovers_categories: bool,
    marginals_sigma: float | None = None,
) -> PrivacyPlan:
    """Calibrate DP-SGD's noise: the smallest for which the RDP composition of the statistics
    release (noise ``stats_sigma``, see :func:`stats_noise_multiplier`), the marginals release
    (``marginals_sigma``) and ``steps`` DP-SGD steps is within ``epsilon`` at ``delta`` (less the
    threshold's share)."""
    delta_threshold = threshold_delta(delta, discovers_categories)
    delta_rdp = delta - delta_threshold
    stats_rdp = np.zeros(len(ORDERS)) if stats_sigma is None else gaussian_rdp(stats_sigma)
    if marginals_sigma is not None:
        stats_rdp = stats_rdp + gaussian_rdp(marginals_sigma)
    substitution = pac > 1
    sigma = _bisect_sigma(
        lambda s: epsilon_from_rdp(
            stats_rdp + sgd_rdp(s, sample_rate, steps, substitution=substitution), delta_rdp
        ),
        epsilon,
    )
    return PrivacyPlan(
        epsilon=float(epsilon),
        delta=float(delta),
        delta_threshold=float(delta_threshold),
        stats_noise_multiplier=stats_sigma,
        noise_multiplier=float(sigma),
        sample_rate=float(sample_rate),
        steps=int(steps),
        pac=int(pac),
        marginals_noise_multiplier=marginals_sigma,
    )
