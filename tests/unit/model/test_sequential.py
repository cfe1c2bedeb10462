"""The sequential generator: columns drawn one after another, each seeing the ones before it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthgan import InvalidDataError, Synthesizer
from synthgan.model.networks import SequentialGenerator
from synthgan.schema import ColumnKind
from synthgan.transform.layout import Activation, Layout, Span, SpanRole
from tests.unit.model.conftest import FAST


def two_categories() -> Layout:
    """Columns ``a`` and ``b``, two categories each, then a numeric column ``x``."""
    return Layout(
        (
            Span("a", ColumnKind.DISCRETE, SpanRole.CATEGORY, 0, 2, Activation.SOFTMAX),
            Span("b", ColumnKind.DISCRETE, SpanRole.CATEGORY, 2, 2, Activation.SOFTMAX),
            Span("x", ColumnKind.CONTINUOUS, SpanRole.SCALAR, 4, 1, Activation.TANH),
            Span("x", ColumnKind.CONTINUOUS, SpanRole.COMPONENT, 5, 3, Activation.SOFTMAX),
        )
    )


def copying_generator() -> SequentialGenerator:
    """Base logits all zero; column ``b``'s head copies the category drawn for ``a``."""
    torch.manual_seed(0)
    generator = SequentialGenerator(6, (8,), two_categories(), context_dim=2).eval()
    with torch.no_grad():
        for parameter in generator.parameters():
            parameter.zero_()
        generator.body.net[0].bn.running_var.fill_(1.0)
        generator.embeddings[0].weight.copy_(torch.eye(2))  # a's one-hot -> context
        generator.heads[1].weight.copy_(20.0 * torch.eye(2))  # context -> b's logits
    return generator


def draw(generator: SequentialGenerator, n: int, choose=None):
    x = torch.randn(n, generator.input_dim)
    with torch.no_grad():
        features = generator.body.net[:-1](x)
        base = generator.body.net[-1](features)
    return generator.draw(
        base.T.contiguous(), features.T.contiguous(), torch.Generator().manual_seed(1), choose
    )


class TestSequentialGenerator:
    def test_untrained_heads_leave_the_body_logits(self):
        generator = SequentialGenerator(6, (8, 8), two_categories())
        x = torch.randn(50, 6)
        raw, values = generator(x, torch.Generator().manual_seed(0))
        torch.testing.assert_close(raw, generator.body(x))
        assert values.shape == (50, 8)
        for start, stop in [(0, 2), (2, 4), (5, 8)]:  # Gumbel-softmax: rows sum to one
            torch.testing.assert_close(values[:, start:stop].sum(1), torch.ones(50))
        torch.testing.assert_close(values[:, 4], torch.tanh(raw[:, 4]))

    def test_a_later_column_follows_the_drawn_value_of_an_earlier_one(self):
        scalars, codes = draw(copying_generator(), 20_000)
        a, b = codes[0], codes[1]
        assert scalars.shape == (1, 20_000) and codes.shape == (3, 20_000)
        assert 0.47 < a.double().mean() < 0.53  # a: zero logits, a fair coin
        assert (a == b).double().mean() > 0.999  # b copies a's draw

    def test_a_forced_value_is_seen_by_the_columns_after_it(self):
        ones = torch.ones(2_000, dtype=torch.long)
        _, codes = draw(copying_generator(), 2_000, lambda k, logits: ones if k == 0 else None)
        assert bool((codes[0] == 1).all()) and bool((codes[1] == 1).all())

    def test_gradients_reach_the_heads_through_earlier_draws(self):
        generator = SequentialGenerator(6, (8,), two_categories())
        _, values = generator(torch.randn(40, 6), torch.Generator().manual_seed(0))
        values[:, 2:4].square().sum().backward()
        assert generator.heads[1].weight.grad.abs().sum() > 0


@pytest.fixture(scope="module")
def sequential_model(mixed):
    return Synthesizer(random_state=0, sequential_generator=True, **FAST).fit(mixed)


class TestSequentialSynthesizer:
    def test_fit_and_sample(self, sequential_model, mixed):
        rows = sequential_model.sample(500, random_state=3)
        assert list(rows.columns) == list(mixed.columns)
        assert len(rows) == 500
        pd.testing.assert_frame_equal(rows, sequential_model.sample(500, random_state=3))

    def test_saved_model_samples_alike(self, sequential_model, tmp_path):
        path = tmp_path / "model.synthgan"
        sequential_model.save(path)
        loaded = Synthesizer.load(path)
        assert loaded.sequential_generator
        pd.testing.assert_frame_equal(
            loaded.sample(300, random_state=5), sequential_model.sample(300, random_state=5)
        )

    def test_conditions_are_met(self, sequential_model):
        rows = sequential_model.sample(200, conditions={"city": "Rome"}, random_state=0)
        assert len(rows) == 200 and bool((rows["city"] == "Rome").all())
        rows = sequential_model.sample(
            300, conditions={"grade": ["low", "high"], "count": (2, 4)}, random_state=0
        )
        assert len(rows) == 300 and set(rows["grade"]) <= {"low", "high"}
        assert rows["count"].between(2, 4).all()

    def test_differential_privacy_is_refused(self, mixed):
        with pytest.raises(InvalidDataError, match="sequential_generator"):
            Synthesizer(sequential_generator=True, epsilon=3.0, **FAST).fit(mixed)


def test_layout_columns_stay_in_order():
    generator = SequentialGenerator(6, (8,), two_categories())
    assert [spans[0].column for spans in generator.columns] == ["a", "b", "x"]
    assert generator.bounds == [(0, 2), (2, 4), (4, 8)]
    assert np.isclose(sum(stop - start for start, stop in generator.bounds), 8)
