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
alike (decoded first), so nothing about how the generator writes its output can give it away,
and beside the encoding each binned column's normal score (:class:`RankFeatures`), so that it
can compare two columns' values without rebuilding them from their bins.

A capped density ratio cannot raise the rows the generator under-fills above the ceiling, so
the kept rows' one-way marginals stay off. :func:`fit_marginal_factors` then adds one factor per
category of every one-hot span (each categorical column, each numeric column's bins, spikes and
null) to the acceptance score, fitted by iterative proportional fitting on generated rows so
that the *kept* rows' marginals match the training rows' (which the model file holds already, as
the condition sampler's category counts). One-way factors cannot tie two columns together, so
the same fit also matches the training rows' two-way shares of ``2 (n_spans - 1)`` pairs of spans
(:func:`select_pairs`: each span's strongest partner by mutual information, then the strongest
pairs left), with one factor table per pair. A pair cell no training row holds, where
independent spans would put ``STRUCTURAL_ZERO_EXPECTED`` rows or more, is a structural zero: its
rows are never kept (caravan holds a policy exactly when it pays a contribution; its generator
wrote one without the other). A kept row's score is its logit plus the sum of its categories'
log-factors and its pairs' cells' log-factors.

The critic is fitted against the generator's rows, so where the generator is far off (diamonds:
a held-out loss of 0.20, 13% of rows kept) the kept rows still differ from the real ones in ways
a fresh classifier finds. Refinement critics (:class:`Refinement`, at most ``MAX_REFINEMENTS``)
are each fitted on the training rows against the rows the selection so far keeps, and each
multiplies a row's acceptance by its own capped density ratio (its logit over its own ceiling),
as in boosting; the marginal factors are then fitted again with the later stages' acceptance
in the kept shares (on a larger pool, ``REFINED_POOL_ROWS``, since fewer rows are kept).
Each stage is capped on its own: a row the first critic finds very real-looking cannot buy its
way past a later stage. Tables under ``MIN_REFINEMENT_ROWS`` rows get none. Rounds stop as soon
as a critic finds no signal (``MIN_REFINEMENT_SIGNAL``), which on most tables is the first, or
would leave the selection keeping too few rows (``MIN_REFINED_ACCEPTANCE``) even with its
ceiling lowered (``SOFTENING_STEPS``): a stage with a lower ceiling keeps more rows and corrects
less. The pool the factors are fitted on is scored by each critic once (:class:`ScoredPool`).

A private fit has no classifier (it would read the real rows outside the privacy budget). Its
score is a sum of two-way factors, one table per pair of one-hot spans, fitted the same way to
noisy two-way counts of the real rows (synthgan.privacy.dp_marginals): post-processing of
differentially private outputs, which costs no further budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from synthgan.transform import TableTransformer
from synthgan.transform.layout import Activation
from synthgan.transform.numeric import NumericColumnTransformer

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
STRUCTURAL_ZERO_EXPECTED = 10.0
"""A pair cell no training row holds is a structural zero (never kept) when independent spans
would put at least this many rows in it: its emptiness then has chance exp(-10) or less."""
STRUCTURAL_ZERO_LOG_FACTOR = float("-inf")
"""The log-factor of a structural zero: its rows are never kept. The ceiling is a quantile of
the other rows' scores (a finite penalty would move the ceiling down with it wherever most
generated rows break some structural zero, and keep them)."""
MIN_ALLOWED_SHARE = 0.25
"""Structural zeros are used, strongest pair first, while at least this share of generated rows
breaks none of them."""
MAX_REFINEMENTS = 2
"""Refinement critics after the first: each is fitted on the training rows against rows the
selection so far keeps, and thins what it still over-fills (docs/training.md)."""
REFINED_POOL_ROWS = 131_072
"""Generated rows the factors are refitted on after a refinement, at least: refinements keep
fewer rows, and the factors must not fit the noise of a few thousand kept ones."""
MIN_REFINED_ACCEPTANCE = 0.02
"""A refinement is kept only while the selection still keeps this share of generated rows:
sampling makes 1 / acceptance rows per row it returns, at most ``max_tries`` (100 by default)
(diamonds, seed 1: two refinements kept 0.97%, and sample() ran out)."""
SOFTENING_STEPS = 3
"""A refinement that leaves the selection under ``MIN_REFINED_ACCEPTANCE`` has its ceiling
lowered until the stages before it and it keep ``SOFTENING_MARGIN`` times that share
(:func:`softened_ceiling`), the factors fitted again, at most this many times before it is
given up."""
SOFTENING_MARGIN = 1.25
MIN_REFINEMENT_ROWS = 5_000
"""Refinements are fitted only on tables of at least this many training rows: the held-out
fifth of a smaller table's critic rows is too few to tell a loss 0.005 below log 2 from the
early stopping's luck (it picks the best epoch on that same fifth)."""
MIN_REFINEMENT_SIGNAL = 0.005
"""A refinement critic is kept only when its held-out loss is at least this far below log 2,
the loss of a classifier that cannot tell the kept rows from real ones; rounds stop at the
first that is not."""
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


@dataclass(frozen=True)
class RankFeatures:
    """The row critic's extra inputs: each binned numeric column's normal score
    ``Phi^-1(u)``, read off the encoded row's bin and in-bin place (0 on a spike or a null).

    The encoding gives a value as 32 bin indicators and a place; a classifier on it alone must
    rebuild the value before it can compare two columns, and misses what a gradient-boosted
    detector sees at once (diamonds' rows: held-out AUC 0.64 alone, 0.71 with the
    scores, docs/training.md). With the scores such a relation is nearly linear.
    ``columns``: (scalar index, first bin index, bins) of each binned column in the encoded row.
    """

    columns: tuple[tuple[int, int, int], ...]

    @classmethod
    def of(cls, transformer: TableTransformer) -> RankFeatures:
        layout, columns = transformer.layout_, []
        for name, column in transformer.transformers_.items():
            if isinstance(column, NumericColumnTransformer) and column.n_bins_:
                spans = [span for span in layout.spans if span.column == name]
                scalar = next(s.start for s in spans if s.activation is Activation.TANH)
                first = next(s.start for s in spans if s.activation is Activation.SOFTMAX)
                columns.append((scalar, first, column.n_bins_))
        return cls(tuple(columns))

    @property
    def width(self) -> int:
        return len(self.columns)

    def __call__(self, encoded: torch.Tensor) -> torch.Tensor:
        """The critic's inputs (n, dim + width) from encoded rows (n, dim)."""
        if not self.columns:
            return encoded
        scores = []
        for scalar, first, n_bins in self.columns:
            bins = encoded[:, first : first + n_bins]
            place = (encoded[:, scalar].float().clamp(-1.0, 1.0) + 1.0) / 2.0
            u = ((bins.argmax(dim=1).float() + place) / n_bins).clamp(1e-4, 1.0 - 1e-4)
            scores.append(torch.special.ndtri(u) * (bins.sum(dim=1) > 0.5))
        return torch.cat([encoded, torch.stack(scores, dim=1).to(encoded.dtype)], dim=1)


def critic_inputs(transformer: TableTransformer, selection: dict | None):
    """What the row critic of a model reads: encoded rows, with the rank scores when it was
    fitted with them (model files before them hold a critic of the plain encoding)."""
    if selection is not None and selection.get("rank_features"):
        return RankFeatures.of(transformer)
    return RankFeatures(())


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


@dataclass
class PairTarget:
    """Wanted shares of the kept rows over the cells of two one-hot spans (indices into the spans
    the factors are fitted on), and the standard error each share is known to."""

    first: int
    second: int
    shares: torch.Tensor  # (width of first, width of second); may be noisy, even negative
    error: float | torch.Tensor  # one for every cell, or (like shares) one per cell
    forbidden: torch.Tensor | None = None  # (like shares) bool: structural zeros, never kept


@dataclass
class MarginalFactors:
    """Log-factors added to a generated row's acceptance score: ``one_way`` (dim,) over the
    encoded columns (0 outside the one-hot spans), and one table per pair of spans, indexed by
    the row's categories in the two spans."""

    spans: tuple
    one_way: torch.Tensor | None = None
    pairs: list[tuple[int, int, torch.Tensor]] = field(default_factory=list)

    def score(self, encoded: torch.Tensor) -> torch.Tensor:
        """(n,) float64 log-factor of each encoded row."""
        score = torch.zeros(len(encoded), dtype=torch.float64, device=encoded.device)
        if self.one_way is not None:
            score += (encoded @ self.one_way).double()
        if self.pairs:
            codes = span_codes(encoded, self.spans)
            for first, second, table in self.pairs:
                score += table.double()[codes[:, first], codes[:, second]]
        return score

    def to(self, device) -> MarginalFactors:
        return MarginalFactors(
            self.spans,
            None if self.one_way is None else self.one_way.to(device),
            [(a, b, table.to(device)) for a, b, table in self.pairs],
        )


def span_codes(encoded: torch.Tensor, spans) -> torch.Tensor:
    """(n, n_spans) the category each row holds in each one-hot span."""
    return torch.stack([encoded[:, s.start : s.stop].argmax(1) for s in spans], 1)


def one_way_targets(real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each one-hot column's share of the training rows and its sampling error."""
    shares = real.double().mean(dim=0)
    return shares, torch.sqrt(shares * (1.0 - shares) / len(real))


def mutual_information(codes: torch.Tensor, first: int, second: int, widths: list[int]) -> float:
    """Mutual information (nats) of two spans' categories in the rows ``codes`` (n, n_spans)."""
    cells = codes[:, first] * widths[second] + codes[:, second]
    joint = torch.bincount(cells, minlength=widths[first] * widths[second]).double()
    joint = (joint / joint.sum()).reshape(widths[first], widths[second])
    outer = joint.sum(1, keepdim=True) * joint.sum(0, keepdim=True)
    present = joint > 0
    return float((joint[present] * torch.log(joint[present] / outer[present])).sum())


def pair_count(n_spans: int) -> int:
    """How many pairs are measured: a spanning tree's ``n_spans - 1`` and as many more (all
    pairs when there are fewer). Read from the layout only, before any row."""
    return min(2 * (n_spans - 1), n_spans * (n_spans - 1) // 2)


def select_pairs(
    codes: torch.Tensor, widths: list[int], hub: int | None = None
) -> list[tuple[int, int]]:
    """:func:`pair_count` pairs: the maximum spanning tree over the spans, weighted by mutual
    information in ``codes`` (Kruskal's algorithm), then the pairs of highest mutual information
    outside it. A private fit reads generated rows' codes, the plain fit the training rows'.
    Each span's strongest partner is in the tree, however rare the span's categories are.
    With a ``hub`` span (a private fit's target), its pairs not among those are added at the
    end: every column is measured against the one the table is for."""
    n_spans = len(widths)
    edges = sorted(
        ((mutual_information(codes, a, b, widths), a, b)
         for a in range(n_spans) for b in range(a + 1, n_spans)),
        reverse=True,
    )  # fmt: skip
    parent = list(range(n_spans))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    tree, rest = [], []
    for _, a, b in edges:
        if root(a) != root(b):
            parent[root(a)] = root(b)
            tree.append((a, b))
        else:
            rest.append((a, b))
    chosen = (tree + rest)[: pair_count(n_spans)]
    return chosen + [pair for pair in rest[len(chosen) - len(tree) :] if hub in pair]


def two_way_targets(real: torch.Tensor, spans, pairs: list[tuple[int, int]]) -> list[PairTarget]:
    """Each pair's cell shares in the encoded training rows ``real``, per cell its sampling
    error sqrt(p (1 - p) / n) (as the one-way targets have), and its structural zeros: empty
    cells where independent spans would put ``STRUCTURAL_ZERO_EXPECTED`` rows or more (caravan
    holds an insurance policy exactly when it pays a contribution for it: a policy without a
    contribution is such a cell)."""
    codes = span_codes(real, spans)
    widths = [span.width for span in spans]
    targets = []
    for first, second in pairs:
        cells = codes[:, first] * widths[second] + codes[:, second]
        counts = torch.bincount(cells, minlength=widths[first] * widths[second]).double()
        counts = counts.reshape(widths[first], widths[second])
        shares = counts / len(real)
        error = torch.sqrt(shares * (1.0 - shares) / len(real))
        expected = counts.sum(1, keepdim=True) * counts.sum(0, keepdim=True) / len(real)
        forbidden = (counts == 0) & (expected >= STRUCTURAL_ZERO_EXPECTED)
        targets.append(PairTarget(first, second, shares, error, forbidden))
    return targets


def fit_marginal_factors(
    fake: torch.Tensor,
    fake_logits: torch.Tensor,
    spans,
    *,
    target_rows: float,
    one_way: tuple[torch.Tensor, torch.Tensor] | None = None,
    pairs: tuple[PairTarget, ...] = (),
    later: torch.Tensor | None = None,
) -> tuple[MarginalFactors | None, float, dict]:
    """Factors, and the ceiling that goes with them, so that generated rows ``fake`` (encoded)
    kept with probability ``min(1, exp(logit + factors - ceiling))`` have the wanted one-way
    shares of every span in ``spans`` (``one_way``: shares (dim,) and their errors) and the
    wanted two-way shares of each ``pairs`` target (measured on ``target_rows`` rows), up to
    the targets' own error: iterative
    proportional fitting, one marginal at a time (each step matches its marginal given the
    others). A pair target's structural zeros (``forbidden``) keep none of their rows: their
    factor is ``STRUCTURAL_ZERO_LOG_FACTOR`` and the ceiling is taken over the other rows.
    Returns only those (None when there are none) when the fitted factors do not bring the
    kept rows closer to the targets than the scores alone do, and facts for the model file."""
    fake, fake_logits = fake.double(), fake_logits.double()
    codes = span_codes(fake, spans) if pairs else None
    tiny = 0.5 / target_rows
    structural = [t.forbidden if t.forbidden is not None
                  else torch.zeros(t.shares.shape, dtype=torch.bool, device=fake.device)
                  for t in pairs]  # fmt: skip

    def closer(kept, target, error):
        # only the part of a gap beyond the target's own error is closed: a small table's
        # shares (or a private fit's noisy ones) are uncertain, and matching them exactly would
        # pull the rows towards the training rows rather than the population they came from
        difference = target - kept
        wanted = kept + torch.sign(difference) * torch.clamp(
            difference.abs() - SAMPLING_ERRORS * error, min=0.0
        )
        return torch.log((wanted.clamp(min=0.0) + tiny) / (kept + tiny))

    def pair_cells(target: PairTarget) -> torch.Tensor:
        return codes[:, target.first] * target.shares.shape[1] + codes[:, target.second]

    cells = [pair_cells(target) for target in pairs]
    # pair by pair in the given order (strongest first), each pair's zeros while the generated
    # rows that break none stay at least MIN_ALLOWED_SHARE: a model that breaks them on most
    # rows (trained briefly) must still sample
    allowed = torch.ones(len(fake), dtype=torch.bool, device=fake.device)
    for index, zeros in enumerate(structural):
        narrowed = allowed & ~zeros.reshape(-1)[cells[index]]
        if narrowed.double().mean() >= MIN_ALLOWED_SHARE:
            allowed = narrowed
        else:
            structural[index] = torch.zeros_like(zeros)

    if later is None:
        later = torch.zeros(len(fake), dtype=torch.float64, device=fake.device)

    def acceptance(score):
        ceiling = torch.quantile(score[allowed], CEILING_QUANTILE)
        return torch.exp(torch.clamp(score - ceiling, max=0.0) + later) * allowed, float(ceiling)

    def pair_shares(accept, index):
        target = pairs[index]
        counts = torch.bincount(cells[index], weights=accept, minlength=target.shares.numel())
        return (counts / accept.sum()).reshape(target.shares.shape)

    def gap(score: torch.Tensor) -> float:
        accept, _ = acceptance(score)
        gaps = []
        if one_way is not None:
            kept = accept @ fake / accept.sum()
            gaps += [float((kept[s.start : s.stop] - one_way[0][s.start : s.stop]).abs().sum())
                     for s in spans]  # fmt: skip
        gaps += [float((pair_shares(accept, i) - t.shares.clamp(min=0.0)).abs().sum())
                 for i, t in enumerate(pairs)]  # fmt: skip
        return sum(gaps) / max(len(gaps), 1)

    one_way_factors = None
    if one_way is not None:
        one_way_factors = torch.zeros(fake.shape[1], dtype=torch.float64, device=fake.device)
    pair_factors = [torch.zeros(t.shares.shape, dtype=torch.float64, device=fake.device)
                    for t in pairs]  # fmt: skip
    # structural zeros are not fitted (their rows are out: ``allowed``), so no other factor
    # raising a span's share can buy their rows back
    score = fake_logits.clone()
    for _ in range(MARGINAL_ITERATIONS):
        if one_way is not None:
            for span in spans:
                columns = slice(span.start, span.stop)
                accept, _ = acceptance(score)
                kept = accept @ fake[:, columns] / accept.sum()
                step = closer(kept, one_way[0][columns], one_way[1][columns])
                updated = (one_way_factors[columns] + step).clamp(-MAX_LOG_FACTOR, MAX_LOG_FACTOR)
                score += fake[:, columns] @ (updated - one_way_factors[columns])
                one_way_factors[columns] = updated
        for index, target in enumerate(pairs):
            accept, _ = acceptance(score)
            step = closer(pair_shares(accept, index), target.shares.double(), target.error)
            updated = (pair_factors[index] + step).clamp(-MAX_LOG_FACTOR, MAX_LOG_FACTOR)
            score += (updated - pair_factors[index]).reshape(-1)[cells[index]]
            pair_factors[index] = updated

    def table(factor: torch.Tensor, zeros: torch.Tensor) -> torch.Tensor:
        return factor.float().masked_fill(zeros, STRUCTURAL_ZERO_LOG_FACTOR)

    before, after = gap(fake_logits), gap(score)
    facts = {"marginal_gap_without_factors": before, "marginal_gap": after,
             "structural_zeros": int(sum(int(zeros.sum()) for zeros in structural))}  # fmt: skip
    if after >= before:  # the structural zeros stay: they are facts, not fitted
        accept, ceiling = acceptance(fake_logits)
        zeros_only = [(t.first, t.second, table(torch.zeros_like(z, dtype=torch.float64), z))
                      for t, z in zip(pairs, structural) if z.any()]  # fmt: skip
        factors = MarginalFactors(tuple(spans), None, zeros_only) if zeros_only else None
        return factors, ceiling, {**facts, "acceptance": float(accept.mean())}
    accept, ceiling = acceptance(score)
    factors = MarginalFactors(
        tuple(spans),
        None if one_way_factors is None else one_way_factors.float(),
        [(t.first, t.second, table(factor, zeros))
         for t, factor, zeros in zip(pairs, pair_factors, structural)],  # fmt: skip
    )
    return factors, ceiling, {**facts, "acceptance": float(accept.mean())}


@dataclass(frozen=True)
class Refinement:
    """A later stage of selection: a row critic fitted against the rows the stages before it
    keep, and its own acceptance ceiling."""

    critic: RowCritic
    ceiling: float

    def log_acceptance(self, features: torch.Tensor) -> torch.Tensor:
        """(n,) float64 log-probability that this stage alone keeps each row of critic inputs
        ``features`` (at most 0): what it adds to a row's score."""
        return capped_log_ratio(logits(self.critic, features), self.ceiling)


def capped_log_ratio(stage_logits: torch.Tensor, ceiling: float) -> torch.Tensor:
    """(n,) float64 log-acceptance of one stage: its logits over its ceiling, at most 0."""
    return torch.clamp(stage_logits.double() - ceiling, max=0.0)


def later_log_acceptance(
    refinements: tuple[Refinement, ...], features: torch.Tensor
) -> torch.Tensor:
    """(n,) float64 sum of the refinements' log-acceptances of critic inputs ``features`` (0
    without refinements): the log of the share of a row the first stage keeps that they keep."""
    later = torch.zeros(len(features), dtype=torch.float64, device=features.device)
    for refinement in refinements:
        later = later + refinement.log_acceptance(features)
    return later


@dataclass(frozen=True)
class ScoredPool:
    """Generated rows the selection's factors are fitted on, encoded (n, dim), with what the
    critics say of them, computed once: the first critic's logits (n,) and the refinements'
    summed log-acceptance (n,) float64."""

    encoded: torch.Tensor
    critic_logits: torch.Tensor
    later: torch.Tensor

    @classmethod
    def of(
        cls, encoded: torch.Tensor, features: torch.Tensor, critic: RowCritic, refinements
    ) -> ScoredPool:
        """The pool ``encoded`` scored from its critic inputs ``features``."""
        return cls(encoded, logits(critic, features), later_log_acceptance(refinements, features))

    def __len__(self) -> int:
        return len(self.encoded)

    def joined(self, other: ScoredPool) -> ScoredPool:
        return ScoredPool(*(torch.cat([mine, theirs]) for mine, theirs in zip(
            (self.encoded, self.critic_logits, self.later),
            (other.encoded, other.critic_logits, other.later),
        )))  # fmt: skip


def softened_ceiling(
    base_log_acceptance: torch.Tensor, refinement_logits: torch.Tensor, ceiling: float, share: float
) -> float | None:
    """The highest ceiling, at most ``ceiling``, at which a refinement with logits
    ``refinement_logits`` (n,) keeps ``share`` of generated rows whose log-acceptance by the
    stages before it is ``base_log_acceptance`` (n,); None when no ceiling keeps that many."""

    def kept(c: float) -> float:
        later = capped_log_ratio(refinement_logits, c)
        return float(torch.exp(base_log_acceptance + later).mean())

    low = float(refinement_logits.min())  # at or below it, the refinement keeps every row
    if kept(low) < share:
        return None
    high = ceiling
    if kept(high) >= share:
        return high
    for _ in range(40):  # bisection: kept() falls as the ceiling rises
        middle = (low + high) / 2.0
        low, high = (middle, high) if kept(middle) >= share else (low, middle)
    return low


def refinement_signal(facts: dict) -> float:
    """How far a critic's held-out loss is below log 2 (real and generated rows held out in
    equal numbers: log 2 is what a classifier that tells them apart no better than chance gets)."""
    return float(np.log(2.0) - facts["held_out_loss"])


class RowSelector:
    """Keeps decoded rows by the fitted classifier's acceptance probability and the marginal
    factors, when fitted (a private fit has factors only: its classifier would read real rows),
    with each refinement's log-acceptance in the score."""

    def __init__(
        self,
        critic: RowCritic | None,
        ceiling: float,
        transformer: TableTransformer,
        device,
        factors: MarginalFactors | None = None,
        inputs: RankFeatures | None = None,
        refinements: tuple[Refinement, ...] = (),
    ) -> None:
        self.critic = critic
        self.ceiling = ceiling
        self.transformer = transformer
        self.device = device
        self.factors = factors
        self.inputs = RankFeatures(()) if inputs is None else inputs
        self.refinements = tuple(refinements)

    def keep(self, rows: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        """The rows to keep: a boolean mask of shape (n,), drawn from ``rng``."""
        uniforms = rng.random(len(rows))
        encoded = torch.as_tensor(self.transformer.transform(rows, rng=rng), device=self.device)
        score = torch.zeros(len(rows), dtype=torch.float64, device=self.device)
        later = torch.zeros_like(score)  # the refinements' log-acceptance
        if self.critic is not None:
            features = self.inputs(encoded)
            score += logits(self.critic, features).double()
            later = later_log_acceptance(self.refinements, features)
        if self.factors is not None:
            score += self.factors.score(encoded)
        accept = torch.exp(torch.clamp(score - self.ceiling, max=0.0) + later).cpu().numpy()
        return uniforms < accept
