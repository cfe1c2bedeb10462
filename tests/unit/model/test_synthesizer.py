from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthgan import InvalidDataError, ModelFileError, NotFittedError, Synthesizer, load
from synthgan.model.synthesizer import (
    AUTO_STEPS,
    MAX_ROW_DIM,
    MIN_ROW_DIM,
    ROW_DIM_PER_COLUMN,
    auto_steps,
    row_width,
)
from synthgan.transform import TableTransformer
from tests.unit.model.conftest import FAST


@pytest.fixture(scope="module")
def adult_sample(adult):
    return adult[0].sample(4000, random_state=0)


@pytest.fixture(scope="module")
def adult_model(adult_sample):
    return Synthesizer(random_state=0, **{**FAST, "batch_size": 500}).fit(adult_sample)


class TestFitAndSample:
    def test_a_verbose_fit_names_the_columns_it_regenerates_as_ids(self, mixed, capsys):
        Synthesizer(random_state=0, **{**FAST, "verbose": True}).fit(mixed)
        assert "Read as ids, regenerated as new values rather than learnt: user_id, code." in (
            capsys.readouterr().err
        )
        Synthesizer(random_state=0, **FAST).fit(mixed)
        assert "Read as ids" not in capsys.readouterr().err

    def test_sample_has_the_columns_dtypes_and_nulls(self, mixed, mixed_model):
        rows = mixed_model.sample(500, random_state=1)
        assert list(rows.columns) == list(mixed.columns)
        assert rows.dtypes.to_dict() == mixed.dtypes.to_dict()
        for column in ("price", "city", "day"):
            assert rows[column].isna().any() and rows[column].notna().any()
        assert rows["user_id"].is_unique and not set(rows["user_id"]) & set(mixed["user_id"])
        assert rows["count"].between(mixed["count"].min(), mixed["count"].max()).all()

    def test_loss_history_has_one_row_per_epoch(self, mixed_model):
        history = mixed_model.loss_history_
        assert list(history["epoch"]) == [1, 2]
        for column in (
            "generator_loss",
            "critic_loss",
            "wasserstein",
            "gradient_penalty",
            "fooled_rate",
        ):
            assert np.isfinite(history[column]).all()
        assert history["fooled_rate"].between(0, 1).all()

    def test_minimax_loss_trains(self, mixed):
        model = Synthesizer(loss="minimax", discriminator_warmup=3, random_state=0, **FAST)
        model.fit(mixed)
        assert "discriminator_accuracy" in model.loss_history_
        assert len(model.sample(50)) == 50

    def test_target_classifier_trains_saves_and_loads(self, mixed, tmp_path):
        model = Synthesizer(target="city", random_state=0, **FAST).fit(mixed)
        assert model.loss_history_["target_loss"].gt(0).all()
        assert model.loss_history_["classifier_loss"].gt(0).all()
        loaded = load(model.save(tmp_path / "t.synthgan"), device="cpu")
        pd.testing.assert_frame_equal(
            loaded.sample(100, random_state=2), model.sample(100, random_state=2)
        )

    def test_table_without_discrete_columns(self):
        rng = np.random.default_rng(0)
        df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.integers(0, 100, 300)})
        rows = Synthesizer(random_state=0, **FAST).fit(df).sample(50)
        assert rows.dtypes.to_dict() == df.dtypes.to_dict() and len(rows) == 50

    def test_zero_rows(self, mixed, mixed_model):
        rows = mixed_model.sample(0)
        assert len(rows) == 0 and list(rows.columns) == list(mixed.columns)

    def test_same_seed_gives_identical_samples(self, mixed):
        a = Synthesizer(random_state=7, **FAST).fit(mixed).sample(200, random_state=3)
        b = Synthesizer(random_state=7, **FAST).fit(mixed).sample(200, random_state=3)
        pd.testing.assert_frame_equal(a, b)

    def test_fit_leaves_global_rng_untouched(self, mixed):
        import torch

        torch.manual_seed(123)
        expected = torch.rand(3)
        torch.manual_seed(123)
        Synthesizer(random_state=1, **FAST).fit(mixed)
        assert torch.equal(torch.rand(3), expected)

    def test_sampling_is_the_same_however_chunked(self, mixed_model, tmp_path):
        whole = mixed_model.sample(9000, random_state=5)
        mixed_model.sample_to_parquet(tmp_path / "a.parquet", 9000, chunk_rows=1000, random_state=5)
        chunked = pd.read_parquet(tmp_path / "a.parquet")
        pd.testing.assert_frame_equal(chunked, whole, check_dtype=False)
        assert chunked["user_id"].is_unique

    def test_a_sample_as_large_as_the_training_table_spans_its_range(self, mixed, mixed_model):
        numeric = ["price", "count", "count_nullable", "day", "stamp_tz"]
        full = mixed_model.sample(len(mixed), random_state=5)
        for column in numeric:
            assert (full[column].min(), full[column].max()) == (mixed[column].min(),
                                                                mixed[column].max())
        plain = mixed_model.sample(len(mixed), random_state=5, reach_bounds=False)
        assert plain["price"].min() > mixed["price"].min()  # else the test shows nothing
        changed = full.ne(plain) & plain.notna()
        assert changed[numeric].sum().le(2).all() and changed.drop(columns=numeric).sum().sum() == 0
        smaller = mixed_model.sample(len(mixed) - 1, random_state=5)
        pd.testing.assert_frame_equal(
            smaller, mixed_model.sample(len(mixed) - 1, random_state=5, reach_bounds=False)
        )

    def test_reaching_bounds_under_conditions_is_refused(self, mixed, mixed_model):
        rows = mixed_model.sample(len(mixed), {"city": "Rome"}, random_state=5)
        assert (rows["city"] == "Rome").all()  # conditions leave the bounds alone by default
        with pytest.raises(InvalidDataError, match="reach_bounds=True cannot be combined with con"):
            mixed_model.sample(len(mixed), {"city": "Rome"}, reach_bounds=True)
        # what the engine adapters ask before any task starts
        assert mixed_model.will_reach_bounds(len(mixed)) is True
        assert mixed_model.will_reach_bounds(len(mixed) - 1) is False
        assert mixed_model.will_reach_bounds(len(mixed), {"city": "Rome"}) is False
        assert mixed_model.will_reach_bounds(10, reach_bounds=True) is True
        with pytest.raises(InvalidDataError, match="reach_bounds=True cannot be combined with con"):
            mixed_model.will_reach_bounds(len(mixed), {"city": "Rome"}, reach_bounds=True)

    @pytest.mark.parametrize("precision", ["float32", "bfloat16"])
    def test_each_train_precision_fits_reproducibly(self, mixed, precision):
        """bfloat16 autocast is exercised on every machine (emulated where not native)."""
        settings = {**FAST, "train_precision": precision}
        a = Synthesizer(random_state=7, **settings).fit(mixed)
        b = Synthesizer(random_state=7, **settings).fit(mixed)
        assert np.isfinite(a.loss_history_["critic_loss"]).all()
        for param_a, param_b in zip(a.generator_.parameters(), b.generator_.parameters()):
            assert param_a.dtype == torch.float32  # autocast: weights stay float32
            assert torch.equal(param_a, param_b)

    def test_train_precisions_differ_only_in_rounding(self, mixed):
        exact = Synthesizer(random_state=7, train_precision="float32", **FAST).fit(mixed)
        rounded = Synthesizer(random_state=7, train_precision="bfloat16", **FAST).fit(mixed)
        first, second = exact.loss_history_.iloc[0], rounded.loss_history_.iloc[0]
        assert first["condition_loss"] == pytest.approx(second["condition_loss"], rel=0.05)

    def test_blocks_decoded_together_equal_blocks_decoded_alone(self, mixed_model):
        """9,000 rows are three blocks decoded in one call; 4,096 rows are the first block
        alone: the same rows, regenerated ids included (with no row moved onto a bound)."""
        together = mixed_model.sample(9000, random_state=5, reach_bounds=False)
        alone = mixed_model.sample(4096, random_state=5, reach_bounds=False)
        pd.testing.assert_frame_equal(together.iloc[:4096], alone)

    def test_blocks_with_parts_of_a_whole_decoded_together_equal_blocks_decoded_alone(self):
        """Where a row whose group sum left the range goes depends on the rows decoded with it:
        each block's own rows, however many blocks are decoded together."""
        rng = np.random.default_rng(0)
        whole = (rng.dirichlet([2.0, 1.0, 1.5], 400) * 10).round().astype(int)
        table = pd.DataFrame({"a": whole[:, 0], "b": whole[:, 1], "c": whole[:, 2],
                              "x": rng.normal(size=400)})  # fmt: skip
        model = Synthesizer(random_state=0, rejection=False, **FAST).fit(table)
        assert len(model.transformer_.compositions_) == 1
        together = model.sample(9000, random_state=5, reach_bounds=False)
        alone = model.sample(4096, random_state=5, reach_bounds=False)
        pd.testing.assert_frame_equal(together.iloc[:4096], alone)
        sums = together[["a", "b", "c"]].sum(axis=1)
        assert sums.between(table[["a", "b", "c"]].sum(axis=1).min(), 11).all()

    def test_shared_row_encoder_in_the_critic(self, mixed, tmp_path):
        model = Synthesizer(discriminator_row_dim=8, random_state=0, **FAST).fit(mixed)
        encoder = model.critic_.row_encoder[0]
        cond_dim = sum(span.width for span in model.condition_spans_)
        assert encoder.in_features == model.transformer_.layout_.dim + cond_dim  # one row
        assert encoder.out_features == 8
        assert model.critic_.net[0].in_features == 8 * model.pac  # the pack's encodings
        assert np.isfinite(model.loss_history_["gradient_penalty"]).all()
        loaded = load(model.save(tmp_path / "row.synthgan"), device="cpu")
        pd.testing.assert_frame_equal(
            loaded.sample(100, random_state=2), model.sample(100, random_state=2)
        )

    def test_row_encoder_width_grows_with_the_column_count(self, mixed):
        model = Synthesizer(random_state=0, **FAST).fit(mixed)  # discriminator_row_dim="auto"
        assert model.discriminator_row_dim == "auto"  # stored as given
        assert model.critic_.row_encoder[0].out_features == MIN_ROW_DIM  # a narrow table
        rng = np.random.default_rng(0)
        wide = pd.DataFrame({f"c{i}": rng.integers(0, 3, 200) for i in range(70)})
        wide_model = Synthesizer(random_state=0, **FAST).fit(wide)
        assert wide_model.critic_.row_encoder[0].out_features == MAX_ROW_DIM  # 4 x 70, capped
        layout = wide_model.transformer_.layout_
        assert row_width("auto", layout) == MAX_ROW_DIM and row_width(32, layout) == 32
        assert row_width(None, layout) is None
        columns = len({span.column for span in model.transformer_.layout_.spans})
        assert row_width("auto", model.transformer_.layout_) == max(
            MIN_ROW_DIM, ROW_DIM_PER_COLUMN * columns
        )

    def test_auto_steps_grow_with_the_column_count(self, mixed):
        model = Synthesizer(random_state=0, **FAST).fit(mixed)
        assert auto_steps(model.transformer_.layout_) == AUTO_STEPS  # a narrow table
        model.epochs = "auto"
        assert model.epochs_for(3) == AUTO_STEPS // 3
        rng = np.random.default_rng(0)

        def layout(columns):
            frame = pd.DataFrame({f"c{i}": rng.integers(0, 3, 60) for i in range(columns)})
            return TableTransformer().fit(frame).layout_

        assert auto_steps(layout(32)) == AUTO_STEPS
        assert auto_steps(layout(48)) == AUTO_STEPS * 3 // 2  # in proportion beyond 32
        assert auto_steps(layout(80)) == 2 * AUTO_STEPS  # at most twice

    def test_resume_continues_training(self, mixed):
        model = Synthesizer(random_state=0, **FAST).fit(mixed)
        model.fit(mixed, resume=True)
        assert model.epochs_trained_ == 2 and list(model.loss_history_["epoch"]) == [1, 2]

    def test_ctrl_c_keeps_a_usable_model(self, mixed, interrupt_second_epoch):
        model = Synthesizer(random_state=0, **{**FAST, "epochs": 5}).fit(mixed)
        assert model.interrupted_ and model.epochs_trained_ == 1
        assert len(model.sample(20)) == 20


class TestConditions:
    def test_every_discrete_column_of_adult(self, adult_sample, adult_model):
        train = adult_sample
        for column in ["workclass", "education", "marital-status", "occupation", "relationship",
                       "race", "sex", "native-country", "income"]:  # fmt: skip
            value = train[column].dropna().value_counts().index[-1]  # the rarest category
            rows = adult_model.sample(30, conditions={column: value}, random_state=0)
            assert (rows[column] == value).all(), column

    def test_other_columns_follow_their_conditional_distribution(self, adult):
        # Adult: among women, 'Husband' is (almost) never the relationship; among men, 'Wife'.
        train = adult[0][["sex", "relationship", "marital-status"]].sample(3000, random_state=0)
        model = Synthesizer(
            epochs=40, batch_size=200, generator_lr=1e-3, discriminator_lr=1e-3,
            generator_dims=(64, 64), discriminator_dims=(64, 64), random_state=0, verbose=False,
            device="cpu",
        )  # fmt: skip
        model.fit(train)
        women = model.sample(1000, conditions={"sex": "Female"}, random_state=1)
        men = model.sample(1000, conditions={"sex": "Male"}, random_state=1)
        overall = model.sample(2000, random_state=1)
        assert (overall["relationship"] == "Husband").mean() > 0.3  # the category is common...
        assert (women["relationship"] == "Husband").mean() < 0.08  # ...but not among women
        assert (men["relationship"] == "Wife").mean() < 0.08

    def test_condition_vector_covers_numeric_components_by_default(self, adult_model):
        layout = adult_model.transformer_.layout_
        spans = adult_model.condition_spans_
        assert spans == layout.softmax_spans  # categories and numeric components
        assert {s.column for s in spans} > {s.column for s in layout.discrete_spans}
        cond_dim = sum(s.width for s in spans)
        assert adult_model.generator_.net[0].fc.in_features == adult_model.embedding_dim + cond_dim

    def test_parameters_changed_after_fit_do_not_break_sampling(self, adult_sample):
        model = Synthesizer(random_state=0, **{**FAST, "batch_size": 500}).fit(adult_sample)
        model.set_params(condition_on_modes=False, discriminator_row_dim=None, embedding_dim=8)
        rows = model.sample(50, conditions={"sex": "Female"}, random_state=0)
        assert (rows["sex"] == "Female").all()

    def test_categorical_conditions_only(self, adult_sample):
        model = Synthesizer(condition_on_modes=False, random_state=0, **{**FAST, "batch_size": 500})
        model.fit(adult_sample)
        layout = model.transformer_.layout_
        assert model.condition_spans_ == layout.discrete_spans
        rows = model.sample(50, conditions={"income": ">50K"}, random_state=0)
        assert (rows["income"] == ">50K").all()

    def test_several_conditions_and_a_range(self, adult_model):
        rows = adult_model.sample(
            40, conditions={"sex": "Male", "income": ">50K", "age": (30, 50)}, random_state=0
        )
        assert (rows["sex"] == "Male").all() and (rows["income"] == ">50K").all()
        assert rows["age"].between(30, 50).all()

    def test_unknown_category_names_the_closest(self, adult_model):
        with pytest.raises(
            InvalidDataError, match="no category 'Femal'.*closest known category is 'Female'"
        ):
            adult_model.sample(5, conditions={"sex": "Femal"})

    def test_unknown_column_suggests(self, adult_model):
        with pytest.raises(
            InvalidDataError, match="Column 'sexx' is not in the table. Did you mean 'sex'"
        ):
            adult_model.sample(5, conditions={"sexx": "Female"})

    def test_condition_outside_what_was_seen_names_it_at_once(self, adult_model):
        with pytest.raises(
            InvalidDataError, match=r"Cannot meet 1000 <= age <= 2000: the model saw 'age' only "
            r"from 17 to 90"
        ):
            adult_model.sample(5, conditions={"age": (1000, 2000)}, max_tries=2)


class TestModelFile:
    def test_save_load_sample_equals(self, mixed_model, tmp_path):
        path = mixed_model.save(tmp_path / "m.synthgan")
        loaded = load(path, device="cpu")  # the fit's device: CUDA draws other random streams
        pd.testing.assert_frame_equal(
            loaded.sample(300, random_state=9), mixed_model.sample(300, random_state=9)
        )
        assert loaded.epochs_trained_ == mixed_model.epochs_trained_

    def test_file_holds_no_training_rows(self, mixed, mixed_model, tmp_path):
        import zipfile

        path = mixed_model.save(tmp_path / "m.synthgan")
        meta = zipfile.ZipFile(path).read("meta.json").decode()
        assert "AB-0" not in meta  # string ids never stored
        assert not any(str(v) in meta for v in mixed["price"].dropna().head(20).round(10))

    def test_truncated_file(self, mixed_model, tmp_path):
        path = mixed_model.save(tmp_path / "m.synthgan")
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        with pytest.raises(ModelFileError, match="truncated or damaged"):
            load(path)

    def test_altered_file(self, mixed_model, tmp_path):
        import zipfile

        path = mixed_model.save(tmp_path / "m.synthgan")
        with zipfile.ZipFile(path) as archive:
            entries = {name: archive.read(name) for name in archive.namelist()}
        entries["meta.json"] = entries["meta.json"].replace(
            b'"epochs_trained": 2', b'"epochs_trained": 3'
        )
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in entries.items():
                archive.writestr(name, content)
        with pytest.raises(ModelFileError, match="checksum mismatch"):
            load(path)

    def test_newer_format(self, mixed_model, tmp_path, monkeypatch):
        from synthgan.model import modelfile

        monkeypatch.setattr(modelfile, "FORMAT_VERSION", 99)
        path = mixed_model.save(tmp_path / "m.synthgan")
        monkeypatch.setattr(modelfile, "FORMAT_VERSION", 1)
        with pytest.raises(ModelFileError, match="model format 99 is newer"):
            load(path)


class TestErrors:
    def test_batch_size_not_a_multiple_of_pac(self, mixed):
        with pytest.raises(
            InvalidDataError,
            match="batch_size=105 is not a multiple of pac=10. Use batch_size=100 or 110",
        ):
            Synthesizer(**{**FAST, "batch_size": 105}).fit(mixed)

    def test_one_row_a_step_is_refused_before_batch_normalisation_fails(self, mixed):
        # torch raised "Expected more than 1 value per channel when training" from the generator
        with pytest.raises(InvalidDataError, match="batch_size=1: .* at least 2 rows a step"):
            Synthesizer(**{**FAST, "batch_size": 1, "pac": 1}).fit(mixed)

    @pytest.mark.parametrize("row_dim", [0, "wide", 2.5, True])
    def test_bad_row_encoder_width(self, mixed, row_dim):
        expected = 'discriminator_row_dim must be a positive integer, "auto" or None'
        with pytest.raises(InvalidDataError, match=expected):
            Synthesizer(discriminator_row_dim=row_dim, **FAST).fit(mixed)

    def test_unknown_train_precision(self, mixed):
        with pytest.raises(InvalidDataError, match="train_precision='half'"):
            Synthesizer(train_precision="half", **FAST).fit(mixed)

    def test_unknown_loss(self, mixed):
        with pytest.raises(InvalidDataError, match="loss='hinge' is not one of wgan-gp, minimax"):
            Synthesizer(**{**FAST, "loss": "hinge"}).fit(mixed)

    def test_target_must_be_categorical(self, mixed):
        with pytest.raises(
            InvalidDataError,
            match="target='cty' is not a discrete or boolean column of the table. Did you mean 'city'",
        ):
            Synthesizer(target="cty", **FAST).fit(mixed)

    def test_not_fitted(self):
        with pytest.raises(NotFittedError, match="This Synthesizer is not fitted yet"):
            Synthesizer().sample(3)

    def test_unknown_parameter(self):
        with pytest.raises(InvalidDataError, match="Did you mean 'epochs'"):
            Synthesizer().set_params(epoch=3)
