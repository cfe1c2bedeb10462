"""Discriminator rejection sampling: keep generated rows in proportion to how real they look.

After the GAN is trained, a small real-vs-generated classifier (:class:`RowCritic`) is fitted on
the encoded training rows against as many encoded generated rows, stopped early on a held-out
fifth, so its logit estimates log(p_real(x) / p_generated(x)). Sampling then keeps a generated row
with probability ``min(1, exp(logit - ceiling))`` (Azadi et al., "Discriminator Rejection
Sampling", ICLR 2019): rows from regions the generator over-fills are thinned, rows it under-fills
kept, which moves the sample towards the real density. ``ceiling`` is a high quantile of the
held-out generated rows' logits, so that most rows have a fair chance (the exact method uses the
maximum and keeps very few).

The classifier reads rows as :meth:`TableTransformer.transform` encodes them, real and generated
alike (decoded first), so nothing about how the generator writes its output can give it away.

A capped density ratio cannot raise the rows the generator under-fills above the ceiling, so
the kept rows' one-way marginals stay off. :func:`fit_marginal_factors` then adds one factor per
category of every one-hot span (each categorical column, each numeric column's bins, spikes and
null) to the acceptance score, fitted by iterative proportional fitting on generated rows so that the *kept* rows' marginals match the training rows' (which the model file holds
already, as the condition sampler's category counts). A kept row's score is its logit plus
the sum of its categories' log-factors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from synthgan.transform import TableTransformer

MARGINAL_ITERATIONS = 8
"""Sweeps over the spans."""
SAMPLING_ERRORS = 2.0
"""Gaps between a kept share and the training share within this many standard errors of the
training share (sqrt(p (1 - p) / n)) are left alone."""
MARGINAL_POOL_ROWS = 32_768
"""Generated rows the factors are fitted on, at least (a small table's own count would let
hundreds of factors fit the pool's noise)."""
MAX_LOG_FACTOR = 3.0
"""A category's factor stays within exp(+-3): one the generator almost never produces is not
chased with a huge weight on the few rows it has."""
CEILING_QUANTILE = 0.9
"""The acceptance ceiling: this quantile of held-out generated rows' logits."""
MAX_EPOCHS = 40
PATIENCE = 3
BATCH_ROWS = 512
HIDDEN = (256, 256)
LEARNING_RATE = 1e-3


class RowCritic(nn.Module):
    """Encoded row -> logit of "real" (one per row, not per pack)."""

    def __init__(self, data_dim: int, hidden: tuple[int, ...] = HIDDEN) -> None:
        super().__init__()
        layers, dim = [], data_dim
        for width in hidden:
            layers += [nn.Linear(dim, width), nn.LeakyReLU(0.2), nn.Dropout(0.1)]
            dim = width
        layers.append(nn.Linear(dim, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        return self.net(rows).squeeze(-1)  # (n,)


def logits(critic: RowCritic, rows: torch.Tensor) -> torch.Tensor:
    critic.eval()
    with torch.no_grad():
        return torch.cat([critic(rows[i : i + 8192]) for i in range(0, len(rows), 8192)])


def fit_row_critic(
    real: torch.Tensor, fake: torch.Tensor, *, seed: int
) -> tuple[RowCritic, float, dict]:
    """Fit the classifier on encoded ``real`` and ``fake`` rows (n, dim), both on one device.

    Returns the classifier, the acceptance ceiling, and facts for the model file (held-out loss,
    expected acceptance rate, epochs).
    """
    generator = torch.Generator(device="cpu").manual_seed(seed)
    device = real.device
    rows = torch.cat([real, fake])
    labels = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).to(device)
    order = torch.randperm(len(rows), generator=generator).to(device)
    n_held = max(1, len(rows) // 5)
    held, train = order[:n_held], order[n_held:]
    torch.manual_seed(seed)  # the caller forks the global RNG around a fit
    critic = RowCritic(rows.shape[1]).to(device)
    optimizer = torch.optim.Adam(critic.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.BCEWithLogitsLoss()
    best, best_state, stale, epochs = float("inf"), None, 0, 0
    for epoch in range(1, MAX_EPOCHS + 1):
        epochs = epoch
        critic.train()
        shuffled = train[torch.randperm(len(train), generator=generator).to(device)]
        for start in range(0, len(shuffled), BATCH_ROWS):
            batch = shuffled[start : start + BATCH_ROWS]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(critic(rows[batch]), labels[batch]).backward()
            optimizer.step()
        held_loss = float(loss_fn(logits(critic, rows[held]), labels[held]))
        if held_loss < best - 1e-4:
            best, stale = held_loss, 0
            best_state = {k: v.detach().clone() for k, v in critic.state_dict().items()}
        else:
            stale += 1
            if stale >= PATIENCE:
                break
    critic.load_state_dict(best_state)
    held_fake = held[labels[held] == 0]
    if len(held_fake) == 0:  # a tiny table held out no generated row: the ceiling uses them all
        held_fake = torch.nonzero(labels == 0).squeeze(1)
    fake_logits = logits(critic, rows[held_fake]).double()
    ceiling = float(torch.quantile(fake_logits, CEILING_QUANTILE))
    acceptance = float(torch.exp(torch.clamp(fake_logits - ceiling, max=0.0)).mean())
    facts = {"held_out_loss": best, "acceptance": acceptance, "epochs": epochs,
             "ceiling": ceiling}  # fmt: skip
    return critic.eval().requires_grad_(False), ceiling, facts


def fit_marginal_factors(
    real: torch.Tensor, fake: torch.Tensor, fake_logits: torch.Tensor, spans
) -> tuple[torch.Tensor | None, float, dict]:
    """Log-factors (dim,) over the encoded columns (0 outside the one-hot ``spans``) and the
    ceiling that go with them, so that generated rows kept with probability
    ``min(1, exp(logit + fake @ log_factors - ceiling))`` have the real rows' one-way marginals
    in every span, up to the training shares' sampling error: iterative proportional fitting,
    one span at a time (each step matches its span given the others). The factors are None when they do not bring the kept rows'
    marginals closer than the critic alone does. Returns facts for the model file too."""
    fake, fake_logits = fake.double(), fake_logits.double()
    target = real.double().mean(dim=0)  # each one-hot column's share of the training rows
    mask = torch.zeros(real.shape[1], dtype=torch.bool, device=real.device)
    for span in spans:
        mask[span.start : span.stop] = True
    tiny = 0.5 / len(real)
    noise = SAMPLING_ERRORS * torch.sqrt(target * (1.0 - target) / len(real))

    def kept_shares(score: torch.Tensor) -> tuple[torch.Tensor, float]:
        ceiling = torch.quantile(score, CEILING_QUANTILE)
        accept = torch.exp(torch.clamp(score - ceiling, max=0.0))
        return accept @ fake / accept.sum(), float(ceiling)

    def gap(score: torch.Tensor) -> float:
        return float(((kept_shares(score)[0] - target).abs() * mask).sum() / max(len(spans), 1))

    log_factors = torch.zeros(real.shape[1], dtype=torch.float64, device=real.device)
    score = fake_logits.clone()
    for _ in range(MARGINAL_ITERATIONS):
        for span in spans:
            columns = slice(span.start, span.stop)
            ceiling = torch.quantile(score, CEILING_QUANTILE)
            accept = torch.exp(torch.clamp(score - ceiling, max=0.0))
            kept = accept @ fake[:, columns] / accept.sum()
            # only the part of a gap beyond the training share's own sampling error is closed:
            # a small table's shares are noisy, and matching them exactly would pull the rows
            # towards the training rows rather than the population they came from
            difference = target[columns] - kept
            wanted = kept + torch.sign(difference) * torch.clamp(
                difference.abs() - noise[columns], min=0.0
            )
            step = torch.log((wanted + tiny) / (kept + tiny))
            updated = (log_factors[columns] + step).clamp(-MAX_LOG_FACTOR, MAX_LOG_FACTOR)
            score += fake[:, columns] @ (updated - log_factors[columns])
            log_factors[columns] = updated
    before, after = gap(fake_logits), gap(score)
    facts = {"marginal_gap_without_factors": before, "marginal_gap": after}
    if after >= before:
        _, ceiling = kept_shares(fake_logits)
        return None, ceiling, {**facts, "acceptance": _acceptance(fake_logits, ceiling)}
    _, ceiling = kept_shares(score)
    return log_factors.float(), ceiling, {**facts, "acceptance": _acceptance(score, ceiling)}


def _acceptance(score: torch.Tensor, ceiling: float) -> float:
    return float(torch.exp(torch.clamp(score - ceiling, max=0.0)).mean())


class RowSelector:
    """Keeps decoded rows by the fitted classifier's acceptance probability (and the marginal
    factors, when fitted)."""

    def __init__(
        self,
        critic: RowCritic,
        ceiling: float,
        transformer: TableTransformer,
        device,
        log_factors: torch.Tensor | None = None,
    ) -> None:
        self.critic = critic
        self.ceiling = ceiling
        self.transformer = transformer
        self.device = device
        self.log_factors = log_factors

    def keep(self, rows: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        """The rows to keep: a boolean mask of shape (n,), drawn from ``rng``."""
        uniforms = rng.random(len(rows))
        encoded = torch.as_tensor(self.transformer.transform(rows, rng=rng), device=self.device)
        score = logits(self.critic, encoded).double()
        if self.log_factors is not None:
            score = score + (encoded @ self.log_factors).double()
        accept = torch.exp(torch.clamp(score - self.ceiling, max=0.0)).cpu().numpy()
        return uniforms < accept
