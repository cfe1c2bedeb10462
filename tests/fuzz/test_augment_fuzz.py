"""SyntheticOverSampler and SyntheticAugmentedClassifier on generated tables and labels: the real
rows first and unchanged, synthetic rows of the input's columns, dtypes and classes; or a clean
refusal (a SynthganError of one line, or imbalanced-learn's own "more than 1 class"). Never a
traceback or a warning on the user's terminal."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

pytest.importorskip("imblearn")

from synthgan import Synthesizer, SynthganError  # noqa: E402
from synthgan.augment import SyntheticOverSampler  # noqa: E402
from tests.fuzz.checks import no_warnings, refusal_is_clean  # noqa: E402
from tests.fuzz.outcomes import counting_failures  # noqa: E402
from tests.fuzz.strategies import tables  # noqa: E402
from tests.fuzz.test_synthesizer_fuzz import SMALL, budget  # noqa: E402

CLASSES = {
    "text": ["yes", "no", "inf", ""],
    "int": [0, 1, -7],
    "float": [0.0, 1.0, -2.0],
    "bool": [True, False],
}
"""Label types and the classes a case draws from (the string "inf" and "" are classes)."""

LABEL_PROBLEMS = {
    "none": "",
    "missing": "Input y contains NaN",
    "infinite": "Input y contains infinity",
    "text and numbers": "y mixes text labels",
    "shorter": "rows and y",
}
"""What a case does to its labels, and how the refusal begins (or says)."""

SAMPLER_REFUSALS = re.compile(r"The target 'y' needs to have more than 1 class")
"""imbalanced-learn's own refusals that are clean enough to pass through."""


@st.composite
def labels(draw, n: int) -> tuple[pd.Series | np.ndarray, str]:
    """Labels for ``n`` rows, as a Series or an array, and the problem they carry."""
    family = draw(st.sampled_from(sorted(CLASSES)))
    one_class = draw(st.integers(0, 9)) == 0  # refused by imbalanced-learn
    classes = CLASSES[family][: 1 if one_class else draw(st.integers(2, len(CLASSES[family])))]
    drawn = draw(st.lists(st.sampled_from(classes), min_size=n, max_size=n))
    values = np.array(classes[:n] + drawn[len(classes) :], dtype=object)[:n]  # each class present
    # a problem in one of two labels or more (a single label that is NaN is no table to ask)
    problem = draw(st.sampled_from(sorted(LABEL_PROBLEMS))) if n > 1 and draw(st.booleans()) else "none"
    row = draw(st.integers(0, max(n - 1, 0)))
    if problem == "missing":
        values[row] = draw(st.sampled_from([None, np.nan, pd.NA]))
    elif problem == "infinite":
        values[row] = -np.inf if family == "text" else np.inf
        if family == "text" and len(set(values.tolist())) > 1:
            problem = "text and numbers"  # text with one float: the mixed types are named first
    elif problem == "text and numbers":
        values[row] = 3 if family == "text" else "three"
    elif problem == "shorter":
        values = values[:-1]
    if family == "text" or problem != "none":
        y = pd.Series(values, name="label")
    else:  # a plain column of the family's dtype
        y = pd.Series(values.tolist(), name="label")
    return (y.to_numpy() if draw(st.booleans()) else y), problem


def test_the_sampler_on_any_table_and_labels(fuzz_seed, outcome):
    @seed(fuzz_seed)
    @settings(max_examples=budget(30))
    @given(data=st.data(), case=tables(max_columns=3, shapes=("tiny", "small")))
    def check(data, case):
        X = case.df
        y, problem = data.draw(labels(len(X)))
        curation = data.draw(st.sampled_from([None, "confidence"]))
        sampler = SyntheticOverSampler(
            min_steps=None,
            synthesizer=Synthesizer(**SMALL),
            curation=curation,
            curation_threshold=data.draw(st.sampled_from([0.5, 1.0, 2.0, 10.0])),
            random_state=0,
        )
        with counting_failures(outcome.test):
            try:
                with no_warnings():
                    X_res, y_res = sampler.fit_resample(X, y)
            except SynthganError as exc:
                message = str(exc)
                assert message and "\n" not in message.strip(), f"not one line: {message!r}"
                if problem != "none" and LABEL_PROBLEMS[problem] in message:
                    outcome("clean_error")
                    return
                if not (len(X) == 0 and "X has no rows" in message):  # the sampler's own words
                    refusal_is_clean(case, message)  # the table refused, as Synthesizer does
                outcome("clean_error")
                return
            except ValueError as exc:  # imbalanced-learn's own refusal of a single class
                assert SAMPLER_REFUSALS.match(str(exc)), repr(exc)
                assert problem == "none", f"{problem} not named: {exc!r}"
                outcome("clean_error")
                return
            assert problem == "none", f"labels with a problem ({problem}) were accepted"
            n = len(X)
            assert len(X_res) == len(y_res) >= n
            assert list(X_res.columns) == list(X.columns)
            assert X_res.dtypes.tolist() == X.dtypes.tolist()
            pd.testing.assert_frame_equal(X_res.iloc[:n].reset_index(drop=True), X.reset_index(drop=True))
            real, made = np.asarray(y_res)[:n], np.asarray(y_res)[n:]
            assert list(real) == list(np.asarray(y)), "the real labels changed"
            assert set(made) <= set(np.asarray(y).tolist()), "a synthetic row has an unseen class"
            if curation is not None:  # what curation says it kept is what was added
                for cls, facts in sampler.curation_.items():
                    assert facts["added"] == sampler.sampling_strategy_[cls]
                    assert facts["added"] <= facts["kept"] <= facts["drawn"]
            outcome("correct")

    check()
