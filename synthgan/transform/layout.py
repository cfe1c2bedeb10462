"""The layout of the transformed table: which output span belongs to which column.

This is the single description that the transformer, the condition sampler, the generator's
output activation and the inverse transform all read. Nothing re-derives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from synthgan.schema import ColumnKind


class Activation(str, Enum):
    TANH = "tanh"
    SOFTMAX = "softmax"


class SpanRole(str, Enum):
    SCALAR = "scalar"
    """A numeric column's value within its component, in [-1, 1] for values near the mode."""
    COMPONENT = "component"
    """A numeric column's component one-hot: Gaussian modes, then point masses, then null."""
    CATEGORY = "category"
    """A categorical column's one-hot (null, if seen, as the last category)."""


@dataclass(frozen=True)
class Span:
    """A run of consecutive output columns produced from one source column."""

    column: str
    kind: ColumnKind
    role: SpanRole
    start: int
    width: int
    activation: Activation

    @property
    def stop(self) -> int:
        return self.start + self.width

    @property
    def is_discrete(self) -> bool:
        """A categorical column's one-hot: what a condition vector can fix."""
        return self.role is SpanRole.CATEGORY

    def to_dict(self) -> dict:
        return {
            "column": self.column,
            "kind": self.kind.value,
            "role": self.role.value,
            "start": self.start,
            "width": self.width,
            "activation": self.activation.value,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Span:
        return cls(
            column=data["column"],
            kind=ColumnKind(data["kind"]),
            role=SpanRole(data["role"]),
            start=int(data["start"]),
            width=int(data["width"]),
            activation=Activation(data["activation"]),
        )


@dataclass(frozen=True)
class Layout:
    """All output spans, in order; ``dim`` is the width of the transformed array."""

    spans: tuple[Span, ...]

    @property
    def dim(self) -> int:
        return self.spans[-1].stop if self.spans else 0

    @property
    def discrete_spans(self) -> tuple[Span, ...]:
        return tuple(s for s in self.spans if s.is_discrete)

    def condition_spans(self, *, modes: bool) -> tuple[Span, ...]:
        """The spans a condition vector covers: each categorical column's one-hot, and with
        ``modes`` each numeric column's component one-hot too (its Gaussian modes, point masses
        and null), as CTAB-GAN extends CTGAN's conditional vector to continuous columns."""
        return self.softmax_spans if modes else self.discrete_spans

    @property
    def softmax_spans(self) -> tuple[Span, ...]:
        return tuple(s for s in self.spans if s.activation is Activation.SOFTMAX)

    @property
    def tanh_spans(self) -> tuple[Span, ...]:
        return tuple(s for s in self.spans if s.activation is Activation.TANH)

    def spans_of(self, column: str) -> tuple[Span, ...]:
        return tuple(s for s in self.spans if s.column == column)

    def discrete_span(self, column: str) -> Span:
        for span in self.discrete_spans:
            if span.column == column:
                return span
        raise KeyError(column)

    def to_dict(self) -> dict:
        return {"spans": [s.to_dict() for s in self.spans]}

    @classmethod
    def from_dict(cls, data: dict) -> Layout:
        return cls(tuple(Span.from_dict(s) for s in data["spans"]))
