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
* **The selection**: factors fitted on generated rows to the noisy shares (error: the noise's
  standard deviation over the noisy row count), leaving gaps within two errors alone. Post-
  processing of the generator and the release: no further budget.
"""

from __future__ import annotations

import numpy as np
import torch

from synthgan.model.selection import PairTarget, span_codes


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

