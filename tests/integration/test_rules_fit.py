"""Rules end to end: a short fit under every rule kind, then every sampled row meets every rule
(with conditions, after save/load, streamed to Parquet, from the CLI)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from synthgan import InvalidDataError, Synthesizer, load
from synthgan.cli import main
from synthgan.rules import Inequality, Range, rules_to_json
from tests.unit.test_rules import all_rules, make_frame

FAST = {"epochs": 2, "batch_size": 100, "pac": 10, "embedding_dim": 16,
        "generator_dims": (32,), "discriminator_dims": (32,), "verbose": False,
        "device": "cpu"}  # fmt: skip


@pytest.fixture(scope="module")
def frame():
    broken = make_frame(n=400, seed=3)
    broken.loc[[10, 11], "end"] = broken.loc[[10, 11], "start"]  # breaks the strict inequality
    return broken


@pytest.fixture(scope="module")
def model(frame):
    with pytest.warns(UserWarning, match="left out 2 of 400 real rows"):
        return Synthesizer(random_state=0, rules=all_rules(), **FAST).fit(frame)


def test_every_sampled_row_meets_every_rule(model, frame):
    rows = model.sample(2000, random_state=1)
    assert len(rows) == 2000 and list(rows.columns) == list(frame.columns)
    assert model.rules_.holds(rows).all()
    dated = rows.dropna(subset=["start", "end"])  # a null: the rule does not apply
    assert len(dated) and (dated["end"] > dated["start"]).all()  # strict, on dates
    assert ((rows["total"] - rows["net"] - rows["tax"]).abs().dropna() < 0.0051).all()
    seen = set(zip(frame["edu"], frame["edu_num"]))
    assert set(zip(rows["edu"], rows["edu_num"])) <= seen
    assert (rows["gain"].isna() == rows["loss"].isna()).all()
    assert rows["gain"].isna().any()  # the group's nulls come back
    for name in ("start", "end", "edu", "edu_num", "net", "gain"):
        assert rows[name].dtype == frame[name].dtype, name
    assert model.rule_report_["left_out"] == 0


def test_the_same_rows_after_save_and_load(model, tmp_path):
    path = tmp_path / "ruled.synthgan"
    model.save(path)
    again = load(path, device="cpu")
    assert again.rules == model.rules_.rules_ and again.on_violation == "drop"
    pd.testing.assert_frame_equal(again.sample(300, random_state=4), model.sample(300, random_state=4))


def test_a_directory_sample_refuses_reach_bounds_before_writing(model, tmp_path):
    from synthgan.model.partitions import sample_to_directory

    path = model.save(tmp_path / "ruled.synthgan")
    with pytest.raises(InvalidDataError, match="reach_bounds=True cannot be combined with rules"):
        sample_to_directory(path, tmp_path / "out", 300, chunk_rows=100, processes=1,
                            reach_bounds=True)  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_conditions_on_kept_and_rewritten_columns(model):
    # 'edu' is one column of a fixed combination: its value picks the joint category
    rows = model.sample(300, conditions={"edu": "Masters"}, random_state=2)
    assert (rows["edu"] == "Masters").all() and (rows["edu_num"] == 14).all()
    # 'end' is rebuilt from its gap: met by checking the decoded rows
    window = (pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-15"))
    rows = model.sample(200, conditions={"end": window, "low": (10, 40)}, random_state=3)
    assert len(rows) == 200 and rows["end"].between(*window).all()
    assert rows["low"].between(10, 40).all() and model.rules_.holds(rows).all()


def test_lists_of_values_under_rules(model):
    # a fixed combination's column (its combinations by construction) and a kept number
    rows = model.sample(200, conditions={"edu_num": [9, 14], "low": [10, 20]}, random_state=9)
    assert rows["edu_num"].isin([9, 14]).all() and rows["low"].isin([10, 20]).all()
    assert set(rows["edu"]) <= {"HS", "Masters"} and model.rules_.holds(rows).all()
    both = model.sample(50, conditions={"edu": ["HS", "Masters"], "edu_num": [9, 13]},
                        random_state=9)  # fmt: skip
    assert (both["edu"] == "HS").all() and (both["edu_num"] == 9).all()


def test_an_impossible_condition_on_a_rewritten_column_stops_within_its_budget(model):
    never = (pd.Timestamp("1990-01-01"), pd.Timestamp("1990-01-02"))
    with pytest.raises(InvalidDataError, match=r"Could not meet the conditions end=.*raise max_tries"):
        model.sample(10, conditions={"end": never}, max_tries=2, random_state=0)


def test_a_frame_of_conditions_under_rules(model):
    # 'low' the model holds as it is; 'edu' and 'end' the rules rewrite (checked per row)
    wanted = pd.DataFrame({
        "low": [5.0, None, 30.0, None] * 25,
        "edu": ["Masters", "HS", None, "Bachelors"] * 25,
        "end": [None, None, ">=2024-02-15", None] * 25,
    })  # fmt: skip
    rows = model.sample(conditions=wanted, random_state=6)
    assert len(rows) == 100 and model.rules_.holds(rows).all()
    given = wanted["low"].notna()
    assert (rows["low"][given] == wanted["low"][given]).all()
    named = wanted["edu"].notna()
    assert (rows["edu"][named] == wanted["edu"][named]).all()
    assert (rows["end"][2::4] >= pd.Timestamp("2024-02-15")).all()
    pd.testing.assert_frame_equal(rows, model.sample(conditions=wanted, random_state=6))


@pytest.mark.parametrize(
    ("frame_of_conditions", "message"),
    [
        ({"edu": ["PhD", None]}, "Column 'edu' has no category 'PhD' in the combinations seen"),
        ({"total": ["old", None]}, r"Cannot meet total='old': 'old' is not a number"),
        ({"nosuch": [1, 2]}, "Column 'nosuch' is not in the table"),
    ],
)
def test_a_bad_frame_of_conditions_under_rules_is_one_line(model, frame_of_conditions, message):
    with pytest.raises(InvalidDataError, match=message):
        model.sample(conditions=pd.DataFrame(frame_of_conditions), max_tries=3, random_state=0)


def test_rebalancing_under_rules(model):
    rows = model.sample(300, distribution={"edu": {"HS": 0.5, "Masters": 0.5}}, random_state=7)
    assert (rows["edu"] == "HS").sum() == 150 and (rows["edu"] == "Masters").sum() == 150
    assert model.rules_.holds(rows).all()


def test_impute_under_rules_fills_within_the_rules(model, frame):
    holes = frame.iloc[12:72].copy()  # rows the frame has no nulls in
    holes.loc[holes.index[:20], "end"] = pd.NaT  # rebuilt from its gap: must come after start
    holes.loc[holes.index[20:40], "edu_num"] = None  # one column of a fixed combination
    holes.loc[holes.index[40:60], "total"] = None  # a formula column
    filled = model.impute(holes, random_state=8)
    assert filled.index.equals(holes.index) and list(filled.columns) == list(holes.columns)
    known = holes.notna()
    assert filled[known].equals(holes[known])  # known cells untouched
    assert filled["end"].iloc[:20].notna().all() and filled["edu_num"].iloc[20:40].notna().all()
    assert model.rules_.holds(filled).all()


def test_impute_says_which_rows_no_draw_can_fill(model, frame):
    # a formula's input beside its known result: only one value fits, the model draws others
    holes = frame.iloc[12:16].copy()
    holes.loc[holes.index[0], "net"] = None
    with pytest.warns(UserWarning, match=r"impute: 1 of \d+ rows keep their nulls"):
        filled = model.impute(holes, max_tries=3, random_state=0)
    assert filled.iloc[[0]].equals(holes.iloc[[0]])


def test_streamed_rows_meet_the_rules_too(model, tmp_path):
    path = model.sample_to_parquet(tmp_path / "s.parquet", 700, chunk_rows=256, random_state=5)
    rows = pd.read_parquet(path)
    assert len(rows) == 700 and model.rules_.holds(rows).all()
    assert len(model.sample(0)) == 0


def test_keep_and_error_at_fit(frame):
    kept = Synthesizer(random_state=0, rules=all_rules(), on_violation="keep", **FAST)
    with pytest.warns(UserWarning, match="training on 2 of 400"):
        kept.fit(frame)
    assert kept.rows_trained_ == 400 and kept.rules_.holds(kept.sample(500, random_state=0)).all()
    strict = Synthesizer(rules=all_rules(), on_violation="error", **FAST)
    with pytest.raises(InvalidDataError, match=r"Inequality\(start < end\): 2 of 400"):
        strict.fit(frame)


def test_rules_and_epsilon_are_refused_together(frame):
    with pytest.raises(InvalidDataError, match="rules cannot be combined with epsilon"):
        Synthesizer(rules=[Range("net", low=0)], epsilon=1.0, **FAST).fit(frame)


class TestCli:
    def test_fit_with_a_rules_file(self, runner, tmp_path):
        table = tmp_path / "t.parquet"
        make_frame(n=200).to_parquet(table)
        rules = tmp_path / "rules.json"
        rules.write_text(rules_to_json([Inequality("low", "mid", "high"), Range("net", low=50)]))
        out = tmp_path / "m.synthgan"
        args = ["--epochs", "1", "--batch-size", "100", "--seed", "0", "--device", "cpu", "-q"]
        result = runner.invoke(main, ["fit", str(table), "--rules", str(rules), "-o", str(out), *args])
        assert result.exit_code == 0, result.output
        assert "Warning: Rules: left out 3 of 200 real rows" in result.stderr
        sampled = tmp_path / "s.csv"
        result = runner.invoke(main, ["sample", str(out), "-n", "300", "-o", str(sampled), "-q"])
        assert result.exit_code == 0, result.output
        rows = pd.read_csv(sampled)
        assert (rows["net"].dropna() >= 50).all()
        chain = rows[["low", "mid", "high"]].dropna()
        assert (chain["low"] <= chain["mid"]).all() and (chain["mid"] <= chain["high"]).all()

    @pytest.mark.parametrize(
        "rules, match",
        [
            ({"rules": [{"rule": "formula", "column": "edu", "expression": "net + tax"}]},
             "Formula(edu = net + tax): column 'edu' is discrete"),
            ({"rules": [{"rule": "range", "column": "age", "low": 0}]},
             "Column 'age' is not in the table"),
            ({"rules": [{"rule": "between", "columns": ["a"]}]}, "Unknown rule kind 'between'"),
        ],
    )  # fmt: skip
    def test_bad_rules_are_one_line(self, runner, tmp_path, rules, match):
        table = tmp_path / "t.parquet"
        make_frame(n=100).to_parquet(table)
        path = tmp_path / "rules.json"
        path.write_text(json.dumps(rules))
        result = runner.invoke(main, ["fit", str(table), "--rules", str(path), "-q"])
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and match in lines[0], lines
