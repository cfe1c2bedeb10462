"""TableTransformer on generated tables: an exact round trip, or a SynthganError naming the column."""

from __future__ import annotations

import json

from hypothesis import given, seed, settings

from synthgan import SynthganError, TableTransformer
from tests.fuzz.checks import assert_restored, no_warnings, refusal_is_clean
from tests.fuzz.outcomes import counting_failures
from tests.fuzz.strategies import OK, tables


def budget(examples: int) -> int:
    """This test's examples under the loaded profile (the slow profile runs ten times as many)."""
    return examples * settings.default.max_examples // 100


def check_round_trip(case, record) -> None:
    with counting_failures(record.test):
        try:
            with no_warnings():
                tt = TableTransformer(random_state=0).fit(case.df)
                data = tt.transform(case.df)
                back = tt.inverse_transform(data)
                # the state a model file stores (JSON) decodes the same rows
                state = json.loads(json.dumps(tt.get_state(), allow_nan=True))
                again = TableTransformer.from_state(state).inverse_transform(data)
        except SynthganError as exc:
            refusal_is_clean(case, str(exc))
            record("clean_error")
            return
        assert case.expect != "bad", f"accepted a table it must refuse: {case!r}"
        assert list(back.columns) == tt.output_columns == [s.name for s in tt.schema_.output], (
            "columns"
        )
        assert len(back) == len(case.df)
        for spec in tt.schema_.output:
            original = case.df[spec.name]
            assert_restored(spec.name, spec.kind, original, back[spec.name])
            if spec.kind.value != "id":
                assert_restored(spec.name, spec.kind, original, again[spec.name])
        record("correct")


def test_round_trip_of_any_table(fuzz_seed, outcome):
    @seed(fuzz_seed)
    @settings(max_examples=budget(250))
    @given(case=tables())
    def check(case):
        check_round_trip(case, outcome)

    check()


def test_round_trip_of_modellable_tables(fuzz_seed, outcome):
    """Only columns synthgan must model: every case must come back exactly."""

    @seed(fuzz_seed)
    @settings(max_examples=budget(200))
    @given(
        case=tables(table_problems=False, shapes=("tiny", "small", "ids")).filter(
            lambda c: c.expect == OK and len(c.df) > 0
        )
    )
    def check(case):
        check_round_trip(case, outcome)

    check()
