"""Conditions on any columns (synthgan.model.conditions, .conditioned), rebalancing and
imputation: every returned row meets its conditions, on briefly trained models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgan import Synthesizer, load
from synthgan.exceptions import InvalidDataError
from synthgan.model.conditions import Between
from tests.unit.model.conftest import FAST


@pytest.fixture(scope="module")
def adult_train(adult):
    return adult[0].sample(3000, random_state=0)


@pytest.fixture(scope="module")
def adult_model(adult_train):
    return Synthesizer(random_state=0, **{**FAST, "batch_size": 500}).fit(adult_train)


@pytest.fixture(scope="module")
def family_model(adult):
    """Long enough trained on three related columns to have learnt that a woman is rarely a
    husband and a never-married man rarely one either."""
    train = adult[0][["sex", "relationship", "marital-status"]].sample(3000, random_state=0)
    return Synthesizer(
        epochs=40, batch_size=200, generator_lr=1e-3, discriminator_lr=1e-3,
        generator_dims=(64, 64), discriminator_dims=(64, 64), random_state=0, verbose=False,
        device="cpu",
    ).fit(train)  # fmt: skip


class TestDictConditions:
    def test_several_columns_lists_ranges_and_equality_hold_on_every_row(self, adult_model):
        conditions = {
            "sex": "Female",
            "race": ["Black", "Asian-Pac-Islander"],
            "age": pd.Interval(30, 65, closed="left"),
            "hours-per-week": ">=40",
            "fnlwgt": (100_000, 250_000),
            "education-num": 13,  # a lookup column: through education
        }
        rows = adult_model.sample(600, conditions=conditions, random_state=0)
        assert len(rows) == 600
        assert (rows["sex"] == "Female").all()
        assert rows["race"].isin(["Black", "Asian-Pac-Islander"]).all()
        assert ((rows["age"] >= 30) & (rows["age"] < 65)).all()
        assert (rows["hours-per-week"] >= 40).all()
        assert rows["fnlwgt"].between(100_000, 250_000).all()
        assert (rows["education-num"] == 13).all()
        assert (rows["education"] == "Bachelors").all()
        assert rows.dtypes.equals(adult_model.sample(5, random_state=0).dtypes)

    @pytest.mark.parametrize("written", [int, np.int64, str])
    def test_an_integer_beyond_2_53_is_met_exactly(self, written):
        # the condition went through float64 before the column's integer origin was subtracted,
        # so rows held 5826469677651474608 for 5826469677651474252 (the fuzz suite, seed 11)
        base = 5826469677651474252
        values = base + np.array([0, 3, 7, 100, 356, 1000] * 10, dtype=np.int64)
        table = pd.DataFrame({"account": values, "x": np.linspace(0, 1, 60)})
        model = Synthesizer(**{**FAST, "batch_size": 20, "pac": 2}).fit(table)
        for value in (base, base + 356):
            rows = model.sample(12, conditions={"account": written(value)}, random_state=0)
            assert rows["account"].tolist() == [value] * 12
        rows = model.sample(12, conditions={"account": [written(base + 3)]}, random_state=0)
        assert rows["account"].tolist() == [base + 3] * 12

    def test_a_column_spanning_more_than_2_53_meets_values_and_ranges_in_integers(self):
        # from the int64 minimum to 2**62: offsets from the origin lose digits as floats, so
        # value 1 came back as 0 (one float), and a range let a neighbour beyond its end through
        low, high = np.iinfo(np.int64).min, 2**62
        values = np.array([low, -5, 0, 1, 2, 914842064176413226, high] * 10, dtype=np.int64)
        table = pd.DataFrame({"code": values, "x": np.linspace(0, 1, 70)})
        model = Synthesizer(**{**FAST, "batch_size": 20, "pac": 2}).fit(table)
        rows = model.sample(20, conditions={"code": 1}, random_state=0)
        assert rows["code"].tolist() == [1] * 20
        end = 914842064176413226
        rows = model.sample(20, conditions={"code": (-(2**60), end)}, random_state=0)
        assert rows["code"].between(-(2**60), end).all(), rows["code"].tolist()
        rows = model.sample(20, conditions={"code": f"<{end}"}, random_state=0)
        assert (rows["code"] < end).all(), rows["code"].tolist()
        # infinite ends are open ends (math.ceil(-inf) raised OverflowError)
        rows = model.sample(20, conditions={"code": (float("-inf"), 5)}, random_state=0)
        assert (rows["code"] <= 5).all(), rows["code"].tolist()
        rows = model.sample(20, conditions={"code": (0.5, float("inf"))}, random_state=0)
        assert (rows["code"] >= 1).all(), rows["code"].tolist()

    def test_numeric_equality_off_the_spikes_is_exact(self, adult_model):
        rows = adult_model.sample(200, conditions={"age": 37, "capital-gain": 0}, random_state=1)
        assert (rows["age"] == 37).all() and (rows["capital-gain"] == 0).all()

    def test_a_range_keeps_its_spread(self, adult_model):
        rows = adult_model.sample(1000, conditions={"age": (30, 40)}, random_state=2)
        assert rows["age"].between(30, 40).all()
        assert rows["age"].nunique() == 11  # every age in range, not piled at the ends

    def test_a_list_of_numbers(self, adult_model):
        rows = adult_model.sample(1000, conditions={"age": [25, 40, 61], "hours-per-week": [40]},
                                  random_state=6)  # fmt: skip
        assert rows["age"].isin([25, 40, 61]).all() and (rows["hours-per-week"] == 40).all()
        shares = rows["age"].value_counts(normalize=True)
        assert set(shares.index) == {25, 40, 61} and shares.min() > 0.1  # each, by the model

    def test_same_seed_same_rows(self, adult_model):
        conditions = {"sex": "Male", "age": (20, 30)}
        first = adult_model.sample(300, conditions=conditions, random_state=5)
        pd.testing.assert_frame_equal(
            first, adult_model.sample(300, conditions=conditions, random_state=5)
        )

    def test_several_conditions_move_the_other_columns(self, family_model):
        # the condition vector feeds one of them; the other moves 'relationship' too
        rows = family_model.sample(1000, conditions={"sex": "Male", "marital-status": "Never-married"},
                                  random_state=3)  # fmt: skip
        assert (rows["relationship"] == "Husband").mean() < 0.2

    def test_noise_draws_weighted_by_the_other_conditions(self, family_model, monkeypatch):
        # the condition vector feeds sex; the candidates' weights bring marital status's link
        # to relationship (real married women: 94% wives)
        import synthgan.model.conditioned as conditioned

        monkeypatch.setattr(conditioned, "FILTER_BUDGET", 0)  # built rows, none looked up
        conditions = {"sex": "Female", "marital-status": "Married-civ-spouse"}
        rows = family_model.sample(2000, conditions=conditions, random_state=0)
        monkeypatch.setattr(conditioned, "CANDIDATES", 1)
        monkeypatch.setattr(conditioned, "MAX_CANDIDATES", 1)
        unweighted = family_model.sample(2000, conditions=conditions, random_state=0)
        wives, unweighted_wives = ((r["relationship"] == "Wife").mean() for r in (rows, unweighted))
        assert wives > 0.85 and wives > unweighted_wives + 0.2

    def test_conditions_on_every_kind_with_nulls(self, mixed_model):
        conditions = {
            "day": ("2020-06-01", "2021-06-01"),
            "count_nullable": (-2, 2),
            "grade": ["low", "high"],
            "flag": True,
            "price": None,  # null: a component of its own
            "stamp_tz": ">=2021-06-05",
        }
        rows = mixed_model.sample(300, conditions=conditions, random_state=0)
        assert rows["day"].between(pd.Timestamp("2020-06-01"), pd.Timestamp("2021-06-01")).all()
        assert rows["count_nullable"].between(-2, 2).all()
        assert rows["grade"].isin(["low", "high"]).all() and rows["flag"].all()
        assert rows["price"].isna().all()
        assert (rows["stamp_tz"] >= pd.Timestamp("2021-06-05", tz="Europe/Berlin")).all()
        assert rows["user_id"].is_unique

    def test_through_save_and_load(self, mixed_model, tmp_path):
        loaded = load(mixed_model.save(tmp_path / "m.synthgan"), device="cpu")
        conditions = {"city": "Rome", "count": (1, 4)}
        pd.testing.assert_frame_equal(
            loaded.sample(200, conditions=conditions, random_state=4),
            mixed_model.sample(200, conditions=conditions, random_state=4),
        )


class _OneInTwenty:
    """A row critic that keeps rows of a high age only (about 1 in 20 of the model's rows)."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def keep(self, rows: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        return (rows["age"] >= self.threshold).to_numpy()


def test_conditioned_rows_pass_the_row_critic_at_a_low_acceptance(adult_model, monkeypatch):
    from synthgan.model import conditioned

    threshold = float(adult_model.sample(4000, random_state=3)["age"].quantile(0.95))
    original = Synthesizer._row_generator

    def low_acceptance(self, *, selection=True):
        generator = original(self, selection=selection)
        generator.selector = _OneInTwenty(threshold) if selection else None
        return generator

    monkeypatch.setattr(Synthesizer, "_row_generator", low_acceptance)
    monkeypatch.setattr(conditioned, "FILTER_BUDGET", 0)  # every row built, none looked up
    passes = []
    forward = conditioned._forward

    def counted(generator, span, category, torch_rng):
        passes.append(len(span))
        return forward(generator, span, category, torch_rng)

    monkeypatch.setattr(conditioned, "_forward", counted)
    conditions = {"sex": "Female"}
    rows = adult_model.sample(400, conditions=conditions, random_state=0)
    assert (rows["sex"] == "Female").all() and len(rows) == 400
    # a pending row's copies share its candidates: no pass over more rows than are wanted
    assert max(passes) <= 400
    assert (rows["age"] >= threshold).mean() > 0.95  # passed the critic, not its last rounds
    monkeypatch.setattr(conditioned, "MAX_SELECTION_COPIES", 1)  # one draw per round: before
    before = adult_model.sample(400, conditions=conditions, random_state=0)
    assert (before["age"] >= threshold).mean() < 0.5


def test_a_common_condition_is_met_by_the_models_own_rows(adult_model, monkeypatch):
    from synthgan.model import conditioned

    def no_building(*args, **kwargs):
        raise AssertionError("a row was built")

    monkeypatch.setattr(conditioned, "draw_conditioned", no_building)
    rows = adult_model.sample(300, conditions={"sex": "Female"}, random_state=0)
    assert len(rows) == 300 and (rows["sex"] == "Female").all()
    with pytest.raises(AssertionError, match="a row was built"):  # rare: built
        adult_model.sample(300, conditions={"sex": "Female", "age": 37,
                                            "relationship": "Husband"}, random_state=0)  # fmt: skip


class TestConditionErrors:
    @pytest.mark.parametrize(
        ("conditions", "message"),
        [
            ({"age": 150}, r"Cannot meet age=150: the model saw 'age' only from 17 to 90"),
            ({"age": (40, 30)}, "holds for no value: the low end is above the high end"),
            ({"age": 37.5}, r"holds a whole number in every row; give one, or a range"),
            ({"age": "old"}, r"'old' is not a number"),
            ({"age": []}, "an empty list of values holds for no row"),
            ({"age": [30, 150]}, r"Cannot meet age=150"),
            ({"sex": ["Female", "Femal"]}, "no category 'Femal'.*closest known category"),
            ({"education-num": 99}, "No value of 'education-num' in the training data meets"),
            # a range on a categorical column: never read as the two values (1..5 as categories
            # conditioned on (2, 4) would otherwise silently lose 3)
            ({"sex": ("Female", "Male")}, r"Female', 'Male'\) is a range, but 'sex' is categ"),
            ({"race": pd.Interval(0, 1)}, "is a range, but 'race' is categorical.*Name the val"),
            ({"sex": Between("A", "F")}, r"'A' <= sex <= 'F' is a range.*sex=a,b with --where"),
        ],
    )
    def test_one_line_errors(self, adult_model, conditions, message):
        with pytest.raises(InvalidDataError, match=message):
            adult_model.sample(5, conditions=conditions)

    def test_a_category_column_of_numbers_takes_a_list_and_refuses_a_range(self):
        rng = np.random.default_rng(0)
        table = pd.DataFrame({"children": pd.Categorical(rng.integers(1, 6, 400)),
                              "income": rng.normal(size=400)})  # fmt: skip
        model = Synthesizer(random_state=0, **FAST).fit(table)
        with pytest.raises(InvalidDataError, match=r"\(2, 4\) is a range, but 'children'"):
            model.sample(10, conditions={"children": (2, 4)})
        rows = model.sample(60, conditions={"children": [2, 3, 4]}, random_state=0)
        assert rows["children"].isin([2, 3, 4]).all() and (rows["children"] == 3).any()

    def test_null_condition_on_a_column_without_nulls(self, adult_model):
        with pytest.raises(InvalidDataError, match="had no nulls in the training data"):
            adult_model.sample(5, conditions={"age": None})

    def test_frame_and_n_disagree(self, adult_model):
        with pytest.raises(InvalidDataError, match="n=4 but the frame of conditions has 2 rows"):
            adult_model.sample(4, conditions=pd.DataFrame({"sex": ["Male", "Female"]}))

    def test_n_required(self, adult_model):
        with pytest.raises(InvalidDataError, match="n is required"):
            adult_model.sample()


class TestFrameOfConditions:
    def test_one_row_per_row_in_order(self, adult, adult_model):
        seeds = adult[1].head(200)[["sex", "age", "education", "race"]].copy()
        seeds.loc[3, "age"] = None  # free in that row
        rows = adult_model.sample(conditions=seeds, random_state=0)
        assert len(rows) == 200
        for column in ["sex", "education", "race"]:
            assert (rows[column].to_numpy() == seeds[column].to_numpy()).all(), column
        known = seeds["age"].notna().to_numpy()
        assert (rows["age"].to_numpy()[known] == seeds["age"].to_numpy()[known]).all()

    def test_seeded(self, adult, adult_model):
        seeds = adult[1].head(50)[["sex", "income"]]
        pd.testing.assert_frame_equal(
            adult_model.sample(conditions=seeds, random_state=1),
            adult_model.sample(conditions=seeds, random_state=1),
        )


class TestDistribution:
    def test_shares_exact_and_the_rest_conditional(self, family_model):
        rows = family_model.sample(
            1001, distribution={"sex": {"Female": 0.5, "Male": 0.5}}, random_state=0
        )
        counts = rows["sex"].value_counts()
        assert sorted(counts.tolist()) == [500, 501]
        women = rows[rows["sex"] == "Female"]
        assert (women["relationship"] == "Husband").mean() < 0.1

    def test_with_conditions(self, adult_model):
        rows = adult_model.sample(
            200, {"age": (20, 30)}, distribution={"income": {">50K": 0.7, "<=50K": 0.3}},
            random_state=0,
        )  # fmt: skip
        assert rows["age"].between(20, 30).all()
        assert (rows["income"] == ">50K").sum() == 140

    @pytest.mark.parametrize(
        ("distribution", "message"),
        [
            ({"sex": {"Female": 0.5}}, "add up to 0.5, not 1"),
            ({"age": {30: 1.0}}, "column 'age' is not categorical"),
            ({"sexx": {"Female": 1.0}}, "Did you mean 'sex'"),
            ({"sex": {"Femal": 1.0}}, "no category 'Femal'"),
        ],
    )
    def test_errors(self, adult_model, distribution, message):
        with pytest.raises(InvalidDataError, match=message):
            adult_model.sample(10, distribution=distribution)


class TestImpute:
    def test_fills_nulls_and_leaves_known_cells(self, adult, adult_model):
        table = adult[1].head(300).reset_index(drop=True)
        rng = np.random.default_rng(0)
        holes = rng.random(table.shape) < 0.2
        holed = table.mask(holes)
        filled = adult_model.impute(holed, random_state=0)
        assert filled.shape == holed.shape and list(filled.columns) == list(holed.columns)
        modelled = [c for c in table.columns if c != "workclass" and c != "occupation"]
        assert filled[modelled].notna().all().all()  # drawn as values, never as nulls
        known = holed.notna()
        for column in table.columns:
            pd.testing.assert_series_equal(
                filled[column][known[column]], holed[column][known[column]], check_dtype=False
            )
        assert (filled.dtypes == holed.dtypes).all()

    def test_filled_cells_follow_the_known_ones(self, family_model):
        frame = pd.DataFrame({"sex": ["Female"] * 300, "relationship": [None] * 300})
        filled = family_model.impute(frame, random_state=0)
        assert (filled["relationship"] == "Husband").mean() < 0.1
        assert filled["relationship"].notna().all()

    def test_unknown_values_stay_and_do_not_steer(self, adult_model):
        frame = pd.DataFrame({"sex": ["Alien", None], "age": [300, None]})
        filled = adult_model.impute(frame, random_state=0)
        assert filled.loc[0, "sex"] == "Alien" and filled.loc[0, "age"] == 300
        assert filled["sex"].notna().all() and filled["age"].notna().all()

    def test_nothing_to_fill(self, adult, adult_model):
        table = adult[1].dropna().head(5)
        pd.testing.assert_frame_equal(adult_model.impute(table), table)

    def test_no_shared_column(self, adult_model):
        with pytest.raises(InvalidDataError, match="shares no column with the model's table"):
            adult_model.impute(pd.DataFrame({"x": [1, None]}))


@pytest.fixture(scope="module")
def rooms_model():
    """Three columns fixed by an integer column ``rooms`` (0-5)."""
    rng = np.random.default_rng(0)
    rooms = rng.integers(0, 6, 600)
    table = pd.DataFrame({
        "rooms": rooms,
        "size_code": np.array([2, 0, 1, 2, 0, 1])[rooms],  # not monotone: a lookup
        "parity": np.array(["even", "odd"])[rooms % 2],
        "half": np.where(rooms >= 3, "high", "low"),
        "x": rng.normal(size=600),
    })  # fmt: skip
    return Synthesizer(**{**FAST, "batch_size": 100, "pac": 5}).fit(table)


class TestLookupsOfANumericSource:
    """Columns fixed by an integer column (caravan's MHKOOP, 9 minus MHHUUR): a condition on
    one is built through its source's values, not met by rejecting rows. A frame of such cells
    (``impute`` on half-known caravan rows) ran out of tries before."""

    def test_the_source_is_conditioned_and_nothing_is_left_to_rejection(self, rooms_model):
        from synthgan.model.conditions import parse_conditions

        derivations = {
            name: t.derivation.source
            for name, t in rooms_model.transformer_.transformers_.items()
            if hasattr(t, "derivation")
        }
        assert derivations == {"size_code": "rooms", "parity": "rooms", "half": "rooms"}
        plan = parse_conditions(
            {"size_code": 0, "parity": "even"}, rooms_model.transformer_, []
        )
        assert plan.filters == []
        assert [span.column for span in plan.spans] == ["rooms"]

    def test_sampled_rows_meet_every_lookup(self, rooms_model):
        rows = rooms_model.sample(60, {"size_code": 0, "parity": "even"}, random_state=0)
        assert (rows["rooms"] == 4).all() and (rows["size_code"] == 0).all()
        rows = rooms_model.sample(60, {"size_code": (0, 1)}, random_state=0)
        assert rows["rooms"].isin([1, 2, 4, 5]).all()
        # a list on a computed number: its values, not the range between them
        rows = rooms_model.sample(60, {"size_code": [0, 2]}, random_state=0)
        assert rows["size_code"].isin([0, 2]).all() and rows["rooms"].isin([0, 1, 3, 4]).all()
        assert set(rows["size_code"]) == {0, 2}

    def test_a_frame_of_them_and_impute(self, rooms_model):
        frame = pd.DataFrame({
            "rooms": [None] * 4, "size_code": [0, 0, 2, None],
            "parity": ["even", None, "odd", "odd"], "x": [None] * 4,
        })  # fmt: skip
        filled = rooms_model.impute(frame, random_state=0)
        assert filled["rooms"].iloc[0] == 4 and filled["rooms"].iloc[2] == 3
        assert filled["rooms"].iloc[1] in (1, 4) and filled["rooms"].iloc[3] in (1, 3, 5)
        assert filled["size_code"].iloc[:3].tolist() == [0, 0, 2]

    def test_contradicting_lookups_are_one_line_errors(self, rooms_model):
        # size_code 2: rooms 0 or 3; odd: 1, 3 or 5; low: 0, 1 or 2
        with pytest.raises(InvalidDataError, match="fixed by 'rooms' contradict each other"):
            rooms_model.sample(5, {"size_code": 2, "parity": "odd", "half": "low"})
        with pytest.raises(InvalidDataError, match="No value of 'size_code'"):
            rooms_model.sample(5, {"size_code": 7})


@pytest.mark.parametrize(
    "condition",
    [5826469677651474252, "5826469677651474252", (5826469677651474252, 5826469677651474352)],
)
def test_the_rule_plans_check_keeps_an_integers_digits(condition):
    # value_predicate compared an int64 column with float(value): 5826469677651474252 and
    # 5826469677651474608 are one float, so both rows met the condition
    from synthgan.model.conditions import value_predicate

    base = 5826469677651474252
    rows = pd.DataFrame({"account": np.array([base, base + 356], dtype=np.int64)})
    _, predicate = value_predicate("account", condition, numeric=True)
    assert predicate(rows).tolist() == [True, False]


def test_a_list_of_values_near_the_float_maximum_is_met_without_an_overflow_warning():
    # the nearest listed value was found through their difference, which overflowed to inf with
    # "overflow encountered in subtract" shown to the user (fuzz seed 20261217, slow profile)
    import warnings

    values = np.r_[np.linspace(-0.8e308, 0.8e308, 38) * 2, 1.531577e308, -1.606299e308]
    table = pd.DataFrame({"x": values, "y": np.linspace(0, 1, 40)})
    model = Synthesizer(**{**FAST, "batch_size": 20, "pac": 2}).fit(table)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = model.sample(20, conditions={"x": [1.531577e308, -1.606299e308]}, random_state=0)
    assert rows["x"].isin([1.531577e308, -1.606299e308]).all()
