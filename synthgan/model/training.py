"""The adversarial training loop in small named steps (critic step, generator step, epoch).

One loop serves every way of training; what differs is a piece handed to :class:`Trainer`:

* the **sampler** (:class:`~synthgan.model.sampler.ConditionSampler`): conditions and the real
  rows that match them, over the whole table or one process's shard of it;
* the **steps** (``_conditioned_batch``, ``_discriminator_step``): the plain critic step, or
  DP-SGD over packs in a private fit (``synthgan.privacy.dp_training.DPTrainer`` overrides them);
* the **synchronisation** (:class:`Synchronisation`): nothing for one process, DDP wrappers and
  agreement on steps and stopping for data-parallel training
  (:class:`synthgan.model.distributed.DistributedSync`);
* the **accounting** (:class:`Accounting`): what is counted per step (a private fit counts the
  critic steps its privacy accountant is told about).
"""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from synthgan.exceptions import InvalidDataError
from synthgan.model.losses import (
    CriticObjective,
    condition_loss,
    critic_loss,
    generator_adversarial_loss,
    information_loss,
)
from synthgan.model.networks import Discriminator, Generator, OutputActivation
from synthgan.model.sampler import ConditionSampler


class Synchronisation:
    """How the processes of one fit agree. One process alone needs nothing: this class.

    The data-parallel version (:class:`synthgan.model.distributed.DistributedSync`) wraps the
    modules that take gradients in DistributedDataParallel, adds counts over the processes and
    makes every process stop at the same step.
    """

    rank = 0
    world_size = 1

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """The module to run forward when gradients must be averaged over processes."""
        return module

    def total(self, count: int) -> int:
        """``count`` summed over the processes."""
        return count

    def any(self, flag: bool) -> bool:
        """True when ``flag`` is True in any process (so that all stop together)."""
        return flag

    def mean(self, totals: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Each statistic averaged over the processes (once an epoch)."""
        return totals


class Accounting:
    """What a fit counts per step: here the critic steps taken; a private fit's accountant
    turns them into the epsilon spent (synthgan.privacy.dp_training)."""

    def __init__(self) -> None:
        self.critic_steps = 0

    def critic_step(self) -> None:
        self.critic_steps += 1


@dataclass
class TrainingConfig:
    loss: str
    batch_size: int
    discriminator_steps: int
    gp_lambda: float
    embedding_dim: int
    ema_decay: float | None
    information_loss: bool = False
    autocast_dtype: torch.dtype = torch.float32  # bfloat16: matrix products under autocast
    target_slice: tuple[int, int] | None = None  # the target column's span, if any


class Trainer:
    """Holds the networks, optimisers and the training data for one fit (or resumed fit)."""

    def __init__(
        self,
        *,
        config: TrainingConfig,
        generator: Generator,
        critic: Discriminator,
        activation: OutputActivation,
        sampler: ConditionSampler,
        data: torch.Tensor,
        gen_optimizer: torch.optim.Optimizer,
        critic_optimizer: torch.optim.Optimizer,
        ema_generator: Generator | None,
        rng: torch.Generator,
        ema_updates: int = 0,
        target_classifier: torch.nn.Module | None = None,
        classifier_optimizer: torch.optim.Optimizer | None = None,
        sync: Synchronisation | None = None,
        accounting: Accounting | None = None,
    ) -> None:
        self.config = config
        self.generator = generator
        self.critic = critic
        self.activation = activation
        self.sampler = sampler
        self.data = data  # (n_rows, data_dim) on the training device
        self.gen_optimizer = gen_optimizer
        self.critic_optimizer = critic_optimizer
        self.ema_generator = ema_generator
        self.ema_updates = ema_updates
        self.target_classifier = target_classifier
        self.classifier_optimizer = classifier_optimizer
        self.rng = rng
        self.device = data.device
        self.sync = sync if sync is not None else Synchronisation()
        self.accounting = accounting if accounting is not None else Accounting()
        # what runs forward when a step takes gradients: the modules themselves, or their DDP
        # wrappers (the critic through its objective, so the penalty is inside one forward)
        self.objective = self.sync.wrap(CriticObjective(critic, penalty=config.loss == "wgan-gp"))
        self.train_generator = self.sync.wrap(generator)
        self.train_classifier = (
            None if target_classifier is None else self.sync.wrap(target_classifier)
        )

    @property
    def steps_per_epoch(self) -> int:
        # every process takes the same number of steps, from the row count of all of them
        rows = self.sync.total(len(self.data))
        return max(rows // (self.config.batch_size * self.sync.world_size), 1)

    def past(self, deadline: float | None) -> bool:
        """Whether the time budget is spent (in any process: all stop at the same step)."""
        return deadline is not None and self.sync.any(time.monotonic() > deadline)

    # -- one batch ---------------------------------------------------------------------------------
    def _noise(self, batch: int) -> torch.Tensor:
        """The generator's noise input: (batch, embedding_dim)."""
        return torch.randn(batch, self.config.embedding_dim, device=self.device, generator=self.rng)

    def _conditioned_batch(self):
        """Noise + condition for the generator, the matching real rows, and the condition."""
        batch = self.config.batch_size
        noise = self._noise(batch)
        if self.sampler.n_spans == 0:
            real = self.data[self.sampler.uniform_rows(batch, self.rng)]
            return noise, None, real, None, None
        span, category = self.sampler.draw_conditions(batch, self.rng)
        cond_vec = self.sampler.cond_vec(span, category)  # (batch, cond_dim)
        real = self.data[self.sampler.real_rows(span, category, self.rng)]  # (batch, data_dim)
        return torch.cat([noise, cond_vec], dim=1), cond_vec, real, span, category

    def _autocast(self):
        """Matrix products in ``config.autocast_dtype`` (a no-op for float32)."""
        dtype = self.config.autocast_dtype
        return torch.autocast(self.device.type, dtype=dtype, enabled=dtype != torch.float32)

    def _with_condition(self, rows: torch.Tensor, cond_vec: torch.Tensor | None) -> torch.Tensor:
        return rows if cond_vec is None else torch.cat([rows, cond_vec], dim=1)

    def _discriminator_step(self) -> dict[str, torch.Tensor]:
        gen_input, cond_vec, real, _, _ = self._conditioned_batch()
        with self._autocast():
            with torch.no_grad():
                raw = self.generator(gen_input).float()
                fake = self.activation.gumbel_softmax(raw, self.rng)
            loss, stats = critic_loss(
                self.config.loss,
                self.critic,
                self._with_condition(real, cond_vec),
                self._with_condition(fake, cond_vec),
                gp_lambda=self.config.gp_lambda,
                generator=self.rng,
                objective=self.objective,
            )
        self.critic_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.critic_optimizer.step()
        self.accounting.critic_step()
        if self.target_classifier is not None:
            stats["classifier_loss"] = self._classifier_step(real)
        return stats

    def _target_labels(self, rows: torch.Tensor) -> torch.Tensor:
        start, stop = self.config.target_slice
        return rows[:, start:stop].argmax(dim=1)

    def _classifier_step(self, real: torch.Tensor) -> torch.Tensor:
        """Teach the auxiliary classifier the target from real rows."""
        loss = F.cross_entropy(self.train_classifier(real), self._target_labels(real))
        self.classifier_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.classifier_optimizer.step()
        return loss.detach()

    def _generator_step(self) -> dict[str, torch.Tensor]:
        # the critic's weights get no gradient here: computing one would cost as much as the
        # critic's own step's (its first layer is the widest) and be thrown away
        self.critic.requires_grad_(False)
        try:
            with self._autocast():
                return self._generator_update()
        finally:
            self.critic.requires_grad_(True)

    def _generator_update(self) -> dict[str, torch.Tensor]:
        gen_input, cond_vec, real, span, category = self._conditioned_batch()
        raw = self.train_generator(gen_input).float()  # (batch, data_dim)
        fake = self.activation.gumbel_softmax(raw, self.rng)
        fake_features = self.critic.features(self.critic.pack(self._with_condition(fake, cond_vec)))
        adversarial = generator_adversarial_loss(
            self.config.loss, self.critic.score_features(fake_features)
        )
        if span is None:
            cond = torch.zeros((), device=self.device)
        else:
            slots = self.activation.span_index.condition_slots[span]
            cond = condition_loss(self.activation.span_index.span_logits(raw, slots), category)
        info = torch.zeros((), device=self.device)
        if self.config.information_loss:
            with torch.no_grad():
                real_features = self.critic.features(
                    self.critic.pack(self._with_condition(real, cond_vec))
                )
            info = information_loss(real_features, fake_features)
        target = torch.zeros((), device=self.device)
        if self.target_classifier is not None:
            # fake rows should carry the target the classifier reads off their other columns
            target = F.cross_entropy(
                self.target_classifier(fake).float(), self._target_labels(fake).detach()
            )
        loss = adversarial + cond + info + target
        self.gen_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.gen_optimizer.step()
        if self.ema_generator is not None:
            self._update_ema()
        return {
            "generator_loss": adversarial.detach(),
            "condition_loss": cond.detach(),
            "information_loss": info.detach(),
            "target_loss": target.detach(),
        }

    @torch.no_grad()
    def _update_ema(self) -> None:
        # warm-up (as TensorFlow's ExponentialMovingAverage with num_updates): early in training
        # the average follows the generator closely instead of holding on to its random init
        self.ema_updates += 1
        decay = min(self.config.ema_decay, (1.0 + self.ema_updates) / (10.0 + self.ema_updates))
        for ema_param, param in zip(self.ema_generator.parameters(), self.generator.parameters()):
            ema_param.lerp_(param, 1.0 - decay)
        for ema_buffer, buffer in zip(self.ema_generator.buffers(), self.generator.buffers()):
            ema_buffer.copy_(buffer)

    # -- one epoch ---------------------------------------------------------------------------------
    def warm_up_critic(self, steps: int) -> None:
        self.generator.train()
        self.critic.train()
        for _ in range(steps):
            self._discriminator_step()

    def run_epoch(self, deadline: float | None = None, on_step=None) -> dict[str, float]:
        """One pass of ``steps_per_epoch`` generator steps; returns the epoch's mean statistics.

        Statistics are summed on the device and read once, at the end (one host sync per epoch).
        """
        self.generator.train()
        self.critic.train()
        totals: dict[str, torch.Tensor] = defaultdict(lambda: torch.zeros((), device=self.device))
        steps = 0
        for _ in range(self.steps_per_epoch):
            for _ in range(self.config.discriminator_steps):
                for name, value in self._discriminator_step().items():
                    totals[name] += value / self.config.discriminator_steps
            for name, value in self._generator_step().items():
                totals[name] += value
            steps += 1
            if on_step is not None:
                on_step()
            if self.past(deadline):
                break
        totals = self.sync.mean(dict(totals))
        return {name: float(total.item()) / steps for name, total in totals.items()}


def make_ema(generator: Generator) -> Generator:
    ema = copy.deepcopy(generator)
    for param in ema.parameters():
        param.requires_grad_(False)
    return ema


# -- configurations registered from outside model/ ---------------------------------------------------

_FITS: dict[str, Callable] = {}


def register_fit(name: str, fit: Callable) -> None:
    """Register a way of fitting a Synthesizer that lives outside ``synthgan.model``.

    The private fit registers itself as ``"private"`` (``synthgan/privacy/__init__.py``), so
    the estimator runs it without importing ``synthgan.privacy``: the model does not depend on
    the packages built on it. ``fit(model, data, *, resume)`` returns the fitted model.
    """
    _FITS[name] = fit


def registered_fit(name: str, needed_for: str) -> Callable:
    try:
        return _FITS[name]
    except KeyError:
        raise InvalidDataError(
            f"{needed_for} needs the {name} fit, which is not registered. Import "
            f"synthgan.{'privacy' if name == 'private' else name} (or synthgan) first."
        ) from None
