"""Short Synthesizer fits on generated tables: samples with the input's columns, dtypes, bounds
and no NaN where the input had none; or a SynthganError naming the column."""

from __future__ import annotations

from hypothesis import given, seed, settings
from hypothesis import strategies as st

from synthgan import Synthesizer, SynthganError
from synthgan.model import load
from tests.fuzz.checks import assert_sample_matches, no_warnings, refusal_is_clean
from tests.fuzz.outcomes import counting_failures
from tests.fuzz.strategies import tables

SMALL = dict(
    epochs=1,
    batch_size=10,
    embedding_dim=8,
    generator_dims=(16,),
    discriminator_dims=(16,),
    discriminator_row_dim=8,
    device="cpu",
    verbose=False,
    random_state=0,
)
SAMPLE_ROWS = 23


def only_ids(df) -> bool:
    """Every column id-like: nothing for a GAN to learn (refused by name)."""
    from synthgan.schema import infer_schema

    return not infer_schema(df).modelled


def budget(examples: int) -> int:
    return examples * settings.default.max_examples // 100


def test_short_fits_sample_like_the_input(fuzz_seed, outcome, tmp_path):
    @seed(fuzz_seed)
    @settings(max_examples=budget(30))
    @given(
        case=tables(max_columns=4, shapes=("tiny", "small", "ids")),
        pac=st.sampled_from([5, 10]),  # 10: one pack per batch of 10
    )
    def check(case, pac):
        with counting_failures(outcome.test):
            try:
                with no_warnings():
                    model = Synthesizer(**SMALL, pac=pac).fit(case.df)
                    rows = model.sample(SAMPLE_ROWS, random_state=1)
                    path = model.save(tmp_path / "m.synthgan")
                    again = load(path, device="cpu").sample(SAMPLE_ROWS, random_state=1)
            except SynthganError as exc:
                if str(exc).startswith("Nothing to learn") and only_ids(case.df):
                    assert repr(str(case.df.columns[0])) in str(exc), str(exc)
                    outcome("clean_error")
                    return
                refusal_is_clean(case, str(exc))
                outcome("clean_error")
                return
            assert case.expect != "bad", f"accepted a table it must refuse: {case!r}"
            schema = model.transformer_.schema_
            assert list(rows.columns) == [s.name for s in schema.output]
            assert len(rows) == SAMPLE_ROWS
            for spec in schema.output:
                assert_sample_matches(spec.name, spec.kind, case.df[spec.name], rows[spec.name])
            # a saved model samples the same rows as the one in memory
            assert rows.equals(again), "the loaded model samples other rows"
            outcome("correct")

    check()
