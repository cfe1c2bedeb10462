"""The accountant: noise calibration and the epsilon spent, against Opacus' own tools."""

from __future__ import annotations

import numpy as np
import pytest
from opacus.accountants import RDPAccountant
from opacus.accountants.utils import get_noise_multiplier

from synthgan.privacy import accounting
from synthgan.privacy.accounting import default_delta, plan_budget, stats_noise_multiplier


class TestPlanBudget:
    def test_single_row_packs_match_opacus_calibration(self):
        plan = plan_budget(epsilon=3.0, delta=1e-6, sample_rate=0.02, steps=500, pac=1,
                           stats_sigma=None, discovers_categories=False)  # fmt: skip
        expected = get_noise_multiplier(
            target_epsilon=3.0, target_delta=1e-6, sample_rate=0.02, steps=500, accountant="rdp"
        )
        assert plan.noise_multiplier == pytest.approx(expected, rel=0.01)
        opacus = RDPAccountant()
        opacus.history = [(plan.noise_multiplier, 0.02, 500)]
        assert plan.spent(500) == pytest.approx(opacus.get_epsilon(1e-6), rel=1e-6)
        assert plan.spent(500) <= 3.0

    def test_composition_spends_the_whole_budget_and_no_more(self):
        sigma = stats_noise_multiplier(2.0, 9e-7)
        plan = plan_budget(epsilon=2.0, delta=1e-6, sample_rate=0.05, steps=300, pac=10,
                           stats_sigma=sigma, discovers_categories=True)  # fmt: skip
        assert plan.delta_threshold == pytest.approx(1e-7)
        assert 0.98 * 2.0 <= plan.spent(300) <= 2.0
        assert plan.spent(100) < plan.spent(300)  # stopping early spends less
        # the statistics alone cost their share of epsilon
        alone = accounting.epsilon_from_rdp(accounting.gaussian_rdp(sigma), plan.delta_rdp)
        assert alone == pytest.approx(accounting.STATS_BUDGET_SHARE * 2.0, rel=0.01)

    def test_packs_of_several_rows_pay_for_substitution(self):
        add_remove = accounting.sgd_rdp(1.0, 0.05, 200, substitution=False)
        substitution = accounting.sgd_rdp(1.0, 0.05, 200, substitution=True)
        assert np.all(substitution >= add_remove)
        one = plan_budget(epsilon=3.0, delta=1e-6, sample_rate=0.05, steps=200, pac=1,
                          stats_sigma=None, discovers_categories=False)  # fmt: skip
        ten = plan_budget(epsilon=3.0, delta=1e-6, sample_rate=0.05, steps=200, pac=10,
                          stats_sigma=None, discovers_categories=False)  # fmt: skip
        assert ten.noise_multiplier > one.noise_multiplier

    def test_unreachable_budget_is_a_clear_error(self):
        with pytest.raises(ValueError, match="cannot be met"):
            plan_budget(epsilon=1e-6, delta=1e-9, sample_rate=1.0, steps=10**6, pac=1,
                        stats_sigma=None, discovers_categories=False)  # fmt: skip


def test_default_delta_is_well_below_one_over_n():
    for n in (100, 30_000, 10**7):
        assert default_delta(n) <= 0.1 / n
