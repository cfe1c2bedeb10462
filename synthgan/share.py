"""``share``: train, sample, check and release a synthetic table that people outside may receive.

The release (``synthetic.parquet`` and ``MODEL_CARD.md``) goes to the output folder only when every
privacy check passes (or ``force=True``). The full evaluation (exact statistics of the real data),
the model file and the holdout split stay in an owner-only folder (mode 0o700) beside it.
Id-like and ignored columns are never released. The checks and their thresholds: docs/privacy.md.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from synthgan._version import __version__
from synthgan.exceptions import InvalidDataError, shown_name
from synthgan.io import write_table, write_text
from synthgan.schema import ColumnKind, Schema, resolve_schema, unknown_column_message

MAX_DCR_SHARE = 0.55
"""dcr_share fails when its value is above this (0.5: synthetic rows are no closer to training
rows than to unseen rows)."""
MAX_MIA_AUC = 0.55
"""mia_auc fails when its value is above this (0.5: the attack cannot tell)."""
GATE_MIN_ROWS = 2000
"""The checks look at at least this many rows from the model; the release is a uniform subset of
them when fewer are asked for (on a table of 120 rows, 70 synthetic rows gave dcr_share intervals
0.17 wide, and a memorizer at 0.62 walked through an interval-end rule)."""
MAX_COPY_EXCESS = 0.0
"""exact_copy_rate fails when its 95% interval lies wholly above the holdout's own rate of exact
matches with training rows (the upper end of that rate's 95% interval: with a holdout of a few
dozen rows the rate itself is uncertain) plus this."""
DP_EPOCHS = 30
"""Training epochs of a differentially private share unless ``--epochs`` says otherwise. At a
fixed budget more steps mean more noise per step: on Adult at epsilon 3, 30 epochs gave
train-on-synthetic ROC AUC 0.837 and column shapes 0.899 (benchmarks/bench_privacy.py), the
80-epoch default 0.783 and 0.862, with a collapsing generator (docs/privacy.md)."""
HOLDOUT_FRACTION = 0.2
MIN_HOLDOUT_ROWS = 50


@dataclass
class Check:
    name: str
    value: float
    ci: tuple[float, float]
    threshold: float
    rule: str
    passed: bool


@dataclass
class ShareResult:
    """What :func:`share` did: the checks, whether it released, where things went."""

    checks: list[Check]
    released: bool
    forced: bool
    release_dir: Path
    report_dir: Path
    model_card: str
    n_train: int
    n_holdout: int
    n_synthetic: int
    epsilon_spent: float | None
    dropped_columns: list[str] = field(default_factory=list)
    n_checked: int = 0

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def failure_reason(self) -> str:
        failed = [c for c in self.checks if not c.passed]
        return "; ".join(
            f"{c.name} = {c.value:.4f} (95% CI {c.ci[0]:.4f}-{c.ci[1]:.4f}) {c.rule}"
            for c in failed
        )


def default_report_dir(release_dir: Path) -> Path:
    release_dir = Path(release_dir)
    return release_dir.parent / f"{release_dir.name}-internal"


def _owner_only_dir(path: Path) -> Path:
    if path.exists():
        if not path.is_dir():
            raise InvalidDataError(f"report dir {path} exists and is not a folder.")
        if path.stat().st_mode & 0o077:
            raise InvalidDataError(
                f"report dir {path} is open to other users (mode {path.stat().st_mode & 0o777:o}); "
                f"it will hold exact statistics of the real data. Run chmod 700 {path}, or pass "
                "another --report-dir."
            )
        return path
    path.mkdir(parents=True, mode=0o700)
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask
    return path


def _check_thresholds(max_dcr_share: float, max_mia_auc: float, max_copy_excess: float) -> None:
    for name, value, low, high in (
        ("max_dcr_share", max_dcr_share, 0.5, 1.0),
        ("max_mia_auc", max_mia_auc, 0.5, 1.0),
        ("max_copy_excess", max_copy_excess, 0.0, 1.0),
    ):
        if not low <= value <= high:
            raise InvalidDataError(
                f"{name}={value!r} must be in [{low}, {high}] (default "
                f"{dict(max_dcr_share=MAX_DCR_SHARE, max_mia_auc=MAX_MIA_AUC, max_copy_excess=MAX_COPY_EXCESS)[name]})."
            )


def privacy_checks(
    report, *, max_dcr_share: float, max_mia_auc: float, max_copy_excess: float
) -> list[Check]:
    """The release gate: dcr_share and mia_auc fail when their value is above the threshold; the
    copy rate fails when its 95% interval is wholly above the holdout's own rate (docs/privacy.md)."""
    metrics = report.metrics
    dcr, mia, copies = metrics["dcr_share"], metrics["mia_auc"], metrics["exact_copy_rate"]
    baseline = float(copies["details"]["baseline"])
    # the holdout's rate is an estimate too: a table of few low-cardinality columns has many
    # chance matches, and 2 of 50 holdout rows against 6 of 50 synthetic ones is no evidence
    baseline_high = float(copies["details"]["baseline_ci"][1])
    copy_threshold = baseline_high + max_copy_excess
    return [
        Check("dcr_share", dcr["value"], tuple(dcr["ci"]), max_dcr_share,
              f"fails when the value is above {max_dcr_share:g}",
              not dcr["value"] > max_dcr_share),
        Check("mia_auc", mia["value"], tuple(mia["ci"]), max_mia_auc,
              f"fails when the value is above {max_mia_auc:g}",
              not mia["value"] > max_mia_auc),
        Check("exact_copy_rate", copies["value"], tuple(copies["ci"]), copy_threshold,
              f"fails when the CI's lower bound is above the holdout's own rate {baseline:.4f} "
              f"(95% CI up to {baseline_high:.4f})"
              + (f" + {max_copy_excess:g}" if max_copy_excess else ""),
              not copies["ci"][0] > copy_threshold),
    ]  # fmt: skip


def private_params(epsilon: float) -> dict:
    """The :class:`~synthgan.Synthesizer` settings of a private share at ``epsilon``: one row per
    pack (a row is a whole sampling unit, no substitution bound, and a step averages ten times
    more units than with packs of ten), the minimax loss (ghost clipping), DP_EPOCHS epochs
    (docs/privacy.md)."""
    return {"epsilon": epsilon, "pac": 1, "loss": "minimax", "epochs": DP_EPOCHS}


def share(
    data: pd.DataFrame,
    release_dir: str | os.PathLike,
    *,
    epsilon: float | None = None,
    no_dp: bool = False,
    delta: float | None = None,
    public_domain: dict | None = None,
    target: str | None = None,
    report_dir: str | os.PathLike | None = None,
    force: bool = False,
    holdout_fraction: float = HOLDOUT_FRACTION,
    max_dcr_share: float = MAX_DCR_SHARE,
    max_mia_auc: float = MAX_MIA_AUC,
    max_copy_excess: float = MAX_COPY_EXCESS,
    n_rows: int | None = None,
    schema: Schema | None = None,
    synthesizer_params: dict | None = None,
    random_state: int | None = 0,
    source_name: str = "the input table",
    verbose: bool = False,
) -> ShareResult:
    """Fit a synthesizer on part of ``data``, check the synthetic rows against the rest, release.

    Parameters
    ----------
    data : DataFrame
    release_dir : path
        Receives ``synthetic.parquet`` and ``MODEL_CARD.md``, and nothing else, only when every
        privacy check passes (or ``force``).
    epsilon : float, optional
        Train with differential privacy at this budget. Exactly one of ``epsilon`` and
        ``no_dp=True`` must be given.
    no_dp : bool
        Train without differential privacy: the release then carries no formal guarantee.
    delta : float, optional
        Delta of the DP guarantee (default: min(1e-5, 1/(10 n))).
    public_domain : dict, optional
        With ``epsilon``: category lists and numeric bounds known without the data,
        ``{"categories": {col: [values]}, "bounds": {col: (low, high)}}``; they cost no budget and
        the model card lists them as assumptions.
    target : str, optional
        A column to predict; adds train-on-synthetic utility to the internal report. With
        ``epsilon`` the noisy two-way counts also measure it against every other column.
    report_dir : path, optional
        Owner-only folder (created with mode 0o700) for report.html, scores.json, the model file
        and the holdout rows; default ``<release_dir>-internal`` beside the release.
    force : bool
        Release even when a privacy check fails (the model card says so).
    holdout_fraction : float
        Share of rows kept out of training for the checks.
    max_dcr_share, max_mia_auc, max_copy_excess : float
        The gate's thresholds (:data:`MAX_DCR_SHARE`, :data:`MAX_MIA_AUC`, :data:`MAX_COPY_EXCESS`).
    n_rows : int, optional
        Synthetic rows to release (default: as many as the training rows).
    synthesizer_params : dict, optional
        Extra :class:`~synthgan.Synthesizer` parameters (epochs, batch_size, ...).

    Returns
    -------
    ShareResult
        ``released`` is False when a check failed and ``force`` was not given; then nothing was
        written to ``release_dir``.
    """
    from synthgan.evaluate import evaluate
    from synthgan.model import Synthesizer

    if (epsilon is None) == (not no_dp):
        raise InvalidDataError(
            "Choose the privacy regime: pass epsilon=E (differential privacy, e.g. epsilon=3) or "
            "no_dp=True (no formal guarantee); exactly one of the two."
        )
    if not 0.05 <= holdout_fraction <= 0.5:
        raise InvalidDataError(
            f"holdout_fraction={holdout_fraction!r} must be in [0.05, 0.5]; the default is "
            f"{HOLDOUT_FRACTION}."
        )
    if public_domain is not None and epsilon is None:
        raise InvalidDataError(
            "public_domain spares privacy budget and applies to a private share only; pass "
            "epsilon=E with it, or drop it for no_dp=True."
        )
    _check_thresholds(max_dcr_share, max_mia_auc, max_copy_excess)
    release_dir = Path(release_dir)
    report_dir = Path(report_dir) if report_dir is not None else default_report_dir(release_dir)
    if report_dir.resolve() == release_dir.resolve() or release_dir.resolve() in (
        report_dir.resolve().parents
    ):
        raise InvalidDataError(
            f"report dir {report_dir} is inside the release folder {release_dir}; the report holds "
            "exact statistics of the real data. Pass a --report-dir outside it."
        )
    schema_given = schema is not None
    schema = resolve_schema(data, schema)
    if target is not None and target not in schema.names:
        raise InvalidDataError(unknown_column_message(target, schema.names))
    dropped = [c.name for c in schema.columns if c.kind in (ColumnKind.ID, ColumnKind.IGNORED)]
    if target is not None and target in dropped:
        raise InvalidDataError(
            f"target {target!r} is {schema.kind(target).value} and is never released; pick "
            "another target column."
        )
    kept = [c for c in schema.columns if c.name not in dropped]
    if not kept:
        raise InvalidDataError("Every column is id-like or ignored; there is nothing to release.")
    table = data[[c.name for c in kept]]
    kept_schema = Schema(tuple(kept))
    n_holdout = max(int(round(holdout_fraction * len(table))), MIN_HOLDOUT_ROWS)
    if len(table) < 2 * n_holdout:
        raise InvalidDataError(
            f"The table has {len(table)} rows; share needs at least {2 * MIN_HOLDOUT_ROWS} "
            "(a holdout is split off for the privacy checks)."
        )
    order = np.random.default_rng(random_state).permutation(len(table))
    holdout = table.iloc[np.sort(order[:n_holdout])].reset_index(drop=True)
    train = table.iloc[np.sort(order[n_holdout:])].reset_index(drop=True)

    params = {"random_state": random_state, "verbose": verbose, "schema": kept_schema}
    if epsilon is not None:  # the target's pairs are all measured (Synthesizer's target)
        params.update(
            private_params(epsilon), delta=delta, public_domain=public_domain, target=target
        )
    params.update(synthesizer_params or {})
    model = Synthesizer(**params).fit(train)
    if model.privacy_ is not None:
        # share passes the schema it resolved; whether its kinds were read from the data is ours
        model.privacy_["schema_supplied"] = schema_given
    n_release = n_rows if n_rows is not None else len(train)
    checked = model.sample(max(n_release, GATE_MIN_ROWS), random_state=0)
    synthetic = checked.iloc[:n_release].reset_index(drop=True)  # sampled rows are exchangeable
    report = evaluate(train, checked, holdout=holdout, target=target, schema=kept_schema)
    checks = privacy_checks(
        report, max_dcr_share=max_dcr_share, max_mia_auc=max_mia_auc,
        max_copy_excess=max_copy_excess,
    )  # fmt: skip
    passed = all(c.passed for c in checks)
    released = passed or force

    report_dir = _owner_only_dir(report_dir)
    report.to_json(report_dir / "scores.json")
    report.to_html(report_dir / "report.html")
    model.save(report_dir / "model.synthgan")
    write_table(holdout, report_dir / "holdout.parquet")

    privacy = model.privacy_
    result = ShareResult(
        checks=checks, released=released, forced=force and not passed,
        release_dir=release_dir, report_dir=report_dir, model_card="",
        n_train=len(train), n_holdout=len(holdout), n_synthetic=len(synthetic),
        epsilon_spent=None if privacy is None else privacy["epsilon_spent"],
        dropped_columns=dropped, n_checked=len(checked),
    )  # fmt: skip
    result.model_card = model_card(model, result, source_name=source_name)
    write_text(result.model_card, report_dir / "MODEL_CARD.md")
    if released:
        release_dir.mkdir(parents=True, exist_ok=True)
        write_table(synthetic, release_dir / "synthetic.parquet")
        write_text(result.model_card, release_dir / "MODEL_CARD.md")
    return result


def _code(name: object) -> str:
    """A column name as Markdown inline code that no name can break: a name that does not print
    on one line is written with its escapes (``shown_name``), and the fence is one backtick
    longer than the longest run of backticks inside it (CommonMark), padded by a space where the
    name starts or ends with one."""
    text = shown_name(str(name))
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _marginals_lines(marginals: dict | None) -> list[str]:
    if not marginals:
        return []
    pairs = ", ".join(f"{_code(a)} x {_code(b)}" for a, b in marginals["pairs"])
    used = (
        "Released rows are drawn from the generator and kept so that their pair shares match "
        "the noisy counts (post-processing, no further budget)."
        if marginals["used"]
        else "The generator's rows already matched them as closely, so no rows are dropped for them."
    )
    tuning = marginals.get("tuning")  # model files before format 6's tuning lack it
    tuned = (
        f" After DP-SGD the generator took {tuning['steps']} steps towards the noisy counts "
        f"(divergence {tuning['divergence_first_step']:.3f} -> "
        f"{tuning['divergence_last_step']:.3f}; post-processing, no further budget)."
        if tuning and tuning.get("steps")
        else ""
    )
    hub = marginals.get("measured_against")  # None, or absent in earlier model files
    chosen = (
        f"They pair {_code(hub)} (the target) with every other column, then add the strongest "
        "other pairs in rows the trained generator drew, not in the real rows"
        if hub
        else "The pairs were chosen from rows the trained generator drew, not from the real rows"
    )
    return [
        f"- Two-way counts of {len(marginals['pairs'])} column pairs ({marginals['cells']:,} "
        f"cells), Gaussian noise of standard deviation {marginals['noise_sd']:.1f} rows per "
        f"cell, part of the same budget: {pairs}. {chosen}.{tuned} {used}"
    ]


def _public_domain_lines(public_domain: dict | None) -> list[str]:
    """The facts the owner declared public: not read from the data, so not covered by epsilon."""
    from synthgan.transform.derived import derivation_from_dict

    categories = (public_domain or {}).get("categories") or {}
    bounds = (public_domain or {}).get("bounds") or {}
    derived = (public_domain or {}).get("derived") or []
    if not categories and not bounds and not derived:
        return []
    given = [f"the categories of {_code(column)}" for column in categories]
    for column, (low, high) in bounds.items():
        given.append(f"the bounds of {_code(column)} ({float(low):g} to {float(high):g})")
    for state in derived:  # checked by the fit
        relation = derivation_from_dict({"numeric_source": False, **state})
        given.append(f"the relation {relation.describe(_code)} (computed, not learnt)")
    return [
        "- Declared public by the data owner and taken as given, not read from the data (no "
        "budget spent; the guarantee assumes they are public): " + "; ".join(given) + "."
    ]


def _fmt(value: float) -> str:
    return f"{value:.4f}"


def model_card(model, result: ShareResult, *, source_name: str) -> str:
    """The release's MODEL_CARD.md: what was trained, the guarantee, each check."""
    privacy = model.privacy_
    lines = [
        "# Model card: synthetic data release",
        "",
        f"Generated by synthgan {__version__} on {_dt.date.today().isoformat()} from "
        f"{source_name}.",
        "",
        "## What was trained",
        "",
        f"- Model: conditional tabular GAN (synthgan `Synthesizer`), loss `{model.loss}`, "
        f"{model.epochs_trained_} epochs, batch size {model.batch_size}, pac {model.pac}.",
        f"- Trained on {result.n_train:,} rows; {result.n_holdout:,} further rows were held out "
        "and used only for the privacy checks below.",
        f"- Released: {result.n_synthetic:,} synthetic rows, columns: "
        + ", ".join(_code(c) for c in model.transformer_.output_columns)
        + ".",
    ]
    if result.dropped_columns:
        lines.append(
            "- Not released (id-like or ignored columns, never copied): "
            + ", ".join(_code(c) for c in result.dropped_columns)
            + "."
        )
    lines += ["", "## Privacy guarantee", ""]
    if privacy is None:
        lines += [
            "**No formal guarantee.** The model was trained without differential privacy "
            "(`--no-dp`). A GAN can reproduce training rows; the checks below look for that but "
            "prove nothing.",
        ]
    else:
        plan = privacy["plan"]
        lines += [
            f"**Differential privacy: (epsilon = {privacy['epsilon_spent']:.3f}, delta = "
            f"{privacy['delta']:.2e})** spent (target epsilon {privacy['epsilon_target']:g}); the "
            "privacy unit is one row of the training table.",
            "",
            f"- Critic trained with DP-SGD: {privacy['sampling']}, sampling rate "
            f"{plan['sample_rate']:.4g}, {privacy['steps_taken']} steps, clipping "
            f"{privacy['clipping']}, noise multiplier {plan['noise_multiplier']:.3f}. The "
            "generator learns only through the critic.",
            "- Category lists, category frequencies, numeric bounds and modes come from one noisy "
            f"histogram (noise multiplier {plan['stats_noise_multiplier']:.3f}), part of the same "
            "budget.",
            *_marginals_lines(privacy.get("marginals")),
            *_public_domain_lines(model.public_domain),
            f"- Accountant: {privacy['accountant']}.",
            "- Not covered by epsilon: the number of rows, the column names and kinds"
            + ("" if privacy.get("schema_supplied") else " (inferred from the data)")
            + ", and the three check results below, which are computed on the real rows.",
        ]
    lines += [
        "",
        "## Privacy checks (against the held-out rows)",
        "",
        f"The checks looked at {result.n_checked:,} rows drawn from the model; the released rows "
        "are a uniform subset of them.",
        "",
        "| check | threshold | value | 95% CI | result |",
        "|---|---|---:|---|---|",
    ]
    for check in result.checks:
        lines.append(
            f"| `{check.name}` | {check.rule} | {_fmt(check.value)} | "
            f"{_fmt(check.ci[0])} to {_fmt(check.ci[1])} | {'pass' if check.passed else 'FAIL'} |"
        )
    lines.append("")
    if result.passed:
        lines.append("Every check passed.")
    else:
        lines.append(
            "**A check failed and the release was forced (`--force`)**: "
            + result.failure_reason()
            + "."
        )
    lines += [
        "",
        "dcr_share: share of synthetic rows closer to a training row than to a held-out row "
        "(0.5 ideal). mia_auc: ROC AUC of a distance-based membership attack (0.5: it fails, "
        "which does not prove nothing leaks). exact_copy_rate: share of synthetic rows equal to a "
        "training row, against the held-out rows' own rate. Definitions: synthgan docs/metrics.md.",
        "",
    ]
    return "\n".join(lines)
