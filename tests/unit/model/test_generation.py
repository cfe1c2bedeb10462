from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthgan import InvalidDataError, Synthesizer
from synthgan.model.generation import SamplingNetwork
from synthgan.model.networks import Generator
from tests.unit.model.conftest import FAST


def trained_looking_generator() -> Generator:
    """A generator whose BatchNorm layers have non-trivial running statistics and affine maps."""
    torch.manual_seed(0)
    generator = Generator(20, (32, 16), 12)
    for layer in generator.net[:-1]:
        layer.bn.running_mean.uniform_(-1.0, 1.0)
        layer.bn.running_var.uniform_(0.5, 2.0)
        layer.bn.weight.data.uniform_(0.5, 1.5)
        layer.bn.bias.data.uniform_(-0.5, 0.5)
    return generator.eval()


class TestSamplingNetwork:
    """The sampling network is feature-major: (features, n) in, (data_dim, n) out."""

    def test_float32_equals_the_generator_in_eval_mode(self):
        generator = trained_looking_generator()
        gen_input = torch.randn(5000, 20)  # several network chunks and a partial one
        with torch.no_grad():
            expected = generator(gen_input)
        actual = SamplingNetwork(generator, torch.float32)(gen_input.T.contiguous())
        torch.testing.assert_close(actual.T, expected, rtol=1e-5, atol=1e-5)

    def test_bfloat16_is_close_to_float32(self):
        generator = trained_looking_generator()
        gen_input = torch.randn(20, 500)
        exact = SamplingNetwork(generator, torch.float32)(gen_input)
        rounded = SamplingNetwork(generator, torch.bfloat16)(gen_input)
        assert rounded.dtype == torch.float32
        assert (rounded - exact).abs().max() < 0.05 * exact.abs().max()

    def test_generator_without_hidden_blocks(self):
        generator = Generator(6, (), 4).eval()
        gen_input = torch.randn(6, 30)
        with torch.no_grad():
            expected = generator(gen_input.T)
        actual = SamplingNetwork(generator, torch.float32)(gen_input)
        torch.testing.assert_close(actual.T, expected)

    def test_generator_is_left_untouched(self):
        generator = trained_looking_generator()
        before = {k: v.clone() for k, v in generator.state_dict().items()}
        SamplingNetwork(generator, torch.bfloat16)
        for key, value in generator.state_dict().items():
            assert value.dtype == before[key].dtype
            assert torch.equal(value, before[key])


class TestDraw:
    """OutputActivation.draw on a feature-major raw output (data_dim, n)."""

    def test_each_span_is_drawn_from_its_softmax(self, mixed_model):
        activation = mixed_model._activation
        layout = mixed_model.transformer_.layout_
        span = layout.discrete_span("city")
        logits = torch.tensor([1.0, 0.0, -1.0, -3.0])[: span.width]
        raw = torch.zeros(layout.dim, 200_000)
        raw[span.start : span.stop] = logits[:, None]
        _, codes = activation.draw(raw, torch.Generator().manual_seed(0))
        drawn = codes[list(layout.softmax_spans).index(span)]
        frequencies = torch.bincount(drawn, minlength=span.width).double() / len(drawn)
        torch.testing.assert_close(
            frequencies, torch.softmax(logits.double(), 0), atol=4e-3, rtol=0
        )

    def test_large_logits_and_impossible_categories(self, mixed_model):
        """Logits far apart (exp would overflow unshifted) and categories with probability 0
        after rounding: every draw is the dominant category and in range."""
        activation = mixed_model._activation
        layout = mixed_model.transformer_.layout_
        raw = torch.full((layout.dim, 5000), -500.0)
        for span in layout.softmax_spans:
            raw[span.stop - 1] = 300.0  # the last category of every span
        _, codes = activation.draw(raw, torch.Generator().manual_seed(1))
        widths = torch.tensor([s.width for s in layout.softmax_spans])
        assert torch.equal(codes, (widths - 1)[:, None].expand_as(codes))

    def test_mode_scalars_are_tanh_of_the_raw_output(self, mixed_model):
        activation = mixed_model._activation
        columns = activation.span_index.tanh_columns
        raw = torch.randn(mixed_model.transformer_.layout_.dim, 100) * 3
        scalars, _ = activation.draw(raw, torch.Generator().manual_seed(0))
        torch.testing.assert_close(scalars, torch.tanh(raw[columns]))


class TestSamplePrecision:
    @pytest.mark.parametrize("precision", ["float32", "bfloat16"])
    def test_each_precision_samples_reproducibly(self, mixed, mixed_model, precision):
        mixed_model.set_params(sample_precision=precision)
        try:
            first = mixed_model.sample(300, random_state=4)
            second = mixed_model.sample(300, random_state=4)
        finally:
            mixed_model.set_params(sample_precision="auto")
        pd.testing.assert_frame_equal(first, second)
        assert list(first.columns) == list(mixed.columns)
        assert first.dtypes.equals(mixed.dtypes)

    def test_precisions_agree_on_the_categories_drawn(self, mixed_model):
        """bfloat16 rounding moves a category's probability by far less than the draw's own
        spread: the same seed draws nearly the same categories (compared before rejection
        sampling, which would keep different rows of the two)."""
        mixed_model.set_params(sample_precision="float32", rejection=False)
        exact = mixed_model.sample(2000, random_state=5)
        mixed_model.set_params(sample_precision="bfloat16")
        rounded = mixed_model.sample(2000, random_state=5)
        mixed_model.set_params(sample_precision="auto", rejection=True)
        same = (exact["city"] == rounded["city"]) | (exact["city"].isna() & rounded["city"].isna())
        agreement = same.mean()
        assert agreement > 0.95

    def test_unknown_precision_is_a_clear_error(self, mixed_model):
        mixed_model.set_params(sample_precision="float16")
        try:
            with pytest.raises(InvalidDataError, match="sample_precision='float16'"):
                mixed_model.sample(10)
        finally:
            mixed_model.set_params(sample_precision="auto")

    def test_unknown_precision_is_refused_by_fit(self, mixed):
        with pytest.raises(InvalidDataError, match="sample_precision"):
            Synthesizer(sample_precision="half", **FAST).fit(mixed)


def test_float32_sampling_matches_the_training_generator(mixed_model):
    """The folded float32 network and the generator itself give the same rows."""
    mixed_model.set_params(sample_precision="float32")
    try:
        generation = mixed_model._row_generator()
        gen_input = torch.randn(64, generation.network.input_dim)
        source = mixed_model.ema_generator_ or mixed_model.generator_
        with torch.no_grad():
            expected = source.eval()(gen_input)
        actual = generation.network(gen_input.T.contiguous()).T
        torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)
    finally:
        mixed_model.set_params(sample_precision="auto")
    assert np.isfinite(expected.numpy()).all()
