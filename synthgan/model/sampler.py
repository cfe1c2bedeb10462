"""Condition vectors and training-by-sampling (Xu et al., 2019), as index tensors built once.

Each training row conditions on one conditionable span chosen uniformly (a categorical column's
one-hot, and by default a numeric column's component one-hot: see Layout.condition_spans) and
one of its categories chosen by log-frequency; the real rows of the batch are drawn from the
rows having that category.
Every structure lives on the training device, so a step draws a batch with a handful of tensor
operations: no Python loop over rows or spans, no host-device copy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from synthgan.transform.layout import Span


class ConditionSampler:
    """Draws condition vectors and the real rows that match them.

    Parameters
    ----------
    spans : sequence of Span
        The conditionable spans, in layout order (``Layout.condition_spans``).
    category_counts : list of array-like
        Per span, the training count of each category (or component).
    device : torch.device

    Use :meth:`from_data` during training: it also indexes the rows of each category.
    """

    def __init__(self, spans: Sequence[Span], category_counts: list, device: torch.device) -> None:
        spans = tuple(spans)
        self.device = device
        self.n_spans = len(spans)
        self.cond_dim = sum(s.width for s in spans)
        self.span_columns = [s.column for s in spans]
        self.category_counts = [np.asarray(c, dtype=np.float64) for c in category_counts]
        self.n_rows = 0
        self.missing_here = False  # from_data: a category of the table absent from this shard
        if not spans:
            return
        max_width = max(s.width for s in spans)
        counts = np.zeros((len(spans), max_width))
        for i, span_counts in enumerate(self.category_counts):
            counts[i, : len(span_counts)] = span_counts
        offsets = np.cumsum([0] + [s.width for s in spans[:-1]])  # span starts in cond_vec
        log_freq = np.log1p(counts)
        self.frequency = self._tensor(counts / counts.sum(axis=1, keepdims=True), torch.float32)
        self.log_frequency = self._tensor(
            log_freq / log_freq.sum(axis=1, keepdims=True), torch.float32
        )
        self.cond_offset = self._tensor(offsets, torch.long)

    def _tensor(self, array, dtype) -> torch.Tensor:
        return torch.as_tensor(np.asarray(array), dtype=dtype, device=self.device)

    @classmethod
    def from_data(
        cls,
        spans: Sequence[Span],
        data: np.ndarray,
        device: torch.device,
        *,
        sum_counts: Callable[[list[np.ndarray]], list[np.ndarray]] | None = None,
    ) -> ConditionSampler:
        """A sampler that can also draw real rows by category (for training).

        ``data`` may be one process's shard of the table; ``sum_counts`` then turns its
        category counts into the whole table's, from which conditions are drawn
        (data-parallel training, synthgan.model.distributed).
        """
        spans = tuple(spans)
        codes = [data[:, s.start : s.stop].argmax(axis=1) for s in spans]  # once per column
        counts = [np.bincount(c, minlength=s.width) for c, s in zip(codes, spans)]
        totals = counts if sum_counts is None else sum_counts(counts)
        sampler = cls(spans, totals, device)
        sampler.n_rows = len(data)
        sampler.missing_here = False
        if spans:
            max_width = max(s.width for s in spans)
            starts = np.zeros((len(spans), max_width), dtype=np.int64)
            for i, span_counts in enumerate(counts):
                starts[i, : len(span_counts)] = np.cumsum(span_counts) - span_counts
            order = np.stack([np.argsort(c, kind="stable") for c in codes])  # (spans, n_rows)
            padded_counts = np.zeros((len(spans), max_width), dtype=np.int64)
            for i, span_counts in enumerate(counts):
                padded_counts[i, : len(span_counts)] = span_counts
            sampler.category_count = sampler._tensor(padded_counts, torch.long)
            sampler.category_start = sampler._tensor(starts, torch.long)
            sampler.rows_by_category = sampler._tensor(order, torch.long)
            # a category of the table this shard holds no row of
            sampler.missing_here = any(
                bool(((t > 0) & (c == 0)).any()) for t, c in zip(totals, counts)
            )
        return sampler

    # -- drawing ---------------------------------------------------------------------------------
    def draw_conditions(
        self, batch: int, generator: torch.Generator, *, training: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(span, category) per row: span uniform; category by log-frequency (training) or by
        frequency (sampling, so unconditional samples follow the real marginals)."""
        # span uniform and category | span by (log-)frequency is one draw from their joint,
        # flattened over (span, category) slots: a single multinomial call on a short vector
        joint = (self.log_frequency if training else self.frequency).flatten()  # (spans*width,)
        slot = torch.multinomial(joint, batch, replacement=True, generator=generator)
        width = self.frequency.shape[1]
        return slot // width, slot % width

    def cond_vec(self, span: torch.Tensor, category: torch.Tensor) -> torch.Tensor:
        """One-hot condition vectors: (batch, cond_dim)."""
        out = torch.zeros(len(span), self.cond_dim, device=self.device)
        out[torch.arange(len(span), device=self.device), self._cond_index(span, category)] = 1.0
        return out

    def cond_vec_feature_major(
        self, span: torch.Tensor, category: torch.Tensor, *, out: torch.Tensor
    ) -> torch.Tensor:
        """The same condition vectors, transposed, written into ``out``: (cond_dim, batch)."""
        out.zero_()
        out[self._cond_index(span, category), torch.arange(len(span), device=self.device)] = 1.0
        return out

    def _cond_index(self, span: torch.Tensor, category: torch.Tensor) -> torch.Tensor:
        """Each row's position of its 1 in the condition vector: (batch,)."""
        return self.cond_offset[span] + category

    def real_rows(
        self, span: torch.Tensor, category: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """Indices of training rows having the given category of the given span, one per row."""
        count = self.category_count[span, category]
        pick = (torch.rand(len(span), device=self.device, generator=generator) * count).long()
        position = self.category_start[span, category] + torch.minimum(pick, count - 1)
        rows = self._rows_at(span, position.clamp(min=0))
        if not self.missing_here:
            return rows
        # a condition drawn from the whole table's counts that this shard holds no row of:
        # a row of the shard drawn uniformly stands in (rare: only categories with fewer rows
        # than processes can be missing from a shard)
        return torch.where(count > 0, rows, self.uniform_rows(len(span), generator))

    def _rows_at(self, span: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
        """The training row at each position of its span's category-sorted row list."""
        return self.rows_by_category[span, position]

    def uniform_rows(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randint(self.n_rows, (batch,), device=self.device, generator=generator)
