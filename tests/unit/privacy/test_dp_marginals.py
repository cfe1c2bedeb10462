"""The two-way marginals release of a private fit and the selection fitted to it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthgan import Synthesizer, load
from synthgan.model.selection import mutual_information, pair_count, select_pairs
from synthgan.privacy import accounting
from synthgan.privacy.accounting import plan_budget, release_noise_multiplier
from synthgan.privacy.dp_marginals import measure_pairs
from synthgan.schema import ColumnKind
from synthgan.transform.layout import Activation, Span, SpanRole
from tests.unit.privacy.conftest import SMALL, private_frame

SPANS = tuple(
    Span(name, ColumnKind.DISCRETE, SpanRole.CATEGORY, start, width, Activation.SOFTMAX)
    for name, start, width in (("a", 0, 3), ("b", 3, 3), ("c", 6, 2))
)


def encoded(codes: np.ndarray) -> torch.Tensor:
    """One-hot rows of SPANS from (n, 3) categories."""
    return torch.cat([torch.as_tensor(np.eye(s.width, dtype=np.float32)[codes[:, i]])
                      for i, s in enumerate(SPANS)], dim=1)  # fmt: skip


def dependent_codes(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, n)
    b = np.where(rng.random(n) < 0.9, a, rng.integers(0, 3, n))  # b mostly copies a
    c = rng.integers(0, 2, n)  # independent
    return np.stack([a, b, c], 1)


def test_the_tree_joins_the_dependent_spans_and_reaches_every_span():
    codes = torch.as_tensor(dependent_codes(20_000, 0))
    widths = [3, 3, 2]
    assert mutual_information(codes, 0, 1, widths) > 0.5 > 0.01 > mutual_information(
        codes, 0, 2, widths
    )
    pairs = select_pairs(codes, widths)
    assert pairs[0] == (0, 1)  # the tree comes first, strongest pair first
    assert {s for pair in pairs[:2] for s in pair} == {0, 1, 2}  # the tree reaches every span
    assert len(pairs) == pair_count(3) == 3  # a narrow table: every pair
    assert pair_count(15) == 28 and pair_count(2) == 1


def test_a_hub_adds_its_pairs_to_the_tree_and_the_strongest_pairs():
    rng = np.random.default_rng(4)
    n, n_spans = 20_000, 8
    codes = rng.integers(0, 3, (n, n_spans))
    codes[:, 1] = np.where(rng.random(n) < 0.9, codes[:, 0], codes[:, 1])  # 0 and 1 tied
    codes[:, 3] = np.where(rng.random(n) < 0.9, codes[:, 2], codes[:, 3])  # 2 and 3 tied
    codes = torch.as_tensor(codes)
    widths = [3] * n_spans
    plain = select_pairs(codes, widths)
    assert select_pairs(codes, widths, hub=None) == plain
    pairs = select_pairs(codes, widths, hub=7)  # span 7 is independent of the others
    assert pairs[: len(plain)] == plain  # the selection without a hub, unchanged
    assert {p for p in pairs if 7 in p} == {(a, 7) for a in range(7)}  # and all the hub's
    assert len(pairs) == len(set(pairs)) == len(plain) + 7 - sum(7 in p for p in plain)


def test_a_private_target_is_measured_against_every_column():
    model = Synthesizer(epsilon=8.0, pac=1, target="flag", **SMALL).fit(private_frame())
    marginals = model.privacy_["marginals"]
    assert marginals["measured_against"] == "flag"
    partners = {a if b == "flag" else b for a, b in marginals["pairs"] if "flag" in (a, b)}
    assert partners == {"price", "age", "city", "gain"}  # every other modelled column
    assert model.target_classifier_ is None  # it would read real rows outside DP-SGD
    assert model.sample(50, random_state=0)["flag"].isin([True, False]).all()
    without = Synthesizer(epsilon=8.0, pac=1, **SMALL).fit(private_frame())
    assert without.privacy_["marginals"]["measured_against"] is None


def test_the_release_adds_noise_of_the_stated_size_to_the_exact_counts():
    real = encoded(dependent_codes(5000, 1))
    exact = measure_pairs(real, SPANS, [(0, 1)], noise_multiplier=1e-9, noisy_rows=5000,
                          rng=np.random.default_rng(0))[0]  # fmt: skip
    counts = np.zeros((3, 3))
    codes = dependent_codes(5000, 1)
    np.add.at(counts, (codes[:, 0], codes[:, 1]), 1)
    np.testing.assert_allclose(exact.shares.numpy() * 5000, counts, atol=1e-6)
    noisy = measure_pairs(real, SPANS, [(0, 1), (0, 2)], noise_multiplier=5.0, noisy_rows=5000,
                          rng=np.random.default_rng(0))  # fmt: skip
    # sensitivity sqrt(2): every cell's noise has sd 5 * sqrt(2)
    assert noisy[0].error == pytest.approx(5.0 * np.sqrt(2) / 5000)
    residual = noisy[0].shares.numpy() * 5000 - counts
    assert 3.0 < residual.std() < 12.0


def test_pair_factors_give_the_kept_rows_the_measured_pair_shares():
    from synthgan.model.selection import fit_marginal_factors

    real = encoded(dependent_codes(30_000, 2))
    rng = np.random.default_rng(3)
    fake = encoded(np.stack([rng.integers(0, 3, 40_000), rng.integers(0, 3, 40_000),
                             rng.integers(0, 2, 40_000)], 1))  # independent columns
    targets = measure_pairs(real, SPANS, [(0, 1), (1, 2)], noise_multiplier=2.0,
                            noisy_rows=30_000, rng=np.random.default_rng(4))  # fmt: skip
    factors, ceiling, facts = fit_marginal_factors(
        fake, torch.zeros(len(fake)), SPANS, target_rows=30_000, pairs=tuple(targets)
    )
    accept = torch.exp(torch.clamp(factors.score(fake) - ceiling, max=0.0))
    codes = torch.as_tensor(np.stack([fake[:, s.start : s.stop].argmax(1) for s in SPANS], 1))
    kept = torch.bincount(codes[:, 0] * 3 + codes[:, 1], weights=accept.float(), minlength=9)
    kept = (kept / kept.sum()).reshape(3, 3).numpy()
    np.testing.assert_allclose(kept, targets[0].shares.numpy(), atol=0.01)
    assert facts["marginal_gap"] < facts["marginal_gap_without_factors"] / 5


def test_the_marginals_release_is_part_of_the_accounted_budget():
    sigma = release_noise_multiplier(1.5, 9e-7)
    with_marginals = plan_budget(epsilon=3.0, delta=1e-6, sample_rate=0.02, steps=500, pac=1,
                                 stats_sigma=None, discovers_categories=False,
                                 marginals_sigma=sigma)  # fmt: skip
    without = plan_budget(epsilon=3.0, delta=1e-6, sample_rate=0.02, steps=500, pac=1,
                          stats_sigma=None, discovers_categories=False)  # fmt: skip
    assert with_marginals.noise_multiplier > without.noise_multiplier
    assert 0.98 * 3.0 <= with_marginals.spent(500) <= 3.0
    alone = accounting.epsilon_from_rdp(accounting.gaussian_rdp(sigma), 9e-7)
    assert alone == pytest.approx(1.5, rel=0.01)


def test_a_private_fit_releases_tree_marginals_and_samples_through_them(tmp_path):
    model = Synthesizer(epsilon=8.0, pac=1, **SMALL).fit(private_frame())
    marginals = model.privacy_["marginals"]
    spans = model.transformer_.layout_.softmax_spans
    assert len(marginals["pairs"]) == pair_count(len(spans))
    assert model.privacy_["plan"]["marginals_noise_multiplier"] > 0
    assert model.privacy_["epsilon_spent"] <= 8.0
    assert model.row_critic_ is None  # a row classifier would read real rows
    tuning = marginals["tuning"]
    assert tuning["divergence_last_step"] < tuning["divergence_first_step"]
    if marginals["used"]:
        assert model.selection_["pairs"] and model.marginal_factors_.pairs
    again = load(model.save(tmp_path / "m.synthgan"), device="cpu")
    first, second = model.sample(200, random_state=1), again.sample(200, random_state=1)
    assert first.equals(second)


def test_rejection_false_releases_no_marginals():
    model = Synthesizer(epsilon=8.0, pac=1, rejection=False, **SMALL).fit(private_frame())
    assert model.privacy_["marginals"] is None
    assert model.privacy_["plan"]["marginals_noise_multiplier"] is None
    assert model.selection_ is None


def test_tuning_moves_the_generator_to_the_measured_pair_tables():
    from synthgan.model.networks import Generator
    from synthgan.model.sampler import ConditionSampler
    from synthgan.privacy.dp_marginals import tune_generator

    real = encoded(dependent_codes(4000, 0))
    pairs = [(0, 1), (1, 2)]
    targets = measure_pairs(real, SPANS, pairs, noise_multiplier=1e-9, noisy_rows=len(real),
                            rng=np.random.default_rng(0))  # fmt: skip
    torch.manual_seed(0)
    generator = Generator(8, (32,), real.shape[1])
    sampler = ConditionSampler((), [], torch.device("cpu"))

    facts = tune_generator(generator, sampler, SPANS, targets, embedding_dim=8, seed=0, steps=400)

    assert facts["divergence_last_step"] < 0.2 * facts["divergence_first_step"]
    with torch.no_grad():
        raw = generator(torch.randn(20_000, 8))
    probs = [torch.softmax(raw[:, s.start : s.stop], 1) for s in SPANS]
    expected = probs[0].T @ probs[1] / len(raw)
    assert (expected - targets[0].shares.float()).abs().sum() < 0.15
    assert not any(p.requires_grad for p in generator.parameters())
