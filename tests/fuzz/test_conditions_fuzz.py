"""Conditional sampling on generated tables: ``sample(n, conditions=...)`` with a value, a list of
values, a range or null drawn from the table's own values (or one the table never held). Every
returned row meets its condition, with the input's columns and dtypes; or a SynthganError of one
line that names the column (a range on a categorical or boolean column is always refused). Never a
traceback or a warning."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import assume, given, seed, settings
from hypothesis import strategies as st

from synthgan import Synthesizer, SynthganError
from synthgan.schema import ColumnKind
from tests.fuzz.checks import no_warnings
from tests.fuzz.outcomes import counting_failures
from tests.fuzz.strategies import tables
from tests.fuzz.test_synthesizer_fuzz import SMALL, budget

SAMPLE_ROWS = 9
FORMS = ("value", "values", "range", "open range", "infinite end", "null", "unseen value")


def _present(series: pd.Series) -> list:
    return series.dropna().astype(object).tolist()


def condition_for(series: pd.Series, form: str, rng: np.random.Generator):
    """A condition of ``form`` on ``series``, from its own values where the form takes them;
    None when the column has no value to build it from."""
    values = _present(series)
    if form == "null":
        return None, True
    if not values:
        return None, False
    pick = [values[i] for i in rng.integers(0, len(values), 2)]
    if form == "value":
        return pick[0], True
    if form == "values":
        return list(dict.fromkeys(pick)), True
    if form in ("range", "open range", "infinite end"):
        try:
            low, high = sorted(pick)
        except TypeError:  # values that do not order (mixed objects): no range
            return None, False
        if form == "infinite end":
            return (-np.inf, high), True
        return ((low, high) if form == "range" else (low, None)), True
    unseen = "never seen in this column"  # a text value no generated column holds
    return unseen, True


def meets(value, condition, form: str) -> bool:
    """Does one sampled value meet the condition (an independent reading of docs/rules.md)?"""
    if form == "null":
        return pd.isna(value)
    if pd.isna(value):
        return False
    if form == "value":
        return value == condition
    if form == "values":
        return any(value == c for c in condition)
    low, high = condition
    return low <= value and (high is None or value <= high)


def test_conditions_are_met_or_refused_by_name(fuzz_seed, outcome):
    @seed(fuzz_seed)
    @settings(max_examples=budget(25))
    @given(
        case=tables(max_columns=3, shapes=("small",), table_problems=False),
        form=st.sampled_from(FORMS),
        pick=st.integers(0, 2**32 - 1),
    )
    def check(case, form, pick):
        rng = np.random.default_rng(pick)
        try:
            with no_warnings():
                model = Synthesizer(**SMALL).fit(case.df)
        except SynthganError:
            assume(False)  # refusals of tables are test_synthesizer_fuzz's
        modelled = [s for s in model.transformer_.schema_.output if s.kind is not ColumnKind.ID]
        assume(modelled)
        spec = modelled[int(rng.integers(len(modelled)))]
        # ranges take numbers and dates; on a categorical or boolean column one is refused
        refused_range = not spec.kind.is_numeric and form in ("range", "open range", "infinite end")
        condition, usable = condition_for(case.df[spec.name], form, rng)
        assume(usable)
        with counting_failures(outcome.test):
            try:
                with no_warnings():
                    rows = model.sample(
                        SAMPLE_ROWS, conditions={spec.name: condition}, random_state=1, max_tries=20
                    )
            except SynthganError as exc:
                message = str(exc)
                assert message and "\n" not in message.strip(), f"not one line: {message!r}"
                assert repr(str(spec.name)) in message or str(spec.name) in message, (
                    f"{message!r} does not name {spec.name!r}"
                )
                assert not refused_range or "is a range" in message, message
                outcome("clean_error")
                return
            assert not refused_range, f"a range on {spec.kind.value} {spec.name!r} was taken"
            assert form != "unseen value" or not len(rows), "rows met a value never seen"
            assert len(rows) == SAMPLE_ROWS
            assert list(rows.columns) == list(model.transformer_.schema_.names)
            assert rows[spec.name].dtype == case.df[spec.name].dtype
            failed = [v for v in rows[spec.name] if not meets(v, condition, form)]
            assert not failed, f"{spec.name!r} {form} {condition!r}: rows hold {failed[:3]}"
            outcome("correct")

    check()
