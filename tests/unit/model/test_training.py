"""The one training loop: its pieces, and the model package standing apart from privacy/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

import synthgan.model
from synthgan.exceptions import InvalidDataError
from synthgan.model import training
from synthgan.model.losses import CriticObjective, critic_loss, gradient_penalty
from synthgan.model.networks import Discriminator


def test_model_package_imports_nothing_from_privacy():
    model_dir = Path(synthgan.model.__file__).parent
    for path in model_dir.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            assert not any(n.startswith("synthgan.privacy") for n in names), path.name


def test_private_fit_is_registered_by_the_privacy_package():
    from synthgan.privacy.dp_training import fit_private

    assert training.registered_fit("private", "epsilon=") is fit_private


def test_unregistered_fit_says_what_to_import():
    with pytest.raises(InvalidDataError, match="needs the spark fit.*Import synthgan.spark"):
        training.registered_fit("spark", "this")


class TestCriticObjective:
    def test_penalty_equals_the_gradient_penalty_function(self):
        critic = Discriminator(6, (8,), pac=2, dropout=0.0)
        real, fake = torch.randn(4, 12), torch.randn(4, 12)
        objective = CriticObjective(critic, penalty=True)
        expected = gradient_penalty(critic, real, fake, torch.Generator().manual_seed(0))
        alpha = torch.rand(4, 1, generator=torch.Generator().manual_seed(0))
        _, _, penalty = objective(real, fake, alpha)
        assert torch.allclose(penalty, expected)

    def test_critic_loss_through_an_objective_equals_the_plain_call(self):
        critic = Discriminator(6, (8,), pac=2, dropout=0.0)
        real, fake = torch.randn(8, 6), torch.randn(8, 6)
        plain, _ = critic_loss(
            "wgan-gp", critic, real, fake, gp_lambda=10.0,
            generator=torch.Generator().manual_seed(1),
        )  # fmt: skip
        through, _ = critic_loss(
            "wgan-gp", critic, real, fake, gp_lambda=10.0,
            generator=torch.Generator().manual_seed(1),
            objective=CriticObjective(critic, penalty=True),
        )  # fmt: skip
        assert torch.equal(plain, through)


def test_one_process_synchronisation_changes_nothing():
    sync = training.Synchronisation()
    module = torch.nn.Linear(2, 2)
    assert sync.wrap(module) is module
    assert sync.total(7) == 7 and sync.any(False) is False and sync.world_size == 1
