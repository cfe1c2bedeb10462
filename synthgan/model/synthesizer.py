"""Synthesizer: the estimator users fit on a table and sample synthetic rows from."""

from __future__ import annotations

import difflib
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from synthgan.exceptions import InvalidDataError, bounds_refused, not_fitted
from synthgan.model import persistence
from synthgan.model.calibration import CALIBRATION_ROWS, BinCalibration, binned_columns
from synthgan.model.conditions import Conditions
from synthgan.model.distributed import active_sync, per_rank_batch
from synthgan.model.generation import SAMPLE_BLOCK_ROWS, RowGenerator
from synthgan.model.losses import LOSSES
from synthgan.model.networks import (
    MIN_BATCH_ROWS,
    Discriminator,
    Generator,
    OutputActivation,
    SpanIndex,
    TargetClassifier,
)
from synthgan.model.resources import (
    LARGE_INPUT_BYTES,
    available_memory,
    check_fit_memory,
    estimate_fit_memory,
)
from synthgan.model.runtime import (
    block_seed,
    check_precision,
    make_adam,
    precision_dtype,
    resolve_device,
    seed_from,
)
from synthgan.model.sampler import ConditionSampler
from synthgan.model.selection import (
    MARGINAL_POOL_ROWS,
    MAX_REFINEMENTS,
    MIN_REFINED_ACCEPTANCE,
    MIN_REFINEMENT_ROWS,
    MIN_REFINEMENT_SIGNAL,
    REFINED_POOL_ROWS,
    SOFTENING_MARGIN,
    SOFTENING_STEPS,
    RankFeatures,
    Refinement,
    RowSelector,
    ScoredPool,
    capped_log_ratio,
    critic_inputs,
    fit_marginal_factors,
    fit_row_critic,
    logits,
    one_way_targets,
    refinement_signal,
    select_pairs,
    softened_ceiling,
    span_codes,
    two_way_targets,
)
from synthgan.model.threads import ThreadPlan, check_n_threads, thread_plan
from synthgan.model.training import Trainer, TrainingConfig, make_ema, registered_fit
from synthgan.schema import ColumnKind, Schema, validate_frame
from synthgan.transform import TableTransformer

ROW_DIM_PER_COLUMN = 4
"""``discriminator_row_dim="auto"``: the critic's row encoder's width per modelled column,"""
MIN_ROW_DIM = 64
"""at least this (Adult's 14 columns were tuned with 64),"""
MAX_ROW_DIM = 256
"""at most this (caravan's fit took 1.3-1.7x as long at 256 as at 64)."""
REFINEMENT_MAX_TRIES = 100
"""A refinement round draws at most this many generated rows per kept row it needs (sample()'s
default); a selection that keeps fewer ends the rounds."""
AUTO_STEPS = 3_000
"""Generator steps of a fit with ``epochs="auto"`` on a table of up to ``STEPS_COLUMNS`` modelled
columns."""
STEPS_COLUMNS = 32
"""Beyond this many modelled columns ``epochs="auto"`` trains proportionally longer, up to
``MAX_STEPS_FACTOR`` times ``AUTO_STEPS`` (caravan's 79 columns: 6,000 steps; docs/training.md,
"Training length on a wide table")."""
MAX_STEPS_FACTOR = 2.0
AUTO_MIN_EPOCHS = 5
AUTO_MAX_EPOCHS = 1_000
PRIVATE_AUTO_EPOCHS = 80


def modelled_columns(layout) -> int:
    """Columns the networks model (derived and id columns have no span)."""
    return len({span.column for span in layout.spans})


def row_width(row_dim: int | str | None, layout) -> int | None:
    """The critic's row encoder width: ``row_dim`` as given, or for "auto" ``ROW_DIM_PER_COLUMN``
    per column the networks model, within [``MIN_ROW_DIM``, ``MAX_ROW_DIM``]."""
    if row_dim != "auto":
        return row_dim
    return int(min(max(ROW_DIM_PER_COLUMN * modelled_columns(layout), MIN_ROW_DIM), MAX_ROW_DIM))


def auto_steps(layout) -> int:
    """Generator steps of an ``epochs="auto"`` fit: ``AUTO_STEPS``, and on a table of more than
    ``STEPS_COLUMNS`` modelled columns as many more in proportion, at most ``MAX_STEPS_FACTOR``
    times as many."""
    factor = min(max(modelled_columns(layout) / STEPS_COLUMNS, 1.0), MAX_STEPS_FACTOR)
    return int(round(AUTO_STEPS * factor))


class Synthesizer:
    """A conditional tabular GAN (CTGAN family) with PacGAN, WGAN-GP and an exactly reversible
    table transformer.

    Parameters
    ----------
    epochs : int or "auto", default="auto"
        Passes over the training rows (one pass = n_rows / batch_size generator steps). "auto":
        enough passes for ``AUTO_STEPS`` (3,000) generator steps, at least ``AUTO_MIN_EPOCHS``
        (5) and at most ``AUTO_MAX_EPOCHS`` (1,000): 47 epochs on Adult's 32,561 rows. A table of
        more than ``STEPS_COLUMNS`` (32) modelled columns trains proportionally longer, at most
        twice as long: 750 epochs (6,000 steps) on caravan's 4,075 rows of 79 modelled columns.
        Quality grows with steps, not passes: on bikeshare (12 steps an epoch)
        80 epochs beat 40 on every fidelity figure, on caravan 400 beat 80, while Adult's
        detection AUC moved from 0.571 at 40 epochs to 0.553-0.563 at 60-80 (docs/training.md).
        A private fit takes 80 for "auto" (more steps at a fixed budget mean more noise each).
    batch_size : int, default=500
        Rows per step (drawn with replacement); at least 2, which the generator's batch
        normalisation needs, and a multiple of ``pac``.
    pac : int, default=10
        Rows per discriminator pack (PacGAN).
    loss : {"wgan-gp", "minimax"}, default="wgan-gp"
    embedding_dim : int, default=128
        Size of the generator's noise input.
    generator_dims, discriminator_dims : tuple of int, default=(256, 256)
    discriminator_row_dim : int, "auto" or None, default="auto"
        Each row of a pack goes through one shared Linear -> LeakyReLU of this width before the
        critic's pack layers, so a pattern within a row is learnt once, not once per position
        of the pack. On Adult it raised train-on-synthetic ROC AUC from 0.877 to 0.898 and made
        an epoch 1.4x faster (docs/training.md). "auto": ``ROW_DIM_PER_COLUMN`` (4) per modelled
        column, at least ``MIN_ROW_DIM`` (64, what Adult's 14 columns were tuned with) and at
        most ``MAX_ROW_DIM`` (256): 64 up to 16 columns, 256 on caravan's 79. The critic reads
        every pair of columns through this one layer; at 64 it let caravan's generator write a
        policy without its contribution (pair trends 0.876; 256: 0.890). None: PacGAN's
        critic, whose first layer reads the ``pac`` rows with separate weights. Always None in
        a private fit.
    generator_lr : float, default=5e-4
    discriminator_lr : float, default=1e-3
        Two time scales, the critic learning twice as fast as the generator, both above ctgan's
        2e-4: on Adult, learning rate 1e-3 reached in 50 epochs the utility that 2e-4 needs far
        more epochs for, and a generator at 5e-4 beat 1e-3 on utility, pair trends and
        detection at no cost in time (benchmarks/bench_fit.py, docs/benchmarks.md).
    generator_decay, discriminator_decay : float, default=1e-6
        Adam weight decay.
    discriminator_steps : int, default=1
        Critic steps per generator step.
    gp_lambda : float, default=10
        Gradient penalty weight (``loss="wgan-gp"``).
    discriminator_warmup : int, default=0
        Critic steps before adversarial training starts.
    ema_decay : float or None, default=0.999
        Sample from an exponential moving average of the generator's weights; None to sample from
        the generator itself.
    condition_on_modes : bool, default=True
        The condition vector covers numeric columns too: training-by-sampling also conditions
        on each numeric column's component (Gaussian mode, point mass or null), so rare modes
        and spikes (a nonzero capital gain) are trained on as often as rare categories
        (CTAB-GAN's extension of CTGAN). False: categorical columns only, as CTGAN. Always
        False in a private fit (the component counts would cost budget).
    information_loss : bool, default=True
        Add CTAB-GAN's information loss to the generator's: the mean and standard deviation of
        the critic's penultimate features on real and fake packs should agree.
    target : str, optional
        The column the synthetic rows will be used to predict. Without ``epsilon``: a discrete
        or boolean column; an auxiliary classifier learns it from the other columns of real
        rows, and the generator pays when its rows carry a target the classifier would not
        predict (CTAB-GAN). With ``epsilon``: any modelled column; the two-way marginals
        release measures it against every other column (no classifier: it would read real rows
        outside DP-SGD).
    max_minutes : float, optional
        Stop training after this long (checked after every step).
    schema : Schema, optional
        Column kinds; inferred where not given.
    max_modes, max_point_masses, max_fit_rows : int
        Passed to :class:`~synthgan.TableTransformer`.
    derive_columns : bool, default=True
        Columns that are exact functions of other columns on every training row are found at
        fit (``transformer_.derivations``): a column fixed by another (Adult's education-num by
        education), a monotone function of another (wage = exp(logwage)), the sum of two others
        (bikers = casual + registered). They are left out of the model and computed from their
        sources, so every synthetic row keeps the relation (:mod:`synthgan.transform.derived`).
        Integer columns that are parts of one whole (shares of a postcode in tenths, whose row
        sum stays within a narrow range) are found too (``transformer_.compositions_``): a
        synthetic row whose sum falls outside the training range has its parts scaled back into
        it (:mod:`synthgan.transform.composition`). Never in a private fit.
    rejection : bool, default=True
        Discriminator rejection sampling: after training, fit a real-vs-generated classifier on
        the training rows and keep each sampled row with probability min(1, its density ratio
        over a ceiling) (:mod:`synthgan.model.selection`). On Adult it raised SDMetrics' pair
        trends from 0.924 to 0.958 and utility from 0.897 to 0.909, and lowered detection AUC from
        0.857 to 0.817, with no exact copies and dcr_share 0.510 (docs/training.md); sampling
        then costs an encoding of each generated row. Never in a private fit.
    quantile_knots : int or None, default=1000
        Passed to :class:`~synthgan.TableTransformer`: numeric columns go through their own
        quantiles (this many knots) to a standard normal before the mixture, so marginals come
        back by construction (on Adult: column shapes 0.960 -> 0.978, detection AUC 0.857 ->
        0.805; docs/training.md). None: the mixture sees raw values. Never used by a private fit
        (its statistics must all be noisy).
    quantile_bins : int or None, default=32
        With ``quantile_knots``: each numeric column's non-spike values are cut into this many
        equal-mass bins of their quantile (one-hot, like a category) and a place inside the bin
        (a scalar), instead of Gaussian modes of the normal scores. After training, each bin's
        scalar is mapped through the generator's own distribution of it to uniform
        (:mod:`synthgan.model.calibration`), so values inside a bin are spread as the real ones
        are. On Adult: detection AUC 0.789 -> 0.599 (bins) -> 0.575 (with the map), utility
        0.906 -> 0.911 (docs/training.md). None: Gaussian modes.
    random_state : int, optional
        Makes ``fit`` and ``sample`` reproducible: bit-identical on the same machine, library
        versions and thread count. No global random state is touched.
    device : {"auto", "cpu", "cuda", "mps"}, default="auto"
    verbose : bool, default=True
        Progress bars (to stderr) for every phase.
    n_threads : "auto" or int, default="auto"
        CPU threads of a fit. "auto": the cores other processes leave free (never more than
        torch's own count), re-measured every epoch, so a fit beside a busy process does not
        wait on a descheduled thread (docs/training.md). An int fixes the count (bit-identical
        fits need the same count).
    train_precision : {"auto", "float32", "bfloat16"}, default="auto"
        Number format of the matrix products while training (``torch.autocast``; weights,
        optimiser state and losses stay float32). "auto" uses bfloat16 on CPUs with native
        bfloat16 matrix units (AVX512-BF16 or AMX) and float32 elsewhere, GPUs included; see
        docs/training.md for its speed and quality. A private fit always trains in float32.
    sample_precision : {"auto", "float32", "bfloat16"}, default="auto"
        Number format of the generator when sampling. "auto" uses bfloat16 on CPUs with native
        bfloat16 matrix units (AVX512-BF16 or AMX: about 2x faster sampling, same quality on
        Adult, see docs/benchmarks.md) and float32 elsewhere, so samples are reproducible on
        one machine; choose "float32" for the same rows across machines of different kinds.
    epsilon : float, optional
        Train with differential privacy (one row is the privacy unit) at this total budget: the
        critic by DP-SGD, every statistic the model keeps from noisy counts; the epsilon actually
        spent is ``privacy_["epsilon_spent"]`` and is saved in the model file. Needs ``opacus``.
        See docs/privacy.md.
    delta : float, optional
        The delta of (epsilon, delta)-DP; default min(1e-5, 1 / (10 n_rows)).
    public_domain : dict, optional
        With ``epsilon``: facts about the columns known without the data, which then cost no
        budget: ``{"categories": {col: [values]}, "bounds": {col: (low, high)}}``.
    rules : list of synthgan.rules.Rule or "auto", optional
        Rules every sampled row meets (inequalities, ranges, fixed combinations, formulas,
        per-category ranges, null-together groups), enforced around the model by construction
        or by a counted repair; saved in the model file. See docs/rules.md. "auto": the rules
        that hold on every training row (functional dependencies, sums, null-together groups,
        inequalities between overlapping columns; :mod:`synthgan.rules.discover`), the same
        list ``synthgan inspect --rules-out`` writes.
    on_violation : {"drop", "keep", "error"}, default="drop"
        Training rows that break a rule: left out (a message gives the count), trained on
        anyway, or an error. Sampled rows meet every rule either way.

    Examples
    --------
    >>> from synthgan import Synthesizer
    >>> from synthgan.datasets import load_adult
    >>> train, _ = load_adult()
    >>> model = Synthesizer(epochs=10, random_state=0).fit(train)
    >>> rows = model.sample(1000)
    >>> women = model.sample(100, conditions={"sex": "Female"})
    """

    def __init__(
        self,
        *,
        epochs: int | str = "auto",
        batch_size: int = 500,
        pac: int = 10,
        loss: str = "wgan-gp",
        embedding_dim: int = 128,
        generator_dims: tuple[int, ...] = (256, 256),
        discriminator_dims: tuple[int, ...] = (256, 256),
        discriminator_row_dim: int | Literal["auto"] | None = "auto",
        generator_lr: float = 5e-4,
        discriminator_lr: float = 1e-3,
        generator_decay: float = 1e-6,
        discriminator_decay: float = 1e-6,
        discriminator_steps: int = 1,
        gp_lambda: float = 10.0,
        discriminator_warmup: int = 0,
        ema_decay: float | None = 0.999,
        condition_on_modes: bool = True,
        information_loss: bool = True,
        target: str | None = None,
        max_minutes: float | None = None,
        schema: Schema | None = None,
        max_modes: int = 10,
        max_point_masses: int = 20,
        max_fit_rows: int = 50_000,
        quantile_knots: int | None = 1000,
        quantile_bins: int | None = 32,
        derive_columns: bool = True,
        rejection: bool = True,
        random_state: int | None = None,
        device: str = "auto",
        verbose: bool = True,
        train_precision: str = "auto",
        sample_precision: str = "auto",
        n_threads: int | str = "auto",
        epsilon: float | None = None,
        delta: float | None = None,
        public_domain: dict | None = None,
        rules: list | None = None,
        on_violation: str = "drop",
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.pac = pac
        self.loss = loss
        self.embedding_dim = embedding_dim
        self.generator_dims = generator_dims
        self.discriminator_dims = discriminator_dims
        self.discriminator_row_dim = discriminator_row_dim
        self.generator_lr = generator_lr
        self.discriminator_lr = discriminator_lr
        self.generator_decay = generator_decay
        self.discriminator_decay = discriminator_decay
        self.discriminator_steps = discriminator_steps
        self.gp_lambda = gp_lambda
        self.discriminator_warmup = discriminator_warmup
        self.ema_decay = ema_decay
        self.condition_on_modes = condition_on_modes
        self.information_loss = information_loss
        self.target = target
        self.max_minutes = max_minutes
        self.schema = schema
        self.max_modes = max_modes
        self.max_point_masses = max_point_masses
        self.max_fit_rows = max_fit_rows
        self.quantile_knots = quantile_knots
        self.quantile_bins = quantile_bins
        self.derive_columns = derive_columns
        self.rejection = rejection
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.train_precision = train_precision
        self.n_threads = n_threads
        self.sample_precision = sample_precision
        self.epsilon = epsilon
        self.delta = delta
        self.public_domain = public_domain
        self.rules = rules
        self.on_violation = on_violation

    # -- scikit-learn parameter protocol ----------------------------------------------------------
    _PARAM_NAMES = (
        "epochs", "batch_size", "pac", "loss", "embedding_dim", "generator_dims",
        "discriminator_dims", "discriminator_row_dim", "generator_lr", "discriminator_lr", "generator_decay",
        "discriminator_decay", "discriminator_steps", "gp_lambda", "discriminator_warmup",
        "ema_decay", "condition_on_modes", "information_loss", "target", "max_minutes", "schema", "max_modes", "max_point_masses", "max_fit_rows",
        "quantile_knots", "quantile_bins", "derive_columns", "rejection", "random_state", "device", "verbose", "train_precision", "sample_precision",
        "n_threads", "epsilon", "delta", "public_domain", "rules", "on_violation",
    )  # fmt: skip

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._PARAM_NAMES}

    def set_params(self, **params: Any) -> Synthesizer:
        for name, value in params.items():
            if name not in self._PARAM_NAMES:
                hint = difflib.get_close_matches(name, self._PARAM_NAMES, n=1)
                fix = f" Did you mean {hint[0]!r}?" if hint else ""
                raise InvalidDataError(f"Synthesizer has no parameter {name!r}.{fix}")
            setattr(self, name, value)
        return self

    def epochs_for(self, steps_per_epoch: int) -> int:
        """The epochs a fit trains at ``steps_per_epoch`` steps each: ``epochs``, or for
        "auto" enough for :func:`auto_steps` steps within [AUTO_MIN_EPOCHS, AUTO_MAX_EPOCHS]."""
        if self.epochs != "auto":
            return int(self.epochs)
        if self.epsilon is not None:
            return PRIVATE_AUTO_EPOCHS
        wanted = -(-auto_steps(self.transformer_.layout_) // max(int(steps_per_epoch), 1))
        return int(min(max(wanted, AUTO_MIN_EPOCHS), AUTO_MAX_EPOCHS))

    def _check_params(self) -> None:
        def positive_int(name: str) -> None:
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise InvalidDataError(f"{name} must be a positive integer, got {value!r}.")

        if self.epochs != "auto":
            positive_int("epochs")
        for name in ("batch_size", "pac", "embedding_dim", "discriminator_steps"):
            positive_int(name)
        if self.batch_size < MIN_BATCH_ROWS:
            raise InvalidDataError(
                f"batch_size={self.batch_size}: the generator's batch normalisation needs at "
                f"least {MIN_BATCH_ROWS} rows a step. Use batch_size={MIN_BATCH_ROWS} or more "
                "(rows are drawn with replacement, so a table of 1 row takes it too)."
            )
        if self.batch_size % self.pac:
            lower = max(self.batch_size // self.pac, 1) * self.pac
            raise InvalidDataError(
                f"batch_size={self.batch_size} is not a multiple of pac={self.pac}. "
                f"Use batch_size={lower} or {lower + self.pac}, or another pac."
            )
        if self.loss not in LOSSES:
            raise InvalidDataError(f"loss={self.loss!r} is not one of {', '.join(LOSSES)}.")
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise InvalidDataError(f"ema_decay must be in (0, 1) or None, got {self.ema_decay!r}.")
        if self.max_minutes is not None and self.max_minutes <= 0:
            raise InvalidDataError(f"max_minutes must be positive, got {self.max_minutes!r}.")
        if self.discriminator_warmup < 0:
            raise InvalidDataError("discriminator_warmup must be >= 0.")
        row_dim = self.discriminator_row_dim
        if row_dim is not None and row_dim != "auto" and (
            not isinstance(row_dim, (int, np.integer)) or isinstance(row_dim, bool) or row_dim < 1
        ):
            raise InvalidDataError(
                'discriminator_row_dim must be a positive integer, "auto" or None, '
                f"got {row_dim!r}."
            )
        check_precision("train_precision", self.train_precision)
        check_precision("sample_precision", self.sample_precision)
        check_n_threads(self.n_threads)

    # -- fit -------------------------------------------------------------------------------------
    def fit(self, data, *, resume: bool = False, stream=None) -> Synthesizer:
        """Learn the table ``data``: a DataFrame, or a Parquet file, a folder of Parquet files
        or a ``pyarrow.dataset.Dataset``.

        With ``resume=True`` on a fitted (or loaded) model, training continues for ``epochs``
        more epochs on ``data`` with the same transformer, networks and optimiser state.
        Ctrl-C ends training cleanly: the model keeps what it learnt so far and
        ``interrupted_`` is True.

        ``stream``: read ``data`` in record batches with bounded memory
        (:mod:`synthgan.model.streamed`, docs/scale.md): True, False, a
        :class:`~synthgan.model.streamed.Streaming` of its bounds, or None: streamed for a file,
        folder or Dataset larger than ``STREAM_MIN_BYTES`` on disk, read whole otherwise.
        """
        self._check_params()
        if not isinstance(data, pd.DataFrame):
            from synthgan.model.streamed import fit_source

            return fit_source(self, data, resume=resume, stream=stream)
        data = validate_frame(data)
        if self.epsilon is not None:  # differentially private fit: registered by synthgan/privacy/
            fit_private = registered_fit("private", "epsilon=")
            if active_sync(torch.device("cpu")) is not None:
                raise InvalidDataError(
                    "A differentially private fit runs in one process: its privacy accounting "
                    "assumes one Poisson-sampled DP-SGD stream. Run it without torchrun/--nproc."
                )
            if self.rules:
                raise InvalidDataError(
                    "rules cannot be combined with epsilon yet: the combinations and bounds "
                    "they learn would spend privacy budget uncounted. Fit without one of them."
                )
            self.rules_ = None
            return fit_private(self, data, resume=resume)
        self.privacy_ = None
        if resume and hasattr(self, "transformer_"):
            return self._train(self._encode_rules(data), resuming=True)
        self.seed_ = seed_from(self.random_state)
        self.device_ = resolve_device(self.device)
        sync = active_sync(self.device_)  # None unless data-parallel (model/distributed.py)
        self.rules_ = None
        rules = self.rules
        if isinstance(rules, str) and rules == "auto":  # those that hold on every row
            from synthgan.rules.discover import discover_rules

            rules = discover_rules(data, self.schema)
            if self.verbose and rules:
                tqdm.write("Rules found: " + "; ".join(map(str, rules)), file=sys.stderr)
        if rules:
            from synthgan.rules import RulePlan

            self.rules_ = RulePlan(rules, on_violation=self.on_violation).fit(data, self.schema)
        data = self._encode_rules(data)
        with self._local_rng():
            torch.manual_seed(self.seed_)
            transformer = self._new_transformer(
                self.schema if self.rules_ is None else self.rules_.model_schema_
            )
            if sync is None or sync.rank == 0:
                with tqdm(
                    total=len(data.columns), desc="Fitting transformer", unit="col",
                    disable=not self.verbose, leave=False,
                ) as bar:  # fmt: skip
                    transformer.fit(data, progress=lambda _: bar.update())
            if sync is not None:  # every process encodes as rank 0's transformer does
                state = sync.share(transformer.get_state() if sync.rank == 0 else None)
                if sync.rank:
                    transformer = TableTransformer.from_state(state)
            self._check_memory(transformer, len(data))
            self._start(transformer, announce=sync is None or sync.rank == 0)
            self.rows_trained_ = len(data)
        return self._train(data, resuming=False)

    def _new_transformer(self, schema: Schema | None) -> TableTransformer:
        """An unfitted table transformer with this model's transform parameters."""
        return TableTransformer(
            schema=schema,
            max_modes=self.max_modes,
            max_point_masses=self.max_point_masses,
            max_fit_rows=self.max_fit_rows,
            quantile_knots=self.quantile_knots,
            quantile_bins=self.quantile_bins,
            derive_columns=self.derive_columns,
            always_model=() if self.target is None else (self.target,),
            random_state=self.seed_ % (2**32),
        )

    def _encode_rules(self, data: pd.DataFrame) -> pd.DataFrame:
        """The table the model learns: under rules, the training rows after ``on_violation``
        rewritten by the rule plan (synthgan.rules.plan); otherwise ``data`` itself."""
        if getattr(self, "rules_", None) is None:
            return data
        kept = self.rules_.screen(data, verbose=self.verbose)
        return self.rules_.encode(kept, seed=self.seed_ % (2**32)).reset_index(drop=True)

    def _check_memory(self, transformer: TableTransformer, n_rows: int) -> None:
        """Refuse a fit that cannot fit in memory before encoding; say what a large one needs."""
        modes = bool(self.condition_on_modes)
        cond_dim = sum(s.width for s in transformer.layout_.condition_spans(modes=modes))
        widths = {name: t.output_width for name, t in transformer.transformers_.items()}
        hidden = (*self.generator_dims, *self.discriminator_dims)
        estimate = estimate_fit_memory(n_rows, widths, hidden, cond_dim)
        check_fit_memory(estimate, available_memory())
        if self.verbose and estimate.table_bytes > LARGE_INPUT_BYTES:
            tqdm.write(f"Memory: {estimate.describe()}.", file=sys.stderr)

    def partial_fit(self, data: pd.DataFrame) -> Synthesizer:
        """Continue training a fitted or loaded model for ``epochs`` more epochs."""
        if not hasattr(self, "transformer_"):
            return self.fit(data)
        return self.fit(data, resume=True)

    def _local_rng(self):
        devices = [self.device_.index or 0] if self.device_.type == "cuda" else []
        return torch.random.fork_rng(devices=devices)

    def _start(self, transformer: TableTransformer, *, announce: bool = True) -> None:
        """A new model on a fitted ``transformer``: fresh networks and an empty history. With
        ``verbose`` and ``announce`` (one process of several announces), a line names the columns
        read as ids: they are regenerated as new values, not learnt, so a measurement misread as
        one would otherwise come back silently wrong."""
        self.transformer_ = transformer
        self._build_networks()
        self.loss_history_ = pd.DataFrame()
        self.epochs_trained_ = 0
        self.ema_updates_ = 0
        if not (self.verbose and announce):
            return
        ids = [c.name for c in self.fitted_schema().columns if c.kind is ColumnKind.ID]
        if ids:
            tqdm.write(
                f"Read as ids, regenerated as new values rather than learnt: {', '.join(ids)}. "
                "If one is a measurement, give it its kind in the schema (schema= in Python, "
                "--schema on the command line; docs/schema.md).",
                file=sys.stderr,
            )

    def _build_networks(self) -> None:
        """The networks, optimisers, noise width and the spans the condition vector covers, from
        the current parameters; training and sampling then read ``embedding_dim_`` and
        ``condition_spans_``, so parameters changed after fitting do not desynchronise them
        from the networks."""
        layout = self.transformer_.layout_
        if layout.dim == 0:  # zero-width networks: training would fail inside autograd
            names = ", ".join(repr(name) for name in self.transformer_.output_columns[:5])
            raise InvalidDataError(
                f"Nothing to learn: every column is id-like or ignored ({names or 'none left'}). "
                "Declare a column's kind in the schema (e.g. 'discrete' or 'datetime'), or add "
                "columns to model."
            )
        self.embedding_dim_ = int(self.embedding_dim)
        modes = bool(self.condition_on_modes) and self.epsilon is None
        self.condition_spans_ = layout.condition_spans(modes=modes)
        cond_dim = sum(s.width for s in self.condition_spans_)
        device = self.device_
        self.generator_ = Generator(
            self.embedding_dim_ + cond_dim, tuple(self.generator_dims), layout.dim
        ).to(device)
        row_dim = row_width(self.discriminator_row_dim, layout) if self.epsilon is None else None
        self.critic_ = Discriminator(
            layout.dim + cond_dim, tuple(self.discriminator_dims), self.pac, row_dim=row_dim
        ).to(device)
        self.ema_generator_ = make_ema(self.generator_) if self.ema_decay is not None else None
        self.target_classifier_ = None
        self._classifier_optimizer = None
        if self.target is not None and self.epsilon is None:  # private: target_hub instead
            span = self._target_span()
            mask = torch.ones(layout.dim, device=device)
            mask[span.start : span.stop] = 0.0
            self.target_classifier_ = TargetClassifier(layout.dim, (128, 128), span.width, mask).to(
                device
            )
            self._classifier_optimizer = make_adam(
                self.target_classifier_.parameters(), self.discriminator_lr, 1e-6
            )
        self._activation = OutputActivation(SpanIndex(layout, self.condition_spans_)).to(device)
        self._gen_optimizer = make_adam(
            self.generator_.parameters(), self.generator_lr, self.generator_decay
        )
        self._critic_optimizer = make_adam(
            self.critic_.parameters(), self.discriminator_lr, self.discriminator_decay
        )

    def _target_span(self):
        layout = self.transformer_.layout_
        discrete = [span.column for span in layout.discrete_spans]
        if self.target not in discrete:
            hint = difflib.get_close_matches(str(self.target), discrete, n=1)
            fix = f" Did you mean {hint[0]!r}?" if hint else ""
            raise InvalidDataError(
                f"target={self.target!r} is not a discrete or boolean column of the table.{fix} "
                "Use a categorical column, or target=None."
            )
        return layout.discrete_span(self.target)

    def _train(self, data: pd.DataFrame, *, resuming: bool) -> Synthesizer:
        start = time.monotonic()
        sync = active_sync(self.device_)  # data-parallel: this process trains on its shard
        batch_size = self.batch_size
        # a resumed fit continues the random stream from where the model stands
        torch_seed = block_seed(self.seed_, 1_000_000 + self.epochs_trained_)
        rng_seed = block_seed(self.seed_, 2_000_000 + self.epochs_trained_)
        if sync is not None:
            batch_size = per_rank_batch(self.batch_size, self.pac, sync.world_size)
            torch_seed, rng_seed = sync.seed(torch_seed), sync.seed(rng_seed)
            data = data.iloc[sync.shard(len(data))]
        with self._local_rng():
            torch.manual_seed(torch_seed)
            rng = torch.Generator(device=self.device_)
            rng.manual_seed(rng_seed)
            transformed = self.transformer_.transform(data)  # (n_rows, dim) float32
            sampler = ConditionSampler.from_data(
                self.condition_spans_, transformed, self.device_,
                sum_counts=None if sync is None else sync.sum_counts,
            )  # fmt: skip
            rows_trained = len(data) if sync is None else sync.total(len(data))
            rows = torch.as_tensor(transformed, device=self.device_)
            self._train_on(rows, sampler, rng, start, resuming=resuming, sync=sync,
                           batch_size=batch_size)  # fmt: skip
        self.fit_seconds_ = time.monotonic() - start
        self.rows_trained_ = rows_trained
        return self

    def _train_on(
        self, data, sampler: ConditionSampler, rng: torch.Generator, start: float, *,
        resuming: bool, critic_rows=None, sync=None, batch_size: int | None = None,
    ) -> None:  # fmt: skip
        """Train on encoded rows ``data`` (a tensor (n_rows, dim), or a streamed fit's
        ShardedRows) drawn by ``sampler``, then fit the calibration and the row critic (on
        ``critic_rows()`` when given, else on ``data``). In a data-parallel fit (``sync``) each
        process trains on its shard with ``batch_size`` rows a step, and only rank 0 (which
        writes the model file) fits the calibration and the row critic."""
        self._category_counts = [c.tolist() for c in sampler.category_counts]
        trainer = Trainer(
            config=TrainingConfig(
                loss=self.loss,
                batch_size=self.batch_size if batch_size is None else batch_size,
                discriminator_steps=self.discriminator_steps,
                gp_lambda=self.gp_lambda,
                embedding_dim=self.embedding_dim_,
                ema_decay=self.ema_decay,
                information_loss=self.information_loss,
                autocast_dtype=precision_dtype(self.train_precision, self.device_),
                target_slice=None
                if self.target_classifier_ is None
                else (self._target_span().start, self._target_span().stop),
            ),
            generator=self.generator_,
            critic=self.critic_,
            activation=self._activation,
            sampler=sampler,
            data=data,
            gen_optimizer=self._gen_optimizer,
            critic_optimizer=self._critic_optimizer,
            ema_generator=self.ema_generator_,
            rng=rng,
            ema_updates=self.ema_updates_,
            target_classifier=self.target_classifier_,
            classifier_optimizer=self._classifier_optimizer,
            sync=sync,
        )
        with thread_plan(self.n_threads, self.device_) as threads:
            self._run_training(trainer, start, warm_up=not resuming, threads=threads)
            self.calibration_ = None
            self.row_critic_, self.selection_, self.marginal_factors_ = None, None, None
            self.row_refinements_ = ()
            if sync is None or sync.rank == 0:  # the process that writes the model file
                self._fit_calibration()
                if self.rejection and not self.interrupted_:
                    self._fit_row_critic(trainer.data if critic_rows is None else critic_rows())

    def _fit_calibration(self) -> None:
        """The in-bin scalars' maps to uniform (synthgan.model.calibration), from rows drawn
        without selection; None when no column is binned."""
        self.calibration_ = None
        if not binned_columns(self.transformer_):
            return
        generator = self._row_generator(selection=False)
        seed = block_seed(self.seed_, 4_000_000 + self.epochs_trained_)
        drawn = [
            generator.draw(SAMPLE_BLOCK_ROWS, block_seed(seed, i), Conditions())
            for i in range(-(-CALIBRATION_ROWS // SAMPLE_BLOCK_ROWS))
        ]
        self.calibration_ = BinCalibration.fit(
            np.concatenate([s for s, _ in drawn], axis=1),
            np.concatenate([c for _, c in drawn], axis=1),
            self.transformer_,
        )

    def _fit_row_critic(self, real: torch.Tensor) -> None:
        """Discriminator rejection sampling's classifier, on the training rows against as many
        generated ones, its marginal factors, then its refinement critics while they find signal
        (synthgan.model.selection)."""
        seed = block_seed(self.seed_, 3_000_000 + self.epochs_trained_)
        fake = self._model_rows(len(real), seed)  # the model's own table, before any rules
        encoded = self.transformer_.transform(fake, rng=np.random.default_rng(seed))
        encoded = torch.as_tensor(encoded, device=self.device_)
        inputs = RankFeatures.of(self.transformer_)
        real_features = inputs(real)
        critic, _, facts = fit_row_critic(real_features, inputs(encoded), seed=seed)
        if len(encoded) < MARGINAL_POOL_ROWS:  # a small table: more rows for the factors
            encoded = torch.cat([encoded, self._encoded_pool(MARGINAL_POOL_ROWS - len(encoded),
                                                             seed + 1)])  # fmt: skip
        spans = self.transformer_.layout_.softmax_spans
        pairs = select_pairs(span_codes(real, spans), [span.width for span in spans])
        targets = {"one_way": one_way_targets(real), "target_rows": len(real),
                   "pairs": tuple(two_way_targets(real, spans, pairs))}  # fmt: skip
        self.row_critic_, self.row_refinements_ = critic, ()
        self.selection_ = {**facts, "rank_features": True, "refinements": []}
        pool = ScoredPool.of(encoded, inputs(encoded), critic, ())
        self._fit_factors(pool, targets, pool.later)
        rounds = MAX_REFINEMENTS if len(real) >= MIN_REFINEMENT_ROWS else 0
        for round_number in range(1, rounds + 1):
            pool, refined = self._refine_selection(
                block_seed(seed, round_number), real_features, inputs, pool, targets
            )
            if not refined:
                break
        if self.verbose:
            tqdm.write(
                f"Rejection sampling: keeps about {self.selection_['acceptance']:.1%} of generated "
                f"rows ({len(self.row_refinements_)} refinement critics).",
                file=sys.stderr,
            )

    def _refine_selection(
        self,
        round_seed: int,
        real_features: torch.Tensor,
        inputs: RankFeatures,
        pool: ScoredPool,
        targets: dict,
    ) -> tuple[ScoredPool, bool]:
        """One refinement round: a critic fitted on the training rows against rows the selection
        keeps, added when it finds signal and the selection then still keeps enough rows (its
        ceiling lowered if need be), the factors fitted again. Returns the pool of generated
        rows (grown for the factors, scored by the stages kept) and whether a stage was added."""
        try:
            kept = self._model_rows(len(real_features), round_seed, selection=True)
        except InvalidDataError:  # the selection keeps too few rows to learn from
            return pool, False
        kept = self.transformer_.transform(kept, rng=np.random.default_rng(round_seed))
        kept = torch.as_tensor(kept, device=self.device_)
        critic, ceiling, facts = fit_row_critic(real_features, inputs(kept), seed=round_seed)
        if refinement_signal(facts) < MIN_REFINEMENT_SIGNAL:
            return pool, False
        before = self.row_refinements_, self.marginal_factors_, self.selection_
        self.row_refinements_ += (Refinement(critic, ceiling),)
        self.selection_ = {**before[2], "refinements": [*before[2]["refinements"], facts]}
        if len(pool) < REFINED_POOL_ROWS:  # fewer rows kept: a larger pool for the factors
            more = self._encoded_pool(REFINED_POOL_ROWS - len(pool), round_seed + 1)
            pool = pool.joined(ScoredPool.of(more, inputs(more), self.row_critic_, before[0]))
        round_logits = logits(critic, inputs(pool.encoded))  # (pool,)
        self._fit_factors(pool, targets, pool.later + capped_log_ratio(round_logits, ceiling))
        for _ in range(SOFTENING_STEPS):  # sampling would crawl: a lower ceiling keeps more
            if self.selection_["acceptance"] >= MIN_REFINED_ACCEPTANCE:
                break
            first = pool.critic_logits.double()
            if self.marginal_factors_ is not None:
                first = first + self.marginal_factors_.score(pool.encoded)
            first = torch.clamp(first - self.selection_["ceiling"], max=0.0)
            softened = softened_ceiling(first + pool.later, round_logits, ceiling,
                                        SOFTENING_MARGIN * MIN_REFINED_ACCEPTANCE)  # fmt: skip
            if softened is None:
                break
            facts["softened_by"] = facts.get("softened_by", 0.0) + ceiling - softened
            facts["ceiling"] = ceiling = softened  # the facts hold the ceiling the file keeps
            self.row_refinements_ = (*before[0], Refinement(critic, ceiling))
            self._fit_factors(pool, targets, pool.later + capped_log_ratio(round_logits, ceiling))
        if self.selection_["acceptance"] < MIN_REFINED_ACCEPTANCE:
            self.row_refinements_, self.marginal_factors_, self.selection_ = before
            return pool, False
        return replace(pool, later=pool.later + capped_log_ratio(round_logits, ceiling)), True

    def _encoded_pool(self, n: int, seed: int) -> torch.Tensor:
        """``n`` generated rows without selection, encoded, for fitting the selection."""
        rows = self._model_rows(n, seed)
        encoded = self.transformer_.transform(rows, rng=np.random.default_rng(seed))
        return torch.as_tensor(encoded, device=self.device_)

    def _fit_factors(self, pool: ScoredPool, targets: dict, later: torch.Tensor) -> None:
        """The marginal factors and the ceiling on top of the first critic's logits of the
        ``pool``, the refinements' log-acceptance ``later`` (n,) counted, into the selection
        (its facts say what they closed)."""
        spans = self.transformer_.layout_.softmax_spans
        factors, ceiling, facts = fit_marginal_factors(
            pool.encoded, pool.critic_logits, spans, later=later, **targets
        )
        kept_pairs = [] if factors is None else [[a, b] for a, b, _ in factors.pairs]
        self.marginal_factors_ = factors
        self.selection_.update(facts, ceiling=ceiling, pairs=kept_pairs)

    def _run_training(
        self, trainer: Trainer, start: float, *, warm_up: bool, threads: ThreadPlan | None = None
    ) -> None:
        """Critic warm-up and epochs within the time budget; Ctrl-C keeps what was learnt."""
        self.interrupted_ = False
        deadline = None if self.max_minutes is None else start + 60.0 * self.max_minutes
        try:
            if threads is not None:
                threads.start()
            if warm_up and self.discriminator_warmup:
                trainer.warm_up_critic(self.discriminator_warmup)
            self._run_epochs(trainer, deadline, threads)
        except KeyboardInterrupt:
            self.interrupted_ = True
        self.ema_updates_ = trainer.ema_updates

    def _run_epochs(
        self, trainer: Trainer, deadline: float | None, threads: ThreadPlan | None = None
    ) -> None:
        epochs = self.epochs_for(trainer.steps_per_epoch)
        records = []
        with tqdm(
            total=epochs * trainer.steps_per_epoch, desc="Training", unit="step",
            disable=not self.verbose, leave=False,
        ) as bar:  # fmt: skip
            try:
                for epoch in range(epochs):
                    if threads is not None and epoch > 0:
                        threads.update()  # from the load seen during the last epoch
                    stats = trainer.run_epoch(deadline, on_step=bar.update)
                    self.epochs_trained_ += 1
                    records.append({"epoch": self.epochs_trained_, **stats})
                    if threads is not None:
                        records[-1]["threads"] = torch.get_num_threads()
                    bar.set_postfix(
                        g=f"{stats['generator_loss']:.3f}",
                        d=f"{stats['critic_loss']:.3f}",
                        fooled=f"{stats['fooled_rate']:.2f}",
                    )
                    if trainer.past(deadline):
                        break
            finally:
                if records:
                    self.loss_history_ = pd.concat(
                        [self.loss_history_, pd.DataFrame(records)], ignore_index=True
                    )

    # -- sampling --------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "transformer_"):
            raise not_fitted(self)

    def fitted_schema(self) -> Schema:
        """The kind the fitted model gives each column of the table it was fitted on: inferred,
        with the kinds of ``schema`` taking precedence (``id`` columns are regenerated as new
        ids, not learnt)."""
        self._check_fitted()
        plan = getattr(self, "rules_", None)
        return self.transformer_.schema_ if plan is None else plan.schema_

    def _row_generator(self, *, selection: bool = True) -> RowGenerator:
        check_precision("sample_precision", self.sample_precision)
        return RowGenerator(
            generator=self.ema_generator_ if self.ema_generator_ is not None else self.generator_,
            activation=self._activation,
            transformer=self.transformer_,
            condition_spans=self.condition_spans_,
            category_counts=self._category_counts,
            embedding_dim=self.embedding_dim_,
            device=self.device_,
            precision=self.sample_precision,
            calibration=getattr(self, "calibration_", None),
            selector=None  # rejection=False after fitting: sample without selection
            if getattr(self, "selection_", None) is None or not self.rejection or not selection
            else RowSelector(
                self.row_critic_, self.selection_["ceiling"], self.transformer_, self.device_,
                factors=self.marginal_factors_,
                inputs=critic_inputs(self.transformer_, self.selection_),
                refinements=getattr(self, "row_refinements_", ()),
            ),
        )

    def sample(
        self,
        n: int | None = None,
        conditions: dict | pd.DataFrame | None = None,
        *,
        distribution: dict | None = None,
        random_state: int | None = None,
        max_tries: int = 100,
        reach_bounds: bool | None = None,
    ) -> pd.DataFrame:
        """Generate ``n`` synthetic rows.

        Parameters
        ----------
        n : int, optional
            Rows to generate; with a frame of conditions, its row count (may be left out).
        conditions : dict or DataFrame, optional
            A dict: column -> condition, met by every row. A condition is a value
            (``"Female"``, ``37``, ``"2020-01-31"``), a list of values (``["Black", "Asian"]``),
            or a range on a numeric or date column: ``(30, 65)`` (inclusive, None for an open
            end), ``pandas.Interval(30, 65, closed="left")``, or ``">=30"``, ``"<65"``.
            Several columns at once. A DataFrame: one row is generated per row of it, meeting
            that row's values (a null cell leaves the column free), in order.
            Every returned row meets its conditions: they are built into the generation (the
            condition vector, restricted draws from the one-hot spans, the quantile bins of
            numeric columns), and the other columns follow the model's distribution given all
            of them (docs/rules.md, "Conditions"). A value outside what the model saw is an
            error at once. Under rules, a condition on a column the rules rewrite is checked on
            the rows after the rules are applied, within ``max_tries``.
        distribution : dict, optional
            Rebalancing: ``{"sex": {"Female": 0.5, "Male": 0.5}}`` gives one categorical column
            these shares (exactly, to the row), the other columns following the model given
            each row's value.
        random_state : int, optional
            The same seed gives the same rows.
        max_tries : int, default=100
            Bounds the rounds of redrawing rows that a check on decoded rows sends back.
        reach_bounds : bool, optional
            Move each numeric column's smallest and largest sampled value (one row each) onto
            the training minimum and maximum, so the sample spans the training range as the
            training table does. None (the default): when ``n`` is at least the number of rows
            the model trained on, without conditions or rules (docs/transform.md, "Bounds").

        Returns
        -------
        DataFrame with the training table's columns and dtypes.
        """
        self._check_fitted()
        from synthgan.model.conditions import sampling_request

        seed = seed_from(random_state)
        schema = self.fitted_schema()
        n, conditions = sampling_request(n, conditions, distribution, schema,
                                         block_seed(seed, 0xD15))  # fmt: skip
        rows = self._row_generator()
        blocks = self._iter_rows(rows, n, conditions, seed, max_tries)
        blocks = list(self._bounded(blocks, n, conditions, reach_bounds))
        if len(blocks) == 1:
            return blocks[0]  # already indexed 0..n-1: no copy
        return pd.concat(blocks, ignore_index=True) if blocks else rows.empty_frame()

    def impute(
        self, data: pd.DataFrame, *, random_state: int | None = None, max_tries: int = 100
    ) -> pd.DataFrame:
        """``data`` with the nulls of the model's columns filled by values drawn from the model
        given each row's known cells; known cells are returned untouched
        (:mod:`synthgan.model.impute`)."""
        self._check_fitted()
        from synthgan.model.impute import impute

        return impute(self, data, random_state=random_state, max_tries=max_tries)

    def reaches_bounds(self, n: int, conditions=None) -> bool:
        """Whether a sample of ``n`` rows spans the training range by default (``reach_bounds``
        of :meth:`sample`): as many rows as the model trained on or more, and neither
        conditions nor rules to meet (a value moved onto a bound could break them)."""
        trained = getattr(self, "rows_trained_", None)
        return (
            trained is not None and n >= trained and not self._constrained(conditions)
        )

    def _constrained(self, conditions) -> str | None:
        if conditions is not None and len(conditions) > 0:
            return "conditions"
        return "rules" if getattr(self, "rules_", None) is not None else None

    def will_reach_bounds(self, n: int, conditions=None, reach_bounds: bool | None = None) -> bool:
        """Whether a sample of ``n`` rows moves its numeric extremes onto the training bounds,
        given ``reach_bounds`` as :meth:`sample` takes it (None: :meth:`reaches_bounds`).
        True together with conditions or rules raises :class:`InvalidDataError`."""
        if reach_bounds is None:
            return self.reaches_bounds(n, conditions)
        constraint = self._constrained(conditions)
        if reach_bounds and constraint:
            raise bounds_refused(constraint)
        return bool(reach_bounds)

    def _bounded(self, blocks, n: int, conditions, reach_bounds: bool | None):
        """``blocks`` with the first one's numeric extremes moved onto the training bounds
        (``TableTransformer.reach_bounds``) where :meth:`will_reach_bounds` says so."""
        if not self.will_reach_bounds(n, conditions, reach_bounds):
            return blocks
        return _first_mapped(blocks, self.transformer_.reach_bounds)

    def _iter_rows(self, rows: RowGenerator, n, conditions, random_state, max_tries):
        """Blocks of sampled rows: the model's own, or under rules those the rule plan decodes
        and checks (``rule_report_`` then counts repairs and rows left out)."""
        if isinstance(n, (int, np.integer)) and not isinstance(n, bool):
            self.transformer_.check_id_room(int(n))
        if getattr(self, "rules_", None) is None:
            return rows.iter_rows(n, conditions, random_state, max_tries, progress=self.verbose)
        from synthgan.rules.sampling import iter_ruled_rows

        self.rule_report_ = {}
        return iter_ruled_rows(
            rows, self.rules_, n, conditions, random_state, max_tries,
            progress=self.verbose, report=self.rule_report_,
        )  # fmt: skip

    def _model_rows(self, n: int, seed: int, *, selection: bool = False) -> pd.DataFrame:
        """``n`` rows of the model table (rules not applied; without selection unless asked),
        for the row critic and its refinements."""
        generator = self._row_generator(selection=selection)
        max_tries = REFINEMENT_MAX_TRIES if selection else 1
        blocks = list(generator.iter_rows(n, None, seed, max_tries, progress=False))
        return pd.concat(blocks, ignore_index=True) if len(blocks) > 1 else blocks[0]

    def sample_to_parquet(
        self,
        path: str | os.PathLike,
        n: int,
        *,
        conditions: dict | None = None,
        chunk_rows: int = 100_000,
        random_state: int | None = None,
        max_tries: int = 100,
        reach_bounds: bool | None = None,
    ) -> Path:
        """Stream ``n`` rows to a Parquet file in chunks of ``chunk_rows`` (atomically); the same
        seed gives the same rows as :meth:`sample`, whatever ``chunk_rows``."""
        self._check_fitted()
        if chunk_rows < 1:
            raise InvalidDataError(f"chunk_rows must be positive, got {chunk_rows!r}.")
        rows = self._row_generator()
        blocks = self._iter_rows(rows, n, conditions, random_state, max_tries)
        blocks = self._bounded(blocks, n, conditions, reach_bounds)
        return rows.write_parquet(path, blocks, chunk_rows)

    # -- persistence -----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the model to one file (atomically). It holds no training rows."""
        self._check_fitted()
        return persistence.save_synthesizer(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, *, device: str = "auto") -> Synthesizer:
        """Read a model file written by :meth:`save` (on any device; GPU models load on CPU)."""
        return persistence.load_synthesizer(cls, path, device=device)

    # -- diagnostics -----------------------------------------------------------------------------
    def plot_loss_history(self, ax=None):
        """Plot the per-epoch losses, the Wasserstein estimate and the fooled rate (matplotlib)."""
        self._check_fitted()
        import matplotlib.pyplot as plt

        history = self.loss_history_
        if ax is None:
            _, ax = plt.subplots(1, 2, figsize=(11, 3.5))
        left, right = ax
        for column in ("generator_loss", "critic_loss", "wasserstein", "condition_loss"):
            if column in history:
                left.plot(history["epoch"], history[column], label=column)
        left.set_xlabel("epoch")
        left.legend()
        left.set_title("losses")
        if "fooled_rate" in history:
            right.plot(history["epoch"], history["fooled_rate"], color="tab:purple")
        right.axhline(0.5, color="grey", linestyle=":")
        right.set_ylim(0, 1)
        right.set_xlabel("epoch")
        right.set_title("fooled rate (0.5: fooled half the time)")
        return ax


def _first_mapped(blocks, function):
    """``blocks`` with ``function`` applied to the first one."""
    for i, block in enumerate(blocks):
        yield function(block) if i == 0 else block


def load(path: str | os.PathLike, *, device: str = "auto") -> Synthesizer:
    """Load a model saved with :meth:`Synthesizer.save`."""
    return Synthesizer.load(path, device=device)
