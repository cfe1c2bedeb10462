from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from synthgan import Synthesizer, load
from synthgan.model.selection import (
    fit_marginal_factors,
    fit_row_critic,
    logits,
    one_way_targets,
)
from synthgan.schema import ColumnKind
from synthgan.transform.layout import Activation, Span, SpanRole


def one_hot(codes: np.ndarray, width: int) -> torch.Tensor:
    return torch.as_tensor(np.eye(width, dtype=np.float32)[codes])


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


def test_rejection_sampling_survives_save_and_load(tmp_path):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"colour": rng.choice(["red", "green", "blue"], 600, p=[0.7, 0.2, 0.1]),
                          "amount": rng.lognormal(3, 1, 600)})  # fmt: skip
    model = Synthesizer(epochs=2, batch_size=100, random_state=0, verbose=False).fit(frame)
    assert model.marginal_factors_ is not None and model.selection_["acceptance"] > 0
    path = model.save(tmp_path / "m.synthgan")
    again = load(path)
    pd.testing.assert_frame_equal(model.sample(300, random_state=1),
                                  again.sample(300, random_state=1))  # fmt: skip
