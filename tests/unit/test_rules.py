"""The rules (synthgan.rules): JSON forms, checks, the plan's exact round trip and repairs,
violating rows, bad rules. No GAN here: tests/integration/test_rules_fit.py fits one."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from synthgan.exceptions import InvalidDataError
from synthgan.rules import (
    CategoryRange,
    FixedCombinations,
    Formula,
    Inequality,
    NullTogether,
    Range,
    RulePlan,
    expression,
    load_rules,
    rule_from_dict,
    rules_to_json,
)


def make_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A table meeting every rule of ``all_rules`` with nulls where rules must skip them."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 100, n), unit="D")
    frame = pd.DataFrame(
        {
            "start": start,
            "end": start + pd.to_timedelta(rng.integers(1, 30, n), unit="D"),
            "low": rng.integers(0, 50, n).astype("float64"),
            "edu": rng.choice(["HS", "Bachelors", "Masters"], n),
            "net": rng.normal(100, 20, n).round(2),
            "tax": rng.normal(20, 5, n).round(2),
        }
    )
    frame["mid"] = frame["low"] + rng.integers(0, 5, n)
    frame["high"] = frame["mid"] + rng.integers(0, 5, n)
    frame["edu_num"] = frame["edu"].map({"HS": 9, "Bachelors": 13, "Masters": 14})
    frame["total"] = (frame["net"] + frame["tax"]).round(2)
    frame["gain"] = rng.normal(size=n)
    frame["loss"] = rng.normal(size=n)
    both_null = rng.random(n) < 0.3
    frame.loc[both_null, ["gain", "loss"]] = np.nan
    frame.loc[[3, 4], "low"] = np.nan  # not applicable: the chain skips these rows
    frame.loc[7, "net"] = np.nan
    frame.loc[8, "end"] = pd.NaT
    return frame


def all_rules():
    return [
        Inequality("start", "end", strict=True),
        Inequality("low", "mid", "high"),
        Formula("total", "net + tax", decimals=2),
        FixedCombinations(["edu", "edu_num"]),
        NullTogether(["gain", "loss"]),
        Range("net", low=0, high=1000),
        CategoryRange("edu", "high"),
    ]


@pytest.fixture(scope="module")
def frame():
    return make_frame()


@pytest.fixture(scope="module")
def plan(frame):
    return RulePlan(all_rules()).fit(frame)


class TestJson:
    @pytest.mark.parametrize("rule", all_rules() + [Range("start", low=pd.Timestamp("2024-01-01"), high="end")])
    def test_every_rule_round_trips_through_json(self, rule):
        again = rule_from_dict(json.loads(json.dumps(rule.to_dict())))
        assert again == rule and type(again) is type(rule)

    def test_a_rules_file_loads(self, tmp_path):
        path = tmp_path / "rules.json"
        path.write_text(rules_to_json(all_rules()))
        assert load_rules(path) == all_rules()
        assert load_rules('[{"rule": "inequality", "low": "a", "high": "b"}]') == [
            Inequality("a", "b")
        ]

    @pytest.mark.parametrize(
        "text, match",
        [
            ('{"rules": [{"rule": "inequallity", "columns": ["a", "b"]}]}', "Did you mean 'inequality'"),
            ('{"rules": [{"rule": "range", "colum": "a", "low": 1}]}', "no field 'colum'"),
            ('{"rules": [{"rule": "inequality", "columns": ["a"]}]}', "two or more column names"),
            ('{"rules": [{"rule": "formula", "column": "t"}]}', "expression"),
            ('{"rules": {"rule": "range"}}', "must be a list"),
            ("{not json", "not valid JSON"),
        ],
    )
    def test_bad_rules_files_say_what_is_wrong(self, text, match):
        with pytest.raises(InvalidDataError, match=match):
            load_rules(text)

    def test_a_missing_rules_file(self, tmp_path):
        with pytest.raises(InvalidDataError, match="no such rules file"):
            load_rules(tmp_path / "none.json")


class TestExpression:
    def test_precedence_parentheses_and_quoted_names(self):
        frame = pd.DataFrame({"a": [1.0, 2.0], "b-c": [3.0, 4.0], "d": [2.0, 0.0]})
        tree = expression.parse("a + `b-c` * 2 - (a - 1) / d")
        assert expression.columns(tree) == ["a", "b-c", "d"]
        # the second row divides by zero: no value
        np.testing.assert_allclose(expression.evaluate(tree, frame), [7.0, np.nan])

    @pytest.mark.parametrize("text", ["a +", "a b", "(a + b", "__import__('os')", "a ** 2", ""])
    def test_anything_but_arithmetic_is_refused(self, text):
        with pytest.raises(InvalidDataError, match="Formula expression"):
            expression.parse(text)


class TestChecks:
    def test_nulls_mean_not_applicable(self):
        frame = pd.DataFrame({"a": [1.0, None, 3.0], "b": [0.0, 0.0, None]})
        assert Inequality("a", "b").holds(frame, {}).tolist() == [False, True, True]
        assert Range("a", high=2).holds(frame, {}).tolist() == [True, True, False]
        nulls = pd.DataFrame({"x": [1, None, None], "y": [2, None, 5]})
        assert NullTogether(["x", "y"]).holds(nulls, {}).tolist() == [True, True, False]

    def test_strict_inequality_chains_and_dates(self):
        days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02"])
        frame = pd.DataFrame({"a": days, "b": days[[1, 1, 2]], "c": days[[2, 2, 1]]})
        assert Inequality("a", "b", "c").holds(frame, {}).tolist() == [True, True, True]
        assert Inequality("a", "b", strict=True).holds(frame, {}).tolist() == [True, False, False]

    def test_formula_rounding_is_stated(self):
        frame = pd.DataFrame({"t": [3.33, 3.34], "a": [1.111, 1.111], "b": [2.222, 2.222]})
        assert Formula("t", "a + b", decimals=2).holds(frame, {"decimals": 2}).tolist() == [
            True, False
        ]  # fmt: skip

    def test_rounding_a_formula_near_the_float_maximum_keeps_the_value(self):
        # np.round(x, 2) scales x by 100: near the float maximum that overflowed to inf (with a
        # RuntimeWarning) and the rule wrote inf into the computed column
        frame = pd.DataFrame({"a": [1e308, 1.111, None], "b": [0.0, 2.222, 1.0]})
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            computed = Formula("t", "a + b", decimals=2).compute(frame, 2)
        np.testing.assert_array_equal(computed, [1e308, 3.33, np.nan])

    def test_a_present_value_where_the_formula_is_undefined_breaks_it(self):
        # before, a division by zero made the rule "not applicable", so Formula(b = a / 0) held
        # on every row and the model computed b as null in every sampled row
        frame = pd.DataFrame({"b": [2.0, 5.0, None], "a": [4.0, 0.0, 0.0], "c": [2.0, 0.0, 0.0]})
        assert Formula("b", "a / c").holds(frame, {}).tolist() == [True, False, True]
        with pytest.raises(InvalidDataError, match="Every real row breaks a rule"):
            plan = RulePlan([Formula("b", "a / 0")]).fit(frame.assign(b=[1.0, 2.0, 3.0]))
            plan.screen(frame.assign(b=[1.0, 2.0, 3.0]), verbose=False)

    def test_learnt_rules_hold_on_their_data(self, frame, plan):
        assert plan.holds(frame).all()
        broken = frame.copy()
        broken.loc[0, "edu_num"] = 14 if broken.loc[0, "edu"] != "Masters" else 9
        assert not plan.holds(broken)[0]


class TestPlan:
    def test_the_round_trip_is_exact(self, frame, plan):
        model_table = plan.encode(frame).reset_index(drop=True)
        back, repaired = plan.decode(model_table)
        assert repaired == {}
        pd.testing.assert_frame_equal(back, frame.reset_index(drop=True))

    def test_the_model_table(self, frame, plan):
        names = plan.model_schema_.names
        # computed, combined and gap columns are not learnt as they are
        assert "total" not in names and "edu" not in names and "end" not in names
        assert {"end - start", "mid - low", "high - mid", "edu & edu_num"} <= set(names)
        model_table = plan.encode(frame)
        assert (model_table["end - start"].dropna() >= 0).all()  # strict: the gap less a day
        assert model_table["gain"].notna().all()  # null-together: one indicator
        assert model_table["gain, loss are null"].sum() == frame["gain"].isna().sum()

    def test_state_round_trips_through_json(self, frame, plan):
        again = RulePlan.from_state(json.loads(json.dumps(plan.get_state())))
        model_table = plan.encode(frame).reset_index(drop=True)
        pd.testing.assert_frame_equal(again.decode(model_table)[0], plan.decode(model_table)[0])

    def test_decoded_noise_meets_every_rule(self, frame, plan):
        """Model rows that are nonsense (shuffled columns, negative gaps) still decode to rows
        that meet every rule, with the repairs counted."""
        rng = np.random.default_rng(1)
        model_table = plan.encode(frame).reset_index(drop=True)
        noise = model_table.apply(lambda c: c.sample(frac=1, random_state=rng).to_numpy())
        noise["mid - low"] = noise["mid - low"] - 3  # as from rows kept with 'keep'
        decoded, repaired = plan.decode(noise)
        assert plan.holds(decoded).all()
        assert repaired["Inequality(low <= mid <= high)"] > 0
        assert repaired["CategoryRange(high within the bounds of each edu)"] > 0

    def test_an_inequality_on_a_produced_column_is_repaired(self):
        frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 3, 4, 5], "c": [5, 5, 5, 5]})
        plan = RulePlan([Inequality("a", "c"), Inequality("b", "c")]).fit(frame)
        first, second = plan.links_
        assert first["constructive"] and not second["constructive"]
        model_table = plan.encode(frame).reset_index(drop=True)
        model_table["b"] = [9, 9, 1, 1]
        decoded, repaired = plan.decode(model_table)
        assert plan.holds(decoded).all() and repaired == {"Inequality(b <= c)": 2}
        assert decoded["c"].dtype == np.int64

    def test_range_bounds_from_columns_and_integer_rounding(self):
        frame = pd.DataFrame({"x": [1, 2, 3], "cap": [2.5, 2.5, 9.0]})
        plan = RulePlan([Range("x", low=0.5, high="cap")]).fit(frame)
        decoded, repaired = plan.decode(pd.DataFrame({"x": [0, 7, 7], "cap": [2.5, 2.5, 9.0]}))
        assert decoded["x"].tolist() == [1, 2, 7] and decoded["x"].dtype == np.int64
        assert repaired == {"Range(0.5 <= x <= cap)": 2}


class TestViolations:
    @pytest.fixture
    def broken(self, frame):
        broken = frame.copy()
        broken.loc[[10, 11], "end"] = broken.loc[[10, 11], "start"]  # strict: equal breaks it
        broken.loc[12, "total"] += 1.0
        return broken

    def test_drop_leaves_them_out_with_a_count(self, broken):
        plan = RulePlan(all_rules()).fit(broken)
        with pytest.warns(UserWarning, match="left out 3 of 300 real rows"):
            kept = plan.screen(broken, verbose=False)
        assert len(kept) == 297 and plan.violations_["Inequality(start < end)"] == 2

    def test_keep_trains_on_them(self, broken):
        plan = RulePlan(all_rules(), on_violation="keep").fit(broken)
        with pytest.warns(UserWarning, match="training on 3 of 300"):
            assert len(plan.screen(broken, verbose=False)) == 300
        decoded, _ = plan.decode(plan.encode(broken).reset_index(drop=True))
        assert plan.holds(decoded).all()  # the gaps that were negative come back at 0

    def test_error_names_the_rule_the_count_and_the_fix(self, broken):
        plan = RulePlan(all_rules(), on_violation="error").fit(broken)
        with pytest.raises(InvalidDataError, match=r"Inequality\(start < end\): 2 of 300 real rows break it .*on_violation='drop'"):
            plan.screen(broken, verbose=False)

    def test_bad_on_violation(self, frame):
        with pytest.raises(InvalidDataError, match="on_violation='ignore' is not one of"):
            RulePlan(all_rules(), on_violation="ignore").fit(frame)


class TestBadRules:
    @pytest.mark.parametrize(
        "rule, match",
        [
            (Inequality("stat", "end"), r"Rule Inequality\(stat <= end\): Column 'stat' is not in the table. Did you mean 'start'\?"),
            (Formula("edu", "net + tax"), r"column 'edu' is discrete, but this rule needs a number column"),
            (Formula("total", "net + total"), "appears on both sides"),
            (Inequality("start", "net"), "compares dates with numbers"),
            (FixedCombinations(["edu", "net"]), "'net' is continuous"),
            (Range("net", low=5, high=1), "low 5 is above high 1"),
            (Range("net", low=pd.Timestamp("2024-01-01")), "does not fit column 'net'"),
            (NullTogether(["gain"]), "two or more different columns"),
        ],
    )
    def test_one_line_naming_the_rule_and_the_fix(self, frame, rule, match):
        with pytest.raises(InvalidDataError, match=match) as info:
            RulePlan([rule]).fit(frame)
        assert "\n" not in str(info.value)

    def test_two_rules_rewriting_one_column(self, frame):
        with pytest.raises(InvalidDataError, match="also rewritten by FixedCombinations"):
            RulePlan([FixedCombinations(["edu", "edu_num"]), NullTogether(["edu", "gain"])]).fit(
                frame
            )

    def test_formulas_in_a_circle(self, frame):
        rules = [Formula("net", "total - tax"), Formula("total", "net + tax")]
        with pytest.raises(InvalidDataError, match="in a circle"):
            RulePlan(rules).fit(frame)
