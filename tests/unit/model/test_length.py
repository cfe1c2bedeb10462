"""epochs="auto": AUTO_STEPS steps, then on while the checks find the rows improving."""

from __future__ import annotations

import pytest
import torch

from synthgan import Synthesizer
from synthgan.model import length
from synthgan.model.length import AutoLength, auto_epochs, epochs_for_steps
from tests.unit.model.conftest import FAST


class TestAutoLength:
    def test_epochs_cover_the_steps_within_the_bounds(self):
        assert epochs_for_steps(3000, 65) == 47  # Adult's 65 steps an epoch
        assert epochs_for_steps(3000, 8) == 375  # caravan's 8
        assert epochs_for_steps(3000, 2000) == length.AUTO_MIN_EPOCHS  # a huge table
        assert epochs_for_steps(3000, 1) == length.AUTO_MAX_EPOCHS
        assert auto_epochs(65) == 47

    def test_trains_on_while_the_loss_rises_enough(self):
        plan = AutoLength(steps_per_epoch=8)  # caravan: 375 epochs, then stretches of 125
        assert plan.checks_at(250, 375) and not plan.checks_at(249, 375)
        assert plan.record(250, 0.47) == 375  # the first check: train on to the base length
        assert plan.checks_at(375, 375)
        assert plan.record(375, 0.54) == 500  # +0.07 in 1,000 steps: on
        assert plan.record(500, 0.65) == 625
        assert plan.record(625, 0.66) == 625  # +0.01: stop here

    def test_stops_at_the_base_length_when_the_loss_stands_still(self):
        plan = AutoLength(steps_per_epoch=65)  # Adult's 2,000 -> 3,000 steps: +0.014
        first = plan.record(31, 0.613)
        assert first == 47 and plan.record(47, 0.627) == 47

    def test_the_gain_is_scaled_to_the_steps_between_checks(self):
        plan = AutoLength(steps_per_epoch=8)
        plan.record(250, 0.40)  # 1,000 steps before the base: a gain of 0.03 is enough
        assert plan.record(375, 0.431) == 500
        plan = AutoLength(steps_per_epoch=16)
        plan.record(125, 0.40)  # 1,008 steps (63 epochs of 16)
        assert plan.record(188, 0.429) == 188

    def test_never_beyond_the_maximum_and_no_checks_where_there_is_no_room(self):
        plan = AutoLength(steps_per_epoch=8)
        assert plan.max_epochs == length.AUTO_MAX_EPOCHS  # 9,000 steps would be 1,125
        plan.record(875, 0.1)
        assert plan.record(1000, 0.9) == 1000 and not plan.checks_at(1000, 1000)
        huge = AutoLength(steps_per_epoch=5000)  # 5 epochs are 25,000 steps already
        assert huge.max_epochs == huge.base_epochs and not huge.checks_at(3, 5)


class TestAutoLengthInAFit:
    @pytest.fixture()
    def short(self, monkeypatch):
        # 300 rows, batch 100: 3 steps an epoch; 10 epochs, then stretches of 4, at most 20
        monkeypatch.setattr(length, "AUTO_STEPS", 30)
        monkeypatch.setattr(length, "AUTO_MAX_STEPS", 60)
        monkeypatch.setattr(length, "STRETCH_STEPS", 12)

    def fit(self, mixed, **params):
        return Synthesizer(random_state=0, **{**FAST, "epochs": "auto", **params}).fit(mixed)

    def test_a_loss_that_keeps_rising_trains_to_the_maximum(self, mixed, short, monkeypatch):
        monkeypatch.setattr(length, "MIN_GAIN", -1.0)  # any change counts as a gain
        model = self.fit(mixed)
        assert model.epochs_trained_ == 20
        checks = model.loss_history_.dropna(subset=["check_held_out_loss"])
        assert checks["epoch"].tolist() == [7, 10, 14, 18]
        assert checks["check_held_out_loss"].between(0.0, 2.0).all()

    def test_checks_leave_training_as_it_was(self, mixed, short, monkeypatch):
        monkeypatch.setattr(length, "MIN_GAIN", 1.0)  # no check finds a gain this large
        checked = self.fit(mixed)
        assert checked.epochs_trained_ == 10
        assert checked.loss_history_["check_held_out_loss"].notna().sum() == 2
        plain = self.fit(mixed, epochs=10)
        for mine, theirs in zip(checked.generator_.state_dict().values(),
                                plain.generator_.state_dict().values()):  # fmt: skip
            torch.testing.assert_close(mine, theirs, rtol=0, atol=0)
        again = self.fit(mixed)
        assert again.sample(50, random_state=1).equals(checked.sample(50, random_state=1))
