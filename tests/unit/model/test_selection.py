from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthgan import Synthesizer, load
from synthgan.model.selection import (
    MAX_REFINEMENTS,
    MIN_ALLOWED_SHARE,
    MIN_REFINEMENT_SIGNAL,
    STRUCTURAL_ZERO_LOG_FACTOR,
    RankFeatures,
    fit_marginal_factors,
    fit_row_critic,
    logits,
    one_way_targets,
    refinement_signal,
    select_pairs,
    span_codes,
    two_way_targets,
)
from synthgan.schema import ColumnKind
from synthgan.transform.layout import Activation, Span, SpanRole


def one_hot(codes: np.ndarray, width: int) -> torch.Tensor:
    return torch.as_tensor(np.eye(width, dtype=np.float32)[codes])


def test_rank_features_are_each_binned_value_s_normal_score():
    from scipy.stats import norm

    from synthgan import TableTransformer

    rng = np.random.default_rng(0)
    x = rng.gamma(2.0, 3.0, 5000).round(3)
    x[:500] = 0.0  # a spike: its own component, score 0
    frame = pd.DataFrame({"x": x, "c": rng.choice(["a", "b"], 5000), "n": rng.normal(size=5000)})
    tt = TableTransformer(quantile_knots=1000, quantile_bins=32, random_state=0).fit(frame)
    encoded = torch.as_tensor(tt.transform(frame))
    inputs = RankFeatures.of(tt)
    out = inputs(encoded)
    assert inputs.width == 2 and out.shape == (5000, tt.layout_.dim + 2)
    assert torch.equal(out[:, : tt.layout_.dim], encoded)
    z = out[:, -2].numpy()
    assert (z[:500] == 0).all()
    rest = x[500:]
    expected = norm.ppf((pd.Series(rest).rank().to_numpy() - 0.5) / len(rest))
    assert np.corrcoef(z[500:], expected)[0, 1] > 0.999
    assert np.corrcoef(out[:, -1].numpy(), frame["n"])[0, 1] > 0.999


def test_the_row_critic_scores_real_looking_rows_higher():
    rng = np.random.default_rng(0)
    real = torch.as_tensor(rng.normal(0.0, 1.0, (4000, 2)), dtype=torch.float32)
    fake = torch.as_tensor(rng.normal(1.0, 1.0, (4000, 2)), dtype=torch.float32)
    critic, ceiling, facts = fit_row_critic(real, fake, seed=0)
    probe = torch.tensor([[-1.0, -1.0], [2.0, 2.0]])
    low_real, high_real = logits(critic, probe).tolist()
    assert low_real > high_real  # (-1, -1) is likelier under the real rows
    assert 0.0 < facts["acceptance"] <= 1.0 and np.isfinite(ceiling)


def test_marginal_factors_give_the_kept_rows_the_real_marginals():
    rng = np.random.default_rng(1)
    spans = (Span("colour", ColumnKind.DISCRETE, SpanRole.CATEGORY, 0, 3, Activation.SOFTMAX),
             Span("size", ColumnKind.DISCRETE, SpanRole.CATEGORY, 3, 2, Activation.SOFTMAX))  # fmt: skip
    real = torch.cat([one_hot(rng.choice(3, 20_000, p=[0.6, 0.3, 0.1]), 3),
                      one_hot(rng.choice(2, 20_000, p=[0.8, 0.2]), 2)], dim=1)  # fmt: skip
    fake = torch.cat([one_hot(rng.choice(3, 20_000, p=[0.3, 0.3, 0.4]), 3),
                      one_hot(rng.choice(2, 20_000, p=[0.5, 0.5]), 2)], dim=1)  # fmt: skip
    fake_logits = torch.as_tensor(rng.normal(0.0, 0.5, 20_000), dtype=torch.float32)
    factors, ceiling, facts = fit_marginal_factors(
        fake, fake_logits, spans, target_rows=len(real), one_way=one_way_targets(real)
    )
    score = fake_logits.double() + factors.score(fake)
    accept = torch.exp(torch.clamp(score - ceiling, max=0.0))
    kept = (accept @ fake.double() / accept.sum()).numpy()
    # within two standard errors of the 20,000 real rows' shares (at most 0.007 here)
    np.testing.assert_allclose(kept, [0.6, 0.3, 0.1, 0.8, 0.2], atol=0.0075)
    assert facts["marginal_gap"] < facts["marginal_gap_without_factors"] / 10
    assert 0.0 < facts["acceptance"] <= 1.0


def test_marginal_factors_count_the_later_stages_acceptance():
    # a later stage that keeps "blue" rows rarely: the factors must make up for it
    rng = np.random.default_rng(3)
    spans = (Span("colour", ColumnKind.DISCRETE, SpanRole.CATEGORY, 0, 3, Activation.SOFTMAX),)
    real = one_hot(rng.choice(3, 20_000, p=[0.5, 0.3, 0.2]), 3)
    fake = one_hot(rng.choice(3, 40_000, p=[0.4, 0.3, 0.3]), 3)
    later = torch.log(torch.where(fake[:, 2] > 0, 0.2, 1.0)).double()
    fake_logits = torch.zeros(len(fake))
    factors, ceiling, _ = fit_marginal_factors(fake, fake_logits, spans, target_rows=len(real),
                                               one_way=one_way_targets(real), later=later)  # fmt: skip
    accept = torch.exp(torch.clamp(factors.score(fake) - ceiling, max=0.0) + later)
    kept = (accept @ fake.double() / accept.sum()).numpy()
    np.testing.assert_allclose(kept, [0.5, 0.3, 0.2], atol=0.0075)


def test_rejection_sampling_survives_save_and_load(tmp_path):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"colour": rng.choice(["red", "green", "blue"], 600, p=[0.7, 0.2, 0.1]),
                          "amount": rng.lognormal(3, 1, 600)})  # fmt: skip
    model = Synthesizer(epochs=2, batch_size=100, random_state=0, verbose=False).fit(frame)
    assert model.marginal_factors_ is not None and model.selection_["acceptance"] > 0
    # two spans (colour, amount's bins): their one pair is fitted and saved with the factors
    assert model.selection_["pairs"] == [[0, 1]] and len(model.marginal_factors_.pairs) == 1
    path = model.save(tmp_path / "m.synthgan")
    again = load(path)
    pd.testing.assert_frame_equal(model.sample(300, random_state=1),
                                  again.sample(300, random_state=1))  # fmt: skip


SPANS = tuple(
    Span(name, kind, role, start, width, Activation.SOFTMAX)
    for name, kind, role, start, width in (
        ("policy", ColumnKind.INTEGER, SpanRole.COMPONENT, 0, 3),
        ("contribution", ColumnKind.INTEGER, SpanRole.COMPONENT, 3, 3),
        ("region", ColumnKind.DISCRETE, SpanRole.CATEGORY, 6, 2),
    )
)


def rows(policy: np.ndarray, contribution: np.ndarray, region: np.ndarray) -> torch.Tensor:
    return torch.cat([one_hot(policy, 3), one_hot(contribution, 3), one_hot(region, 2)], dim=1)


def test_two_way_targets_are_the_cell_shares_with_their_sampling_errors():
    real = rows(np.array([0, 0, 1, 2]), np.array([0, 0, 1, 2]), np.array([0, 1, 0, 1]))
    (target,) = two_way_targets(real, SPANS, [(0, 1)])
    assert (target.first, target.second) == (0, 1)
    np.testing.assert_allclose(target.shares.numpy(), np.diag([0.5, 0.25, 0.25]))
    shares = target.shares.numpy()
    np.testing.assert_allclose(target.error.numpy(), np.sqrt(shares * (1 - shares) / 4))
    assert target.error[0, 1] == 0.0  # a cell no training row holds
    assert not target.forbidden.any()  # four rows: no empty cell is a structural zero


def test_a_structural_zero_is_an_empty_cell_independence_would_fill():
    # 100 rows: policy 0 or 1 half each, contribution equal to it; region independent
    policy = np.repeat([0, 1], 50)
    real = rows(policy, policy, np.tile([0, 1], 50))
    tie, free = two_way_targets(real, SPANS, [(0, 1), (0, 2)])
    # (0, 1) and (1, 0) are empty where 25 rows each were expected; (2, x) expected none
    np.testing.assert_array_equal(tie.forbidden.numpy(),
                                  [[False, True, False], [True, False, False],
                                   [False, False, False]])  # fmt: skip
    assert not free.forbidden.any()


def test_pair_factors_tie_spans_the_generator_drew_apart():
    """Real rows hold a policy exactly when they pay a contribution (caravan's P*/A* columns);
    generated rows have both marginals right but draw them independently."""
    rng = np.random.default_rng(3)
    n = 20_000
    policy = rng.choice(3, n, p=[0.8, 0.15, 0.05])
    contribution = np.where(policy == 0, 0, rng.integers(1, 3, n))
    real = rows(policy, contribution, rng.integers(0, 2, n))
    fake = rows(rng.choice(3, n, p=[0.8, 0.15, 0.05]), rng.choice(3, n, p=[0.8, 0.1, 0.1]),
                rng.integers(0, 2, n))  # fmt: skip
    codes = span_codes(real, SPANS)
    pairs = select_pairs(codes, [3, 3, 2])
    assert pairs[0] == (0, 1)  # the dependent pair is chosen first
    fake_logits = torch.zeros(n)
    targets = tuple(two_way_targets(real, SPANS, pairs))
    factors, ceiling, facts = fit_marginal_factors(
        fake, fake_logits, SPANS, target_rows=n, one_way=one_way_targets(real), pairs=targets
    )
    accept = torch.exp(torch.clamp(fake_logits.double() + factors.score(fake) - ceiling, max=0.0))
    fake_codes = span_codes(fake, SPANS)
    apart = ((fake_codes[:, 0] == 0) != (fake_codes[:, 1] == 0)).double()
    assert float(apart.mean()) > 0.3  # drawn apart: a third of the rows break the tie
    assert float(accept @ apart / accept.sum()) < 1e-6  # kept: none (structural zeros)
    assert factors.pairs[0][2][0, 1] == STRUCTURAL_ZERO_LOG_FACTOR  # no policy, a contribution
    one_way, one_way_ceiling, _ = fit_marginal_factors(
        fake, fake_logits, SPANS, target_rows=n, one_way=one_way_targets(real)
    )
    accept_one_way = torch.exp(torch.clamp(one_way.score(fake) - one_way_ceiling, max=0.0))
    assert float(accept_one_way @ apart / accept_one_way.sum()) > 0.2  # one-way factors cannot


def test_structural_zeros_that_would_leave_too_few_rows_are_not_used():
    """A briefly trained model breaks the tie on most rows: dropping them all would leave it
    nothing to sample, so the zeros go unused and the fitted factors alone remain."""
    rng = np.random.default_rng(4)
    n = 20_000
    policy = rng.choice(3, n, p=[0.8, 0.15, 0.05])
    real = rows(policy, policy, rng.integers(0, 2, n))
    apart = rng.random(n) < 1.0 - MIN_ALLOWED_SHARE / 2  # most generated rows break the tie
    fake_policy = rng.choice(3, n, p=[0.8, 0.15, 0.05])
    fake = rows(fake_policy, np.where(apart, (fake_policy + 1) % 3, fake_policy),
                rng.integers(0, 2, n))  # fmt: skip
    targets = tuple(two_way_targets(real, SPANS, [(0, 1)]))
    assert targets[0].forbidden.sum() == 6  # every cell off the diagonal
    factors, ceiling, facts = fit_marginal_factors(
        fake, torch.zeros(n), SPANS, target_rows=n, pairs=targets
    )
    assert facts["structural_zeros"] == 0 and facts["acceptance"] > 0.1
    assert factors is None or torch.isfinite(factors.pairs[0][2]).all()


def tied_table(n: int = 2000) -> pd.DataFrame:
    """y within 1% of x: a tie a briefly trained generator keeps loosely."""
    rng = np.random.default_rng(0)
    x = rng.gamma(2.0, 3.0, n)
    return pd.DataFrame({"x": x.round(3), "y": (x * rng.normal(1.0, 0.01, n)).round(3),
                         "c": rng.choice(["a", "b", "c"], n)})  # fmt: skip


def test_refinement_critics_thin_what_the_first_stage_keeps_wrong(tmp_path, monkeypatch):
    import synthgan.model.synthesizer as synthesizer_module

    # so brief a fit keeps about 2% of its rows: the floor on that has its own test
    monkeypatch.setattr(synthesizer_module, "MIN_REFINED_ACCEPTANCE", 0.002)
    monkeypatch.setattr(synthesizer_module, "MIN_REFINEMENT_ROWS", 1_000)
    frame = tied_table()
    model = Synthesizer(epochs=5, batch_size=200, random_state=0, verbose=False).fit(frame)
    facts = model.selection_["refinements"]
    assert 1 <= len(model.row_refinements_) == len(facts) <= MAX_REFINEMENTS
    assert all(refinement_signal(f) >= MIN_REFINEMENT_SIGNAL for f in facts)

    def ratio_spread(rows: pd.DataFrame) -> float:
        low, high = np.quantile(rows["y"] / rows["x"], [0.05, 0.95])
        return high - low

    refined = model.sample(2000, random_state=1)
    path = model.save(tmp_path / "m.synthgan")
    pd.testing.assert_frame_equal(refined, load(path).sample(2000, random_state=1))
    model.row_refinements_ = ()  # the first stage alone
    first_stage = model.sample(2000, random_state=1)
    # the real rows' 5-95% spread of y / x is 0.033
    assert ratio_spread(refined) < 0.6 * ratio_spread(first_stage)


@pytest.mark.parametrize(
    "floor", ["MIN_REFINEMENT_SIGNAL", "MIN_REFINED_ACCEPTANCE", "MIN_REFINEMENT_ROWS"]
)
def test_refinement_rounds_stop_without_signal_below_the_floors_or_on_a_small_table(
    monkeypatch, floor
):
    import synthgan.model.synthesizer as synthesizer_module

    # without the floor under test, this fit keeps two refinements
    floors = {"MIN_REFINEMENT_SIGNAL": np.log(2.0), "MIN_REFINED_ACCEPTANCE": 0.9,
              "MIN_REFINEMENT_ROWS": 601}  # fmt: skip
    for name in floors:
        monkeypatch.setattr(synthesizer_module, name, floors[name] if name == floor else 0)
    model = Synthesizer(epochs=5, batch_size=200, random_state=0, verbose=False)
    model.fit(tied_table(600))
    assert model.row_refinements_ == () and model.selection_["refinements"] == []
    assert len(model.sample(300, random_state=0)) == 300
