"""Noisy two-way marginals of a private fit, and the selection that makes released rows match them.

DP-SGD pays noise on every step and every parameter; the best private generators (MST, AIM)
spend their budget on a few low-order marginals instead. A private fit does both: after DP-SGD has
trained the generator, one Gaussian mechanism releases the counts of the training rows in the
cells of ``2 (n_spans - 1)`` pairs of one-hot spans (each categorical column's categories, each
numeric column's components: modes, point masses, null), and rejection sampling keeps generated
rows so that their pair shares match the noisy ones
(:func:`synthgan.model.selection.fit_marginal_factors`).

* **Which pairs** (no real row read; ``synthgan.model.selection.select_pairs``): a maximum
  spanning tree over the spans, each pair weighted by its mutual information in rows the trained
  generator draws, and as many pairs again of the highest mutual information outside the tree
  (all pairs of a narrow table). Every span is in at least one pair, so its one-way marginal is
  matched too.
* **The release**: a row adds 1 to one cell of each of the ``n_pairs`` tables, so the L2
  sensitivity is ``sqrt(n_pairs)`` and every cell gets Gaussian noise of standard deviation
  ``noise_multiplier * sqrt(n_pairs)``. The noise multiplier is decided before any row is read
  (synthgan.privacy.accounting, ``MARGINALS_BUDGET_SHARE``); ``n_pairs`` depends only on the
  private transformer's layout.
* **The tuning**: the generator (the one that samples: its moving average) takes
  ``TUNE_STEPS`` Adam steps down the Kullback-Leibler divergence from the noisy pair tables to
  its own expected ones (each row's categories are drawn independently from its spans' softmax
  outputs, so a batch's expected table is the mean outer product of two spans' probabilities:
  exact and differentiable). DP-SGD leaves a generator whose pair tables are far from the data
  (Adult at epsilon 3: total variation 0.12 on average over all pairs of spans); the
  selection can only thin what the generator makes, so a generator closer to the tables leaves
  it less to do and keeps more rows.
* **The selection**: factors fitted on generated rows to the noisy shares (error: the noise's
  standard deviation over the noisy row count), leaving gaps within two errors alone.

The tuning and the selection read nothing but the generator and the release: post-processing,
no further budget.
"""

from __future__ import annotations

import numpy as np
import torch

from synthgan.model.networks import Generator
from synthgan.model.sampler import ConditionSampler
from synthgan.model.selection import PairTarget, span_codes

TUNE_STEPS = 600
TUNE_BATCH = 4096
TUNE_LR = 1e-3


def measure_pairs(
    real: torch.Tensor,
    spans,
    pairs: list[tuple[int, int]],
    *,
    noise_multiplier: float,
    noisy_rows: float,
    rng: np.random.Generator,
) -> list[PairTarget]:
    """The Gaussian mechanism: each pair's cell counts in the encoded training rows ``real``
    plus noise of sd ``noise_multiplier * sqrt(len(pairs))``, as targets for the selection."""
    codes = span_codes(real, spans)
    widths = [span.width for span in spans]
    sd = noise_multiplier * np.sqrt(len(pairs))
    targets = []
    for first, second in pairs:
        cells = codes[:, first] * widths[second] + codes[:, second]
        counts = torch.bincount(cells, minlength=widths[first] * widths[second]).double().cpu()
        noisy = counts.numpy() + rng.normal(0.0, sd, size=counts.shape)
        shares = torch.as_tensor(noisy / noisy_rows, device=real.device)
        targets.append(
            PairTarget(first, second, shares.reshape(widths[first], widths[second]),
                       sd / noisy_rows)
        )  # fmt: skip
    return targets



def tune_generator(
    generator: Generator,
    sampler: ConditionSampler,
    spans,
    targets: list[PairTarget],
    *,
    embedding_dim: int,
    seed: int,
    steps: int | None = None,
) -> dict:
    """Move ``generator`` (in place, in eval mode: as it samples) towards the noisy pair tables
    ``targets`` for ``steps`` (default ``TUNE_STEPS``) steps; returns the divergence at the
    first and the last step, for the privacy record."""
    steps = TUNE_STEPS if steps is None else steps
    device = next(generator.parameters()).device
    rng = torch.Generator(device=device).manual_seed(seed)
    wanted = []
    for target in targets:
        shares = target.shares.clamp(min=0.0).float()  # noise can make a count negative
        wanted.append(shares / shares.sum().clamp(min=1e-12))
    entropy = sum(float(torch.xlogy(w, w).sum()) for w in wanted)
    divergences: list[float] = []
    generator.eval().requires_grad_(True)
    optimizer = torch.optim.Adam(generator.parameters(), lr=TUNE_LR)
    try:
        for _ in range(steps):
            parts = [torch.randn(TUNE_BATCH, embedding_dim, device=device, generator=rng)]
            if sampler.n_spans:
                span, category = sampler.draw_conditions(TUNE_BATCH, rng, training=False)
                parts.append(sampler.cond_vec(span, category))
            raw = generator(torch.cat(parts, dim=1))  # (batch, data_dim)
            probs = [torch.softmax(raw[:, s.start : s.stop], dim=1) for s in spans]
            cross = raw.new_zeros(())
            for target, shares in zip(targets, wanted):
                expected = probs[target.first].T @ probs[target.second] / TUNE_BATCH  # (a, b)
                cross = cross - (shares * torch.log(expected + 1e-6)).sum()
            optimizer.zero_grad(set_to_none=True)
            cross.backward()
            optimizer.step()
            divergences.append(float(cross.detach()) + entropy)
    finally:
        generator.requires_grad_(False)
    return {"steps": steps, "divergence_first_step": divergences[0] if divergences else None,
            "divergence_last_step": divergences[-1] if divergences else None}  # fmt: skip
