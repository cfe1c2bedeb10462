"""DP-SGD for the critic: what each step samples, clips and adds matches what the accountant is told."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from torch.func import grad, vmap

from synthgan import Synthesizer, load
from synthgan.exceptions import InvalidDataError
from synthgan.model.sampler import ConditionSampler
from synthgan.privacy import dp_training
from synthgan.privacy.accounting import PrivacyPlan
from synthgan.privacy.dp_training import PackPartition
from synthgan.transform.categorical import CategoricalColumnTransformer
from synthgan.transform.identifier import IdColumnTransformer
from synthgan.transform.numeric import NumericColumnTransformer
from tests.unit.privacy.conftest import SMALL, private_frame


@pytest.fixture(scope="module")
def captured():
    """A 1-epoch private fit, with the DPTrainer it used."""
    trainers = []

    class Spy(dp_training.DPTrainer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            trainers.append(self)

    original = dp_training.DPTrainer
    dp_training.DPTrainer = Spy
    try:
        model = Synthesizer(epsilon=8.0, pac=5, **SMALL).fit(private_frame())
    finally:
        dp_training.DPTrainer = original
    return model, trainers[0]


class TestPackPartition:
    def test_every_row_is_in_its_own_bucket_only(self):
        part = PackPartition(1000, 100, 10, np.random.default_rng(0))
        for pack in range(part.n_packs):
            if part.valid[pack]:
                assert set(part.bucket[part.rows[pack]]) == {pack}
        used = np.unique(part.rows[part.valid])
        # a row is left out only when its bucket overflowed
        overflow = np.bincount(part.bucket, minlength=100) - 10
        assert 1000 - len(used) == overflow[overflow > 0].sum()

    def test_adding_a_row_changes_one_pack(self):
        before = PackPartition(500, 50, 10, np.random.default_rng(3))
        after = PackPartition(501, 50, 10, np.random.default_rng(3))
        assert np.array_equal(before.bucket, after.bucket[:500])
        changed = [
            p for p in range(50) if set(before.rows[p]) != set(after.rows[p])
            or before.valid[p] != after.valid[p]
        ]  # fmt: skip
        assert changed == [after.bucket[500]] or changed == []

    def test_left_out_rows_keep_the_others_buckets(self):
        keep = np.ones(300, dtype=bool)
        keep[7] = False
        part = PackPartition(300, 30, 10, np.random.default_rng(1), keep=keep)
        assert 7 not in part.rows[part.valid]


class TestDPStep:
    def test_plan_matches_the_model_file(self, captured):
        model, trainer = captured
        plan = model.privacy_["plan"]
        assert trainer.plan.to_dict() == plan
        assert trainer.steps_per_epoch == round(1 / plan["sample_rate"])
        assert model.privacy_["steps_taken"] == trainer.critic_steps == plan["steps"]
        assert model.privacy_["epsilon_spent"] <= model.epsilon
        assert trainer.expected_packs == pytest.approx(plan["sample_rate"] * trainer.n_packs)

    def test_packs_are_poisson_sampled_at_the_accounted_rate(self, captured):
        _, trainer = captured
        trainer = copy.copy(trainer)
        trainer.rng = torch.Generator().manual_seed(0)
        trainer.pack_valid = torch.ones_like(trainer.pack_valid)
        draws = 3000
        hits = torch.zeros(trainer.n_packs)
        sizes = []
        for _ in range(draws):
            packs = trainer.sample_packs()
            hits[packs] += 1
            sizes.append(len(packs))
        q = trainer.plan.sample_rate
        assert hits.mean().item() / draws == pytest.approx(q, rel=0.05)
        # independent per pack: the batch size varies, binomially
        assert np.var(sizes) == pytest.approx(trainer.n_packs * q * (1 - q), rel=0.2)

    def test_real_rows_come_from_sampled_packs_with_their_own_condition(self, captured):
        _, trainer = captured
        packs = torch.tensor([0, 3])
        trainer.rng.manual_seed(1)
        real, _ = trainer._pairs(packs)
        rows = trainer.pack_rows[packs].reshape(-1)
        width = trainer.data.shape[1]
        real_rows = real.reshape(len(rows), -1)[:, :width]
        assert torch.equal(real_rows, trainer.data[rows])
        cond = real.reshape(len(rows), -1)[:, width:]
        assert torch.all(cond.sum(1) == 1)  # one condition per row, read off that row
        spans = trainer.sampler
        for i, row in enumerate(rows):
            slot = int(cond[i].argmax())
            span = int(torch.searchsorted(spans.cond_offset, torch.tensor(slot), right=True)) - 1
            category = slot - int(spans.cond_offset[span])
            assert int(trainer.row_categories[row, span]) == category

    def test_each_pack_is_clipped_and_the_noise_is_sigma_times_c(self, captured):
        _, trainer = captured
        trainer = copy.copy(trainer)
        trainer.rng = torch.Generator().manual_seed(0)
        shapes = {n: p.shape for n, p in trainer.critic.net.named_parameters()}
        big = {n: 100.0 * torch.randn(6, *s) for n, s in shapes.items()}
        trainer.plan = PrivacyPlan(**{**trainer.plan.to_dict(), "noise_multiplier": 0.0})
        clipped = trainer.add_noise(trainer.clipped_sum(big))
        total = torch.sqrt(sum((g * trainer.expected_packs).pow(2).sum() for g in clipped.values()))
        assert total <= 6 * trainer.plan.max_grad_norm + 1e-4
        single = trainer.add_noise(trainer.clipped_sum({n: g[:1] for n, g in big.items()}))
        norm = torch.sqrt(sum((g * trainer.expected_packs).pow(2).sum() for g in single.values()))
        assert norm == pytest.approx(trainer.plan.max_grad_norm, rel=1e-4)
        trainer.plan = PrivacyPlan(**{**trainer.plan.to_dict(), "noise_multiplier": 1.7})
        empty = {n: torch.zeros(0, *s) for n, s in shapes.items()}
        noise = torch.cat([(g * trainer.expected_packs).flatten()
                           for g in trainer.add_noise(trainer.clipped_sum(empty)).values()])  # fmt: skip
        assert noise.std().item() == pytest.approx(1.7 * trainer.plan.max_grad_norm, rel=0.05)

    @pytest.mark.parametrize("loss", ["wgan-gp", "minimax"])
    def test_per_pack_gradients_equal_autograd_pack_by_pack(self, captured, loss):
        _, trainer = captured
        trainer = copy.copy(trainer)
        trainer.config = copy.copy(trainer.config)
        trainer.config.loss = loss
        trainer._per_pack_grad = vmap(grad(trainer._pair_loss), in_dims=(None, 0, 0, 0))
        trainer.critic.eval()  # no dropout: the two computations must agree exactly
        real, fake = trainer._pairs(torch.tensor([0, 1, 2]))
        alpha = torch.tensor([0.2, 0.5, 0.9])
        params = {n: p.detach() for n, p in trainer.critic.net.named_parameters()}
        per_pack = trainer._per_pack_grad(params, real, fake, alpha)
        net = trainer.critic.net
        for i in range(3):
            score_real, score_fake = net(real[i : i + 1]).sum(), net(fake[i : i + 1]).sum()
            if loss == "wgan-gp":
                mixed = (alpha[i] * real[i] + (1 - alpha[i]) * fake[i]).unsqueeze(0)
                mixed.requires_grad_(True)
                (input_grad,) = torch.autograd.grad(net(mixed).sum(), mixed, create_graph=True)
                penalty = (input_grad.norm() - 1) ** 2
                value = score_fake - score_real + trainer.config.gp_lambda * penalty
            else:
                bce = torch.nn.functional.binary_cross_entropy_with_logits
                value = bce(score_real, torch.tensor(1.0)) + bce(score_fake, torch.tensor(0.0))
            expected = torch.autograd.grad(value, list(net.parameters()))
            for (name, _), want in zip(net.named_parameters(), expected):
                torch.testing.assert_close(per_pack[name][i], want, rtol=1e-4, atol=1e-5)
        trainer.critic.train()

    @pytest.mark.parametrize("max_grad_norm", [1e-3, 1e3])  # every pack clipped; none
    def test_ghost_clipping_equals_clipping_per_pack_gradients(self, captured, max_grad_norm):
        _, trainer = captured
        trainer = copy.copy(trainer)
        trainer.config = copy.copy(trainer.config)
        trainer.config.loss = "minimax"
        trainer._per_pack_grad = vmap(grad(trainer._pair_loss), in_dims=(None, 0, 0, 0))
        trainer.plan = PrivacyPlan(**{**trainer.plan.to_dict(), "noise_multiplier": 0.0,
                                      "max_grad_norm": max_grad_norm})  # fmt: skip
        trainer.critic.eval()  # no dropout: the two computations must agree exactly
        try:
            real, fake = trainer._pairs(torch.tensor([0, 1, 2, 3]))
            trainer._params = {n: p.detach() for n, p in trainer.critic.net.named_parameters()}
            alpha = torch.zeros(4)
            per_pack = trainer._per_pack_grad(trainer._params, real, fake, alpha)
            trainer.rng = torch.Generator().manual_seed(0)
            expected = trainer.add_noise(trainer.clipped_sum(per_pack))
            trainer.rng = torch.Generator().manual_seed(0)
            actual = trainer.add_noise(trainer.ghost_clipped_sum(real, fake))
        finally:
            trainer.critic.train()
        assert list(actual) == list(expected)
        for name in expected:
            torch.testing.assert_close(actual[name], expected[name], rtol=1e-4, atol=1e-7)


class TestNothingExactIsRead:
    def test_no_exact_statistic_code_path_runs(self, monkeypatch):
        def refuse(*args, **kwargs):
            raise AssertionError("an exact-statistics code path ran under epsilon")

        for target in (NumericColumnTransformer, CategoricalColumnTransformer, IdColumnTransformer):
            monkeypatch.setattr(target, "fit", refuse)
        monkeypatch.setattr(ConditionSampler, "from_data", classmethod(refuse))
        monkeypatch.setattr("synthgan.transform.numeric.fit_mixture", refuse)
        model = Synthesizer(epsilon=8.0, pac=1, **SMALL).fit(private_frame())
        assert model.sample(50, random_state=0).shape == (50, 6)

    def test_stored_values_are_not_the_exact_ones(self, tmp_path):
        df = private_frame()
        Synthesizer(epsilon=8.0, pac=1, **SMALL).fit(df).save(tmp_path / "m.synthgan")
        model = load(tmp_path / "m.synthgan")
        transformers = model.transformer_.transformers_
        assert "Atlantis" not in transformers["city"].categories_  # one row's category
        for column in ("price", "age", "gain"):
            assert (transformers[column].min_, transformers[column].max_) != (
                float(df[column].min()), float(df[column].max()),
            )  # fmt: skip
        assert transformers["price"].max_ < 1e6  # the single extreme row left no trace
        exact = df["city"].value_counts()
        stored = dict(zip(transformers["city"].categories_, model._category_counts[0]))
        assert all(stored[c] != exact[c] for c in stored)
        assert transformers["user_id"].next_id_ == 1  # not max(id) + 1
        assert model.privacy_["epsilon_spent"] <= 8.0
        history = model.loss_history_
        assert history["critic_loss"].isna().all() and history["fooled_rate"].isna().all()


class TestErrors:
    @pytest.mark.parametrize(
        "params, match",
        [
            ({"epsilon": -1.0}, "epsilon must be a positive finite number"),
            ({"epsilon": "3"}, "epsilon must be a positive number"),
            ({"epsilon": 3.0, "delta": 0.5}, r"delta=0.5 must be in \(0, 1/n_rows\)"),
            ({"epsilon": 3.0, "target": "cty"}, "target='cty' is not a column.*Did you mean 'city'"),
            ({"epsilon": 3.0, "public_domain": {"bounds": {"prize": (0, 1)}}},
             "Did you mean 'price'"),
            ({"epsilon": 3.0, "public_domain": {"categories": {"price": ["a"]}}},
             "not discrete"),
            ({"epsilon": 3.0, "public_domain": {"bounds": {"price": (5, 1)}}},
             "low must be below high"),
            ({"epsilon": 3.0, "public_domain": {"ranges": {}}}, "must be a dict with the keys"),
        ],
    )  # fmt: skip
    def test_bad_parameters(self, params, match):
        with pytest.raises(InvalidDataError, match=match):
            Synthesizer(**{**SMALL, **params}).fit(private_frame(300))

    def test_a_private_fit_cannot_be_resumed(self):
        model = Synthesizer(epsilon=8.0, pac=1, **SMALL).fit(private_frame())
        with pytest.raises(InvalidDataError, match="cannot be resumed"):
            model.partial_fit(private_frame())

    def test_too_few_rows_for_bounds_names_the_column_and_the_fix(self):
        with pytest.raises(InvalidDataError, match="Column 'price': too few rows.*public_domain"):
            Synthesizer(epsilon=0.5, **SMALL).fit(private_frame(200))

    def test_public_domain_costs_nothing_and_is_used(self):
        df = private_frame(300)
        public = {"bounds": {"price": (0, 200), "age": (18, 90), "gain": (0, 5000)},
                  "categories": {"city": ["Berlin", "Paris", "Rome"]}}  # fmt: skip
        model = Synthesizer(epsilon=20.0, pac=1, public_domain=public, **SMALL).fit(df)
        transformers = model.transformer_.transformers_
        assert (transformers["price"].min_, transformers["price"].max_) == (0.0, 200.0)
        assert transformers["city"].categories_ == ["Berlin", "Paris", "Rome"]
        assert isinstance(model.sample(20, random_state=0), pd.DataFrame)


def test_a_small_integer_range_gets_a_code_per_value(tmp_path):
    df = private_frame().assign(grade=lambda d: np.random.default_rng(1).integers(1, 9, len(d)))
    model = Synthesizer(epsilon=8.0, pac=1, **SMALL).fit(df)
    grade = model.transformer_.transformers_["grade"]
    # integers have a bin each, so the private bounds are the range's own (the logarithmic grid
    # gave 1..10 for 1..8)
    assert (grade.min_, grade.max_) == (1.0, 8.0)
    assert grade.mixture_ is None and grade.point_masses_.tolist() == list(range(1, 9))
    assert model.transformer_.transformers_["age"].mixture_ is not None  # 72 integers: modes
    sampled = load(model.save(tmp_path / "m.synthgan")).sample(300, random_state=0)["grade"]
    assert set(sampled) <= set(range(1, 9)) and sampled.nunique() > 4


def test_a_spike_of_a_wide_integer_column_gets_a_point_mass():
    rng = np.random.default_rng(2)
    df = private_frame().assign(hours=lambda d: np.where(rng.random(len(d)) < 0.6, 40,
                                                          rng.integers(1, 100, len(d))))  # fmt: skip
    model = Synthesizer(epsilon=8.0, pac=1, **SMALL).fit(df)
    transformers = model.transformer_.transformers_
    assert 40.0 in transformers["hours"].point_masses_.tolist()
    assert transformers["hours"].mixture_ is not None  # the other 40% keep their modes
    # every age holds about as many rows as its neighbours: no spike
    assert transformers["age"].point_masses_.size == 0
    privacy = model.privacy_
    n_modelled, n_integer = 6, 3  # price, age, city, flag, gain, hours; age, gain, hours
    assert privacy["stats_sensitivity"] == pytest.approx(np.sqrt(n_modelled + 1 + n_integer / 4))
    assert privacy["stats_noise_sd"] == pytest.approx(
        privacy["plan"]["stats_noise_multiplier"] * privacy["stats_sensitivity"]
    )
    sampled = model.sample(2000, random_state=0)["hours"]
    assert 0.3 < (sampled == 40).mean() < 0.9


def test_a_column_left_with_one_private_category_is_named_in_a_warning():
    df = private_frame().assign(rare=lambda d: np.where(np.arange(len(d)) < 30, "Yes", "No"))
    with pytest.warns(UserWarning, match=r"Column 'rare' keeps one category \('No'\)"):
        Synthesizer(epsilon=1.0, pac=1, **SMALL).fit(df)


class TestDeclaredRelations:
    """public_domain["derived"]: relations the owner declares are computed, never learnt."""

    @staticmethod
    def frame(n: int = 1500) -> pd.DataFrame:
        df = private_frame(n)
        rng = np.random.default_rng(1)
        return df.assign(
            log_pay=rng.normal(4.6, 0.3, n),
            pay=lambda d: np.exp(d["log_pay"]),
            total=lambda d: d["age"] + d["gain"],
            size=lambda d: d["city"].map({"Berlin": 3.7, "Paris": 2.1, "Rome": 2.8, "Atlantis": 0.0}),
        )

    DECLARED = [
        {"type": "monotone", "source": "log_pay", "target": "pay",
         "source_knots": np.linspace(0, 10, 1001).tolist(),
         "target_knots": np.exp(np.linspace(0, 10, 1001)).tolist()},
        {"type": "sum", "target": "total", "left": "age", "right": "gain"},
        {"type": "lookup", "source": "city", "target": "size",
         "keys": ["Berlin", "Paris", "Rome"], "values": [3.7, 2.1, 2.8]},
    ]  # fmt: skip

    def test_declared_columns_hold_on_every_sampled_row(self, tmp_path):
        model = Synthesizer(epsilon=8.0, pac=1, public_domain={"derived": self.DECLARED},
                            **SMALL).fit(self.frame())  # fmt: skip
        rows = load(model.save(tmp_path / "m.synthgan")).sample(400, random_state=0)
        np.testing.assert_allclose(rows["pay"], np.exp(rows["log_pay"]), rtol=1e-4)
        assert (rows["total"] == rows["age"] + rows["gain"]).all()
        sizes = rows["city"].map({"Berlin": 3.7, "Paris": 2.1, "Rome": 2.8})
        assert (rows["size"] == sizes).all()
        for column in ("pay", "total", "size"):  # not modelled: no span of its own
            assert model.transformer_.layout_.spans_of(column) == ()

    def test_the_release_is_unchanged_and_the_card_names_them(self):
        from synthgan.share import _public_domain_lines

        plain = Synthesizer(epsilon=8.0, pac=1, **SMALL).fit(self.frame())
        declared = Synthesizer(epsilon=8.0, pac=1, public_domain={"derived": self.DECLARED},
                               **SMALL).fit(self.frame())  # fmt: skip
        # the same histograms are released (the declared columns' too): the same spend
        assert declared.privacy_["epsilon_spent"] == plain.privacy_["epsilon_spent"]
        line = " ".join(_public_domain_lines(declared.public_domain))
        assert "`total` = `age` + `gain`" in line
        assert "`pay` is a monotone function of `log_pay`" in line

    @pytest.mark.parametrize(
        "relation, match",
        [
            ({"type": "sum", "target": "totl", "left": "age", "right": "gain"}, "Did you mean 'total'"),
            ({"type": "sum", "target": "total", "left": "city", "right": "gain"}, "'city' is discrete"),
            ({"type": "ratio", "target": "total"}, "is not a relation"),
            ({"type": "sum", "target": "total", "left": "user_id", "right": "gain"},
             "column 'user_id' is id; relations take modelled"),
            ({"type": "monotone", "source": "log_pay", "target": "pay", "source_knots": [2, 1],
              "target_knots": [1, 2]}, "source_knots increasing"),
            ({"type": "sum", "target": "age", "left": "age", "right": "gain"}, "derived twice or from itself"),
            ({"type": "lookup", "source": "city", "target": "size", "keys": ["Rome"], "values": ["x"]},
             "must be numbers"),
        ],
    )  # fmt: skip
    def test_bad_declarations_are_one_clear_error(self, relation, match):
        with pytest.raises(InvalidDataError, match=match):
            Synthesizer(epsilon=8.0, pac=1, public_domain={"derived": [relation]},
                        **SMALL).fit(self.frame(300))  # fmt: skip

    def test_a_chain_of_relations_is_refused(self):
        chain = [{"type": "sum", "target": "total", "left": "age", "right": "gain"},
                 {"type": "sum", "target": "price", "left": "total", "right": "gain"}]  # fmt: skip
        with pytest.raises(InvalidDataError, match="'price' is computed from 'total'"):
            Synthesizer(epsilon=8.0, pac=1, public_domain={"derived": chain},
                        **SMALL).fit(self.frame(300))  # fmt: skip
