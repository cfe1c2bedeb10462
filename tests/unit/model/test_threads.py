from __future__ import annotations

import pytest
import torch

from synthgan.exceptions import InvalidDataError
from synthgan.model import threads as threads_module
from synthgan.model.threads import ThreadPlan, _Reading, check_n_threads, thread_plan


class TestCheck:
    @pytest.mark.parametrize("bad", [0, -1, 1.5, "two", True])
    def test_bad_values_are_refused(self, bad):
        with pytest.raises(InvalidDataError, match="n_threads must be 'auto' or a positive"):
            check_n_threads(bad)

    @pytest.mark.parametrize("good", ["auto", 1, 3])
    def test_good_values(self, good):
        check_n_threads(good)


def readings(monkeypatch, others_busy_cores: float, own_cores: float = 1.0):
    """Fake /proc/stat: one second per reading, others using ``others_busy_cores`` cores."""
    state = {"t": 0.0}

    def read():
        t = state["t"]
        state["t"] += 1.0
        return _Reading(wall=t, busy_s=(others_busy_cores + own_cores) * t, own_s=own_cores * t)

    monkeypatch.setattr(threads_module, "_read", read)
    monkeypatch.setattr(threads_module, "START_WINDOW_S", 0.0)


class TestAuto:
    @pytest.fixture(autouse=True)
    def four_cores(self, monkeypatch):
        before = torch.get_num_threads()
        torch.set_num_threads(4)
        monkeypatch.setattr(threads_module, "usable_cores", lambda: 4)
        yield
        torch.set_num_threads(before)

    @pytest.mark.parametrize(("others", "expected"), [(0.05, 4), (1.0, 3), (2.9, 1), (6.0, 1)])
    def test_takes_the_cores_others_leave(self, monkeypatch, others, expected):
        readings(monkeypatch, others)
        with thread_plan("auto", torch.device("cpu")) as plan:
            assert plan.start() == expected
            assert torch.get_num_threads() == expected
        assert torch.get_num_threads() == 4  # put back

    def test_follows_the_load_from_epoch_to_epoch(self, monkeypatch):
        readings(monkeypatch, 0.0)
        plan = ThreadPlan("auto")
        assert plan.start() == 4
        readings(monkeypatch, 2.0)
        plan._last = None
        plan.update()  # first reading of the new fake clock
        assert plan.update() == 2

    def test_never_more_than_torch_allows(self, monkeypatch):
        torch.set_num_threads(2)  # e.g. OMP_NUM_THREADS=2
        readings(monkeypatch, 0.0)
        assert ThreadPlan("auto").start() == 2

    def test_a_fixed_count_is_used_as_given(self, monkeypatch):
        readings(monkeypatch, 3.5)
        with thread_plan(3, torch.device("cpu")) as plan:
            assert plan.start() == 3
        assert torch.get_num_threads() == 4

    def test_without_proc_stat_torch_keeps_its_count(self, monkeypatch):
        monkeypatch.setattr(threads_module, "_read", lambda: None)
        assert ThreadPlan("auto").start() == 4


def test_one_core_starts_without_watching_the_machine(monkeypatch):
    """With one thread allowed (OMP_NUM_THREADS=1, the test suite) there is nothing to choose:
    the fit starts at once instead of watching the load for START_WINDOW_S."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    slept = []
    monkeypatch.setattr(threads_module.time, "sleep", slept.append)
    try:
        assert ThreadPlan("auto").start() == 1
        torch.set_num_threads(2)
        monkeypatch.setattr(threads_module, "usable_cores", lambda: 2)
        ThreadPlan("auto").start()
    finally:
        torch.set_num_threads(before)
    assert slept == [threads_module.START_WINDOW_S]  # the two-core plan only


def test_a_fit_records_its_threads_and_restores_torch():
    import pandas as pd

    from synthgan import Synthesizer

    before = torch.get_num_threads()
    frame = pd.DataFrame({"x": [float(i % 7) for i in range(200)], "c": ["a", "b"] * 100})
    model = Synthesizer(epochs=2, batch_size=50, pac=5, n_threads=1, verbose=False,
                        device="cpu", random_state=0).fit(frame)  # fmt: skip
    assert model.loss_history_["threads"].tolist() == [1, 1]
    assert torch.get_num_threads() == before
