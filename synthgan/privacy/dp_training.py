"""DP-SGD for the critic: a fixed random partition into packs, Poisson sampling, per-pack clipping.

The design (docs/privacy.md):

* **Partition.** Before training, every row is put in one of ``n_packs`` buckets (the *noisy*
  row count over ``pac``),
  independently and uniformly at random, with a random key. A pack is its bucket's first ``pac``
  rows by key, its rows repeated in turn when the bucket holds fewer (empty buckets give no pack).
  A row therefore touches exactly one pack, whatever the other rows are: adding a row changes one
  pack and no other (packing by batch order would shift every later pack).
* **Sampling.** Each critic step takes every pack independently with probability
  ``sample_rate`` (Poisson sampling, as the accountant assumes); real rows are never drawn by
  category. The condition of each real row is read off the row itself (one of its discrete
  columns, chosen uniformly), and the fake rows of the pair get the same conditions.
* **Clipping and noise.** Each sampled real pack is paired with a fresh fake pack; the gradient of
  the pair's loss (critic loss, plus the gradient penalty for ``loss="wgan-gp"``) is computed per
  pair with ``torch.func`` (``vmap`` over ``grad``, which survives the penalty's double backward),
  clipped to ``max_grad_norm``, summed, given Gaussian noise of standard deviation
  ``noise_multiplier * max_grad_norm`` and divided by the *expected* number of packs.
* The generator learns only through the critic (post-processing); its conditions come from the
  released noisy category counts. No statistic of the real rows enters the loss history.
"""

from __future__ import annotations

import difflib
import math
import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

from synthgan.exceptions import InvalidDataError
from synthgan.model.sampler import ConditionSampler
from synthgan.model.selection import (
    MARGINAL_POOL_ROWS,
    fit_marginal_factors,
    pair_count,
    select_pairs,
    span_codes,
)
from synthgan.model.threads import thread_plan
from synthgan.model.training import Trainer, TrainingConfig
from synthgan.privacy.accounting import (
    MARGINALS_BUDGET_SHARE,
    MAX_GRAD_NORM,
    PrivacyPlan,
    default_delta,
    opacus_version,
    plan_budget,
    release_noise_multiplier,
    stats_noise_multiplier,
    threshold_delta,
)
from synthgan.privacy.dp_marginals import measure_pairs, tune_generator
from synthgan.privacy.dp_transform import (
    CLI_HINT,
    check_public_domain,
    discovers_categories,
    fit_private_statistics,
)
from synthgan.schema import resolve_schema

_NAN = float("nan")


class PackPartition:
    """The fixed random partition of rows into packs (index tensors built once).

    Parameters
    ----------
    n_rows : int
        Rows of the training table.
    n_packs : int
        Buckets; a function of the released noisy row count, never of the exact one.
    pac : int
    rng : numpy Generator
    keep : ndarray of bool, optional
        Rows that take part (the others keep their bucket but are left out of it).

    Attributes
    ----------
    bucket : ndarray of shape (n_rows,)
        The bucket of each row, drawn independently of every other row.
    rows : ndarray of shape (n_packs, pac)
        Row indices of each pack (meaningless where ``valid`` is False).
    valid : ndarray of shape (n_packs,)
        Packs with at least one row.
    """

    def __init__(
        self,
        n_rows: int,
        n_packs: int,
        pac: int,
        rng: np.random.Generator,
        keep: np.ndarray | None = None,
    ) -> None:
        self.pac = pac
        self.n_packs = n_packs
        # one (bucket, key) draw per row, in row order: a row added at the end leaves the draws
        # of every other row as they were
        draws = rng.random((n_rows, 2))
        self.bucket = np.minimum((draws[:, 0] * n_packs).astype(np.int64), n_packs - 1)
        key = draws[:, 1]
        members = np.arange(n_rows) if keep is None else np.flatnonzero(keep)
        order = members[np.lexsort((key[members], self.bucket[members]))]  # by bucket, then key
        counts = np.bincount(self.bucket[members], minlength=self.n_packs)
        starts = np.cumsum(counts) - counts
        slot = np.arange(pac)[None, :] % np.maximum(counts, 1)[:, None]  # (n_packs, pac)
        position = np.minimum(starts[:, None] + slot, max(len(order) - 1, 0))
        self.rows = order[position] if len(order) else np.zeros((self.n_packs, pac), np.int64)
        self.valid = counts > 0


class DPTrainer(Trainer):
    """:class:`~synthgan.model.training.Trainer` whose critic step is DP-SGD over packs."""

    def __init__(
        self,
        *,
        plan: PrivacyPlan,
        partition: PackPartition,
        row_categories: torch.Tensor | None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.pack_rows = torch.as_tensor(partition.rows, device=self.device)  # (n_packs, pac)
        self.pack_valid = torch.as_tensor(partition.valid, device=self.device)
        self.n_packs = partition.n_packs
        self.expected_packs = plan.sample_rate * self.n_packs
        self.row_categories = row_categories  # (n_rows, n_spans): category of each row per span
        self._params = {k: v.detach() for k, v in self.critic.net.named_parameters()}
        self._per_pack_grad = vmap(
            grad(self._pair_loss), in_dims=(None, 0, 0, 0), randomness="different"
        )

    @property
    def critic_steps(self) -> int:
        """DP-SGD steps taken: what the accountant is told about."""
        return self.accounting.critic_steps

    @property
    def steps_per_epoch(self) -> int:
        # one epoch: as many steps as take each pack once in expectation
        return max(int(round(1.0 / self.plan.sample_rate)), 1)

    # -- sampling ----------------------------------------------------------------------------------
    def sample_packs(self) -> torch.Tensor:
        """Poisson sampling: each pack independently with probability ``sample_rate``."""
        taken = torch.rand(self.n_packs, device=self.device, generator=self.rng)
        taken = (taken < self.plan.sample_rate) & self.pack_valid
        return torch.nonzero(taken).squeeze(1)  # (k,)  host sync: k varies by design

    def _conditioned_batch(self):
        """Generator input with conditions drawn from the released noisy frequencies; no real rows."""
        batch = self.config.batch_size
        noise = self._noise(batch)
        if self.sampler.n_spans == 0:
            return noise, None, None, None, None
        span, category = self.sampler.draw_conditions(batch, self.rng, training=False)
        cond_vec = self.sampler.cond_vec(span, category)  # (batch, cond_dim)
        return torch.cat([noise, cond_vec], dim=1), cond_vec, None, span, category

    def _pairs(self, packs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Packed real and fake rows, with conditions: two tensors of shape (k, pac * width)."""
        k = len(packs)
        rows = self.pack_rows[packs].reshape(-1)  # (k * pac,)
        real = self.data[rows]  # (k * pac, data_dim)
        n_gen = max(len(rows), 2)  # BatchNorm needs two rows
        noise = torch.randn(
            n_gen, self.config.embedding_dim, device=self.device, generator=self.rng
        )
        if self.sampler.n_spans:
            span = torch.randint(
                self.sampler.n_spans, (len(rows),), device=self.device, generator=self.rng
            )
            cond_vec = self.sampler.cond_vec(span, self.row_categories[rows, span])
            gen_cond = torch.cat([cond_vec, cond_vec[: n_gen - len(rows)]], dim=0)
            gen_input = torch.cat([noise, gen_cond], dim=1)
        else:
            cond_vec, gen_input = None, noise
        with torch.no_grad():
            fake = self.activation.gumbel_softmax(self.generator(gen_input), self.rng)
        fake = fake[: len(rows)]
        real = self._with_condition(real, cond_vec).reshape(k, -1)
        fake = self._with_condition(fake, cond_vec).reshape(k, -1)
        return real, fake

    # -- per-pair gradients --------------------------------------------------------------------------
    def _score(self, params: dict, packed: torch.Tensor) -> torch.Tensor:
        return functional_call(self.critic.net, params, (packed.unsqueeze(0),)).squeeze()

    def _pair_loss(
        self, params: dict, real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor
    ) -> torch.Tensor:
        real_score, fake_score = self._score(params, real), self._score(params, fake)
        if self.config.loss == "wgan-gp":
            mixed = alpha * real + (1 - alpha) * fake
            input_grad = grad(lambda x: self._score(params, x))(mixed)
            penalty = (torch.linalg.vector_norm(input_grad) - 1.0) ** 2
            return fake_score - real_score + self.config.gp_lambda * penalty
        return F.binary_cross_entropy_with_logits(
            real_score, torch.ones_like(real_score)
        ) + F.binary_cross_entropy_with_logits(fake_score, torch.zeros_like(fake_score))

    def per_pack_gradients(self, real: torch.Tensor, fake: torch.Tensor) -> dict:
        """Per-pair gradients of the critic's parameters: name -> (k, *param.shape)."""
        for name, param in self.critic.net.named_parameters():
            self._params[name] = param.detach()
        alpha = torch.rand(len(real), device=self.device, generator=self.rng)
        return self._per_pack_grad(self._params, real, fake, alpha)

    def _clip_factors(self, norms: torch.Tensor) -> torch.Tensor:
        """(k,) per-pair gradient norms -> the factors that scale each to at most C."""
        return (self.plan.max_grad_norm / (norms + 1e-6)).clamp(max=1.0)

    def clipped_sum(self, per_pack: dict) -> dict:
        """Clip each pack's whole gradient to ``max_grad_norm`` and sum over the packs (zeros
        when no pack was sampled)."""
        norms = torch.sqrt(sum(g.flatten(1).pow(2).sum(1) for g in per_pack.values()))  # (k,)
        factor = self._clip_factors(norms)  # (k,)
        return {name: torch.einsum("k,k...->...", factor, g) for name, g in per_pack.items()}

    def add_noise(self, summed: dict) -> dict:
        """The summed clipped gradients plus N(0, (sigma C)^2), over the expected pack count."""
        scale = self.plan.noise_multiplier * self.plan.max_grad_norm
        out = {}
        for name, total in summed.items():
            noise = torch.randn(total.shape, device=self.device, generator=self.rng)
            out[name] = (total + scale * noise) / self.expected_packs
        return out

    def ghost_clipped_sum(self, real: torch.Tensor, fake: torch.Tensor) -> dict:
        """The sum of the per-pair gradients, each clipped to C, without forming them
        (``loss="minimax"`` only; "ghost clipping", Li et al. 2022, Bu et al. 2023).

        A linear layer's gradient for one pair is ``d_r^T a_r + d_f^T a_f`` (its inputs ``a`` and
        output gradients ``d`` on the pair's real and fake pack), whose squared norm is
        ``|a_r|^2 |d_r|^2 + |a_f|^2 |d_f|^2 + 2 (a_r . a_f)(d_r . d_f)``: the norms come from
        one batched backward pass, and the clipped sum is one matrix product per layer. The
        (k, out, in) per-pair gradients, the cost of DP-SGD, are never built. Equal to clipping
        the output of :meth:`per_pack_gradients` (tested).
        """
        k = len(real)
        linears, inputs, outputs = [], [], []
        hidden = torch.cat([real, fake])  # (2k, pac * width): real packs, then fake packs
        for index, layer in enumerate(self.critic.net):
            if isinstance(layer, torch.nn.Linear):
                linears.append(str(index))
                inputs.append(hidden.detach())
                hidden = layer(hidden)
                outputs.append(hidden)
            else:
                hidden = layer(hidden)
        scores = hidden.squeeze(-1)  # (2k,)
        targets = torch.cat([torch.ones(k, device=self.device), torch.zeros(k, device=self.device)])
        loss = F.binary_cross_entropy_with_logits(scores, targets, reduction="sum")
        deltas = torch.autograd.grad(loss, outputs)  # each (2k, out): one pair's rows only
        norm_sq = torch.zeros(k, device=self.device)
        for a, d in zip(inputs, deltas):
            a_real, a_fake, d_real, d_fake = a[:k], a[k:], d[:k], d[k:]
            norm_sq += (
                a_real.pow(2).sum(1) * d_real.pow(2).sum(1)
                + a_fake.pow(2).sum(1) * d_fake.pow(2).sum(1)
                + 2.0 * (a_real * a_fake).sum(1) * (d_real * d_fake).sum(1)
            )  # weight
            norm_sq += (d_real + d_fake).pow(2).sum(1)  # bias
        factor = self._clip_factors(torch.sqrt(norm_sq)).repeat(2).unsqueeze(1)  # (2k, 1)
        summed = {}
        for name, a, d in zip(linears, inputs, deltas):
            scaled = d * factor
            summed[f"{name}.weight"] = scaled.T @ a  # (out, in)
            summed[f"{name}.bias"] = scaled.sum(0)
        return summed

    def _discriminator_step(self) -> dict[str, torch.Tensor]:
        packs = self.sample_packs()
        if not len(packs):  # an empty step still adds noise, and still counts
            summed = {name: torch.zeros_like(p) for name, p in self.critic.net.named_parameters()}
        elif self.config.loss == "minimax":
            summed = self.ghost_clipped_sum(*self._pairs(packs))
        else:
            summed = self.clipped_sum(self.per_pack_gradients(*self._pairs(packs)))
        noisy = self.add_noise(summed)
        for name, param in self.critic.net.named_parameters():
            param.grad = noisy[name]
        self.critic_optimizer.step()
        self.accounting.critic_step()
        # the critic's losses on real rows are statistics of the data: never reported
        nan = torch.full((), _NAN, device=self.device)
        return {"critic_loss": nan, "fooled_rate": nan}


# -- the private fit -------------------------------------------------------------------------------


def check_privacy_params(epsilon, delta, n_rows: int) -> float:
    """Validate epsilon and delta; return delta (its default when None)."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.number)):
        raise InvalidDataError(f"epsilon must be a positive number, got {epsilon!r}.")
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise InvalidDataError(
            f"epsilon must be a positive finite number, got {epsilon!r}. Use e.g. epsilon=3, "
            "or epsilon=None to train without differential privacy."
        )
    if delta is None:
        return default_delta(n_rows)
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.number)):
        raise InvalidDataError(f"delta must be a number in (0, 1/n_rows), got {delta!r}.")
    if not 0 < delta < 1.0 / n_rows:
        raise InvalidDataError(
            f"delta={delta!r} must be in (0, 1/n_rows) = (0, {1.0 / n_rows:.3g}) for "
            f"{n_rows} rows; leave it None for the default {default_delta(n_rows):.3g}."
        )
    return float(delta)


def fit_private(model, data: pd.DataFrame, *, resume: bool = False):
    """Fit ``model`` (a Synthesizer with ``epsilon`` set) with differential privacy; returns it."""
    from synthgan.model.runtime import block_seed, resolve_device, seed_from

    if resume:
        raise InvalidDataError(
            "A differentially private fit cannot be resumed: its budget was planned for and "
            "spent on one fit. Fit a new Synthesizer(epsilon=...) with the whole budget."
        )
    n_rows = len(data)
    delta = check_privacy_params(model.epsilon, model.delta, n_rows)
    model.seed_ = seed_from(model.random_state)
    model.device_ = resolve_device(model.device)
    start = time.monotonic()
    with model._local_rng():
        torch.manual_seed(model.seed_)
        rng = np.random.default_rng(model.seed_ % (2**32))
        schema = resolve_schema(data, model.schema)
        public = check_public_domain(model.public_domain, schema)
        check_target(model.target, schema)
        discovers = discovers_categories(schema, data, public)
        delta_threshold = threshold_delta(delta, discovers)
        stats_sigma = stats_noise_multiplier(float(model.epsilon), delta - delta_threshold)
        stats = fit_private_statistics(
            data, schema,
            stats_noise_multiplier=stats_sigma,
            delta_threshold=delta_threshold,
            public_domain=public, rng=rng, max_modes=model.max_modes,
            transformer_params={"max_point_masses": model.max_point_masses,
                                "max_fit_rows": model.max_fit_rows,
                                "random_state": model.seed_ % (2**32)},
        )  # fmt: skip
        # The partition and the sampling rate depend on the noisy row count only: with the exact
        # count, adding one row could change the number of packs and so every pack.
        n_packs = max(int(round(stats.noisy_rows / model.pac)), 1)
        sample_rate = min(1.0, model.batch_size / model.pac / n_packs)
        steps_per_epoch = max(int(round(1.0 / sample_rate)), 1)
        # the two-way marginals release: its size reads the private layout only (post-processing)
        n_pairs = pair_count(len(stats.transformer.layout_.softmax_spans))
        marginals_sigma = None
        if model.rejection and n_pairs > 0:
            marginals_sigma = release_noise_multiplier(
                MARGINALS_BUDGET_SHARE * float(model.epsilon), delta - delta_threshold
            )
        planned_steps = (
            model.epochs_for(steps_per_epoch) * steps_per_epoch * model.discriminator_steps
            + model.discriminator_warmup
        )
        plan = plan_budget(
            epsilon=float(model.epsilon), delta=delta, sample_rate=sample_rate,
            steps=planned_steps, pac=model.pac, stats_sigma=stats_sigma,
            discovers_categories=discovers, marginals_sigma=marginals_sigma,
        )  # fmt: skip
        model._category_counts = stats.category_counts
        hub = target_hub(stats.transformer, model.target)
        model._start(stats.transformer)
        partition = PackPartition(n_rows, n_packs, model.pac, rng, keep=stats.keep_rows)
        kept = np.flatnonzero(stats.keep_rows)
        # the partition indexes the full table; the encoded tensor holds the kept rows only
        position = np.full(n_rows, 0, dtype=np.int64)
        position[kept] = np.arange(len(kept))
        partition.rows = position[partition.rows]
        encoded = model.transformer_.transform(data.iloc[kept]) if len(kept) else None
        if encoded is None:
            raise InvalidDataError(
                "No row survives the private category lists. Raise epsilon or give the "
                "categories in public_domain" + CLI_HINT + "."
            )
        spans = model.condition_spans_  # categorical only in a private fit (_build_networks)
        row_categories = None
        if spans:
            row_categories = torch.as_tensor(
                np.stack([encoded[:, s.start : s.stop].argmax(1) for s in spans], 1),
                device=model.device_,
            )  # (n_kept, n_spans)
        torch_rng = torch.Generator(device=model.device_)
        torch_rng.manual_seed(block_seed(model.seed_, 2_000_000))
        trainer = DPTrainer(
            plan=plan,
            partition=partition,
            row_categories=row_categories,
            config=TrainingConfig(
                loss=model.loss, batch_size=model.batch_size,
                discriminator_steps=model.discriminator_steps, gp_lambda=model.gp_lambda,
                embedding_dim=model.embedding_dim_, ema_decay=model.ema_decay,
            ),
            generator=model.generator_,
            critic=model.critic_,
            activation=model._activation,
            sampler=ConditionSampler(spans, stats.category_counts, model.device_),
            data=torch.as_tensor(encoded, device=model.device_),
            gen_optimizer=model._gen_optimizer,
            critic_optimizer=model._critic_optimizer,
            ema_generator=model.ema_generator_,
            rng=torch_rng,
        )  # fmt: skip
        with thread_plan(model.n_threads, model.device_) as threads:
            model._run_training(trainer, start, warm_up=True, threads=threads)
            marginals = _fit_private_selection(
                model, trainer.data, plan, stats.noisy_rows, rng, hub=hub
            )
    model.fit_seconds_ = time.monotonic() - start
    model.rows_trained_ = n_rows
    model.privacy_ = {
        "epsilon_spent": plan.spent(trainer.critic_steps),
        "epsilon_target": plan.epsilon,
        "delta": plan.delta,
        "unit": "row",
        "accountant": f"rdp (opacus {opacus_version()}, compute_rdp + get_privacy_spent)",
        "steps_taken": trainer.critic_steps,
        "plan": plan.to_dict(),
        "stats_noise_sd": stats.noise_sd,
        "stats_sensitivity": stats.sensitivity,
        "clipping": f"per pack of {plan.pac} row(s), L2 norm {MAX_GRAD_NORM}",
        "sampling": "Poisson over a fixed random partition into packs",
        "schema_supplied": model.schema is not None,
        # the information loss compares critic features of real rows in the generator step,
        # outside DP-SGD: never used in a private fit (TrainingConfig's default, off)
        "information_loss": False,
        "marginals": marginals,
    }
    return model


def check_target(target: str | None, schema) -> None:
    """A private fit's ``target`` must be a column the model learns (before any row is read)."""
    modelled = [spec.name for spec in schema.modelled]
    if target is not None and target not in modelled:
        hint = difflib.get_close_matches(str(target), modelled, n=1)
        fix = f" Did you mean {hint[0]!r}?" if hint else ""
        raise InvalidDataError(
            f"target={target!r} is not a column the private model learns.{fix} Pick one of "
            f"{modelled}, or target=None."
        )


def target_hub(transformer, target: str | None) -> int | None:
    """The index among the layout's one-hot spans of ``target``'s span (its categories, or a
    numeric column's modes), whose pairs with every other span the marginals release measures;
    None without a target, or when the target has no such span (a column the private layout
    derives from others). Read from the private layout only."""
    columns = [span.column for span in transformer.layout_.softmax_spans]
    return columns.index(target) if target in columns else None


def _fit_private_selection(
    model,
    real: torch.Tensor,
    plan,
    noisy_rows: float,
    rng: np.random.Generator,
    *,
    hub: int | None = None,
) -> dict | None:
    """Release the noisy two-way marginals (synthgan.privacy.dp_marginals) and fit the
    selection's factors to them; what was released, for the privacy record (None: nothing).
    ``hub`` (:func:`target_hub`): the span every other span is measured against."""
    from synthgan.model.runtime import block_seed

    model.row_critic_, model.marginal_factors_, model.selection_ = None, None, None
    model.row_refinements_ = ()
    if plan.marginals_noise_multiplier is None:
        return None
    spans = model.transformer_.layout_.softmax_spans
    seed = block_seed(model.seed_, 3_000_000)
    pool_rows = max(MARGINAL_POOL_ROWS, len(real))

    def generated(pool_seed: int) -> torch.Tensor:
        rows = model._model_rows(pool_rows, pool_seed)
        encoded = model.transformer_.transform(rows, rng=np.random.default_rng(pool_seed))
        return torch.as_tensor(encoded, device=real.device)

    pairs = select_pairs(
        span_codes(generated(seed), spans), [span.width for span in spans], hub=hub
    )
    noisy_rows = max(noisy_rows, 1.0)
    targets = measure_pairs(
        real, spans, pairs, noise_multiplier=plan.marginals_noise_multiplier,
        noisy_rows=noisy_rows, rng=rng,
    )  # fmt: skip
    # conditions drawn as sampling draws them (RowGenerator's sampler, without building one)
    sampler = ConditionSampler(model.condition_spans_, model._category_counts, model.device_)
    tuning = tune_generator(
        model.ema_generator_ if model.ema_generator_ is not None else model.generator_,
        sampler, spans, targets,
        embedding_dim=model.embedding_dim_, seed=block_seed(model.seed_, 3_000_001),
    )  # fmt: skip
    fake = generated(block_seed(model.seed_, 3_000_002))
    factors, ceiling, facts = fit_marginal_factors(
        fake, torch.zeros(len(fake), device=real.device), spans,
        target_rows=noisy_rows, pairs=tuple(targets),
    )  # fmt: skip
    model.marginal_factors_ = factors
    if factors is not None:
        model.selection_ = {**facts, "ceiling": ceiling, "pairs": [list(p) for p in pairs]}
    return {
        "pairs": [[spans[a].column, spans[b].column] for a, b in pairs],
        "measured_against": None if hub is None else spans[hub].column,
        "cells": int(sum(t.shares.numel() for t in targets)),
        "noise_sd": float(plan.marginals_noise_multiplier * np.sqrt(len(pairs))),
        "used": factors is not None,
        "tuning": tuning,
    }
