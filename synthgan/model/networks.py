"""The generator, the packed discriminator, and the per-span output activation (nn.Modules only)."""

from __future__ import annotations

import torch
from torch import nn

from synthgan.transform.layout import Layout


class SpanIndex(nn.Module):
    """Index tensors that let a whole batch be activated span by span with no Python loop.

    Softmax spans are gathered into a padded ``(batch, n_spans, max_width)`` block; padding slots
    point at column 0 and are masked with -inf.
    """

    def __init__(self, layout: Layout) -> None:
        super().__init__()
        softmax_spans = layout.softmax_spans
        max_width = max((s.width for s in softmax_spans), default=1)
        gather = torch.zeros(len(softmax_spans), max_width, dtype=torch.long)
        valid = torch.zeros(len(softmax_spans), max_width, dtype=torch.bool)
        for i, span in enumerate(softmax_spans):
            gather[i, : span.width] = torch.arange(span.start, span.stop)
            valid[i, : span.width] = True
        tanh_columns = torch.tensor([s.start for s in layout.tanh_spans], dtype=torch.long)
        # which padded softmax slot holds each discrete (condition) span
        softmax_position = {(s.start, s.width): i for i, s in enumerate(softmax_spans)}
        discrete_slots = torch.tensor(
            [softmax_position[(s.start, s.width)] for s in layout.discrete_spans], dtype=torch.long
        )
        self.register_buffer("gather", gather, persistent=False)  # (spans, max_width)
        self.register_buffer("valid", valid, persistent=False)
        self.register_buffer("tanh_columns", tanh_columns, persistent=False)
        self.register_buffer("discrete_slots", discrete_slots, persistent=False)
        last_slot = torch.tensor([s.width - 1 for s in softmax_spans], dtype=torch.long)
        self.register_buffer("last_slot", last_slot, persistent=False)  # (spans,)
        self.data_dim = layout.dim

    def padded_logits(self, raw: torch.Tensor) -> torch.Tensor:
        """(batch, data_dim) -> (batch, n_softmax_spans, max_width), padding at -inf."""
        logits = raw[:, self.gather]
        return logits.masked_fill(~self.valid, float("-inf"))

    def scatter(self, raw: torch.Tensor, padded: torch.Tensor) -> torch.Tensor:
        """Write padded per-span values back into a (batch, data_dim) tensor."""
        out = torch.zeros_like(raw)
        if self.tanh_columns.numel():
            out[:, self.tanh_columns] = torch.tanh(raw[:, self.tanh_columns])
        if self.gather.numel():
            index = self.gather[self.valid]
            out[:, index] = padded[:, self.valid]
        return out


def _gumbel_noise(shape, device, generator: torch.Generator | None) -> torch.Tensor:
    uniform = torch.rand(shape, device=device, generator=generator)
    exponential = -torch.log(uniform.clamp_min(1e-10))  # Exp(1)
    return -torch.log(exponential.clamp_min(1e-10))


class OutputActivation(nn.Module):
    """tanh for mode scalars; Gumbel-softmax (training) or sampled one-hots (sampling) for spans."""

    def __init__(self, span_index: SpanIndex, tau: float = 0.2) -> None:
        super().__init__()
        self.span_index = span_index
        self.tau = tau

    def gumbel_softmax(self, raw: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        logits = self.span_index.padded_logits(raw)  # (batch, spans, width)
        gumbel = _gumbel_noise(logits.shape, raw.device, generator)
        soft = torch.softmax((logits + gumbel) / self.tau, dim=-1)
        return self.span_index.scatter(raw, soft)

    def sample_onehot(self, raw: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Draw each span's category from softmax(logits): rare categories survive (no argmax).

        Inverse-CDF draw: one uniform number per span and row, not one per category.
        """
        probs = torch.softmax(self.span_index.padded_logits(raw), dim=-1)  # (n, spans, width)
        cumulative = probs.cumsum(dim=-1)
        uniform = torch.rand(probs.shape[:2], device=raw.device, generator=generator).unsqueeze(-1)
        choice = (cumulative < uniform * cumulative[..., -1:]).sum(dim=-1)  # (n, spans)
        choice = torch.minimum(choice, self.span_index.last_slot)
        onehot = torch.zeros_like(probs).scatter_(-1, choice.unsqueeze(-1), 1.0)
        return self.span_index.scatter(raw, onehot)


class Residual(nn.Module):
    """Linear -> BatchNorm -> ReLU, its output concatenated with its input."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.relu(self.bn(self.fc(x))), x], dim=1)


class Generator(nn.Module):
    """Noise and condition vector -> raw (pre-activation) row of width data_dim."""

    def __init__(self, input_dim: int, hidden_dims: tuple[int, ...], data_dim: int) -> None:
        super().__init__()
        layers, dim = [], input_dim
        for hidden in hidden_dims:
            layers.append(Residual(dim, hidden))
            dim += hidden
        layers.append(nn.Linear(dim, data_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Discriminator(nn.Module):
    """Scores packs of ``pac`` rows (PacGAN): one score per pack."""

    def __init__(
        self, input_dim: int, hidden_dims: tuple[int, ...], pac: int, dropout: float = 0.5
    ):
        super().__init__()
        self.pac = pac
        layers, dim = [], input_dim * pac
        for hidden in hidden_dims:
            layers += [nn.Linear(dim, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            dim = hidden
        layers.append(nn.Linear(dim, 1))
        self.net = nn.Sequential(*layers)

    def pack(self, rows: torch.Tensor) -> torch.Tensor:
        """(batch, width) -> (batch // pac, pac * width)."""
        return rows.reshape(rows.shape[0] // self.pac, -1)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        return self.score_packed(self.pack(rows))

    def score_packed(self, packed: torch.Tensor) -> torch.Tensor:
        return self.net(packed).squeeze(-1)  # (n_packs,)

    def features(self, packed: torch.Tensor) -> torch.Tensor:
        """The penultimate layer's activations: (n_packs, last hidden width)."""
        return self.net[:-1](packed)

    def score_features(self, features: torch.Tensor) -> torch.Tensor:
        return self.net[-1](features).squeeze(-1)


class TargetClassifier(nn.Module):
    """Predicts a target column's category from the rest of a row (CTAB-GAN's auxiliary
    classifier). The target's own span is zeroed by ``mask`` before the first layer."""

    def __init__(self, data_dim: int, hidden_dims: tuple[int, ...], n_classes: int, mask):
        super().__init__()
        layers, dim = [], data_dim
        for hidden in hidden_dims:
            layers += [nn.Linear(dim, hidden), nn.LeakyReLU(0.2)]
            dim = hidden
        layers.append(nn.Linear(dim, n_classes))
        self.net = nn.Sequential(*layers)
        self.register_buffer("mask", mask, persistent=False)  # (data_dim,)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        return self.net(rows * self.mask)  # (batch, n_classes) logits
