"""``synthgan share``: fit, check and release a synthetic table (registered in synthgan.cli)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from synthgan.cli_common import CONTEXT_SETTINGS, load_schema, reports_errors, schema_option
from synthgan.share import HOLDOUT_FRACTION, MAX_COPY_EXCESS, MAX_DCR_SHARE, MAX_MIA_AUC

GATE_FAILED_EXIT = 3
"""Exit code when a privacy check fails and nothing is released."""


@click.command("share", context_settings=CONTEXT_SETTINGS)
@click.argument(
    "data", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="DATA"
)
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Release folder: receives synthetic.parquet and MODEL_CARD.md only.")  # fmt: skip
@click.option("--epsilon", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Train with differential privacy at this budget (e.g. 3).")  # fmt: skip
@click.option("--no-dp", is_flag=True,
              help="Train without differential privacy (no formal guarantee).")  # fmt: skip
@click.option("--delta", type=click.FloatRange(min=0, min_open=True), default=None,
              help="DP delta [default: min(1e-5, 1/(10 rows))].")  # fmt: skip
@click.option("--public-domain", "public_domain_path",
              type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="JSON file of facts known without the data, which cost no budget: "
              '{"categories": {"col": [values]}, "bounds": {"col": [low, high]}, '
              '"derived": [exact relations, docs/privacy.md]}.')  # fmt: skip
@click.option("--target", default=None,
              help="Column to predict: adds utility to the report; with --epsilon, the noisy "
              "two-way counts measure it against every other column.")  # fmt: skip
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Owner-only folder for report.html, scores.json, the model and the holdout "
              "[default: OUTPUT-internal beside the release].")  # fmt: skip
@click.option("--force", is_flag=True, help="Release even when a privacy check fails.")
@click.option("--max-dcr-share", type=float, default=MAX_DCR_SHARE, show_default=True,
              help="Fail when dcr_share's 95% CI lies wholly above this.")  # fmt: skip
@click.option("--max-mia-auc", type=float, default=MAX_MIA_AUC, show_default=True,
              help="Fail when mia_auc's 95% CI lies wholly above this.")  # fmt: skip
@click.option("--max-copy-excess", type=float, default=MAX_COPY_EXCESS, show_default=True,
              help="Fail when exact_copy_rate's 95% CI lies wholly above the holdout's own rate "
              "plus this.")  # fmt: skip
@click.option("--holdout-fraction", type=float, default=HOLDOUT_FRACTION, show_default=True,
              help="Share of rows held out for the checks.")  # fmt: skip
@click.option("--rows", "n_rows", type=click.IntRange(min=1), default=None,
              help="Synthetic rows to release [default: as many as the training rows].")  # fmt: skip
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Training epochs.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Rows per step.")
@schema_option
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or mps.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or messages.")
@reports_errors
def share_command(
    data: Path,
    output: Path,
    epsilon: float | None,
    no_dp: bool,
    delta: float | None,
    public_domain_path: Path | None,
    target: str | None,
    report_dir: Path | None,
    force: bool,
    max_dcr_share: float,
    max_mia_auc: float,
    max_copy_excess: float,
    holdout_fraction: float,
    n_rows: int | None,
    epochs: int | None,
    batch_size: int | None,
    schema_path: Path | None,
    seed: int,
    device: str,
    quiet: bool,
) -> None:
    """Train on DATA, check the synthetic rows for privacy, and release them with a model card.

    Choose --epsilon E (differential privacy) or --no-dp (no formal guarantee). A holdout is split
    off; the synthetic rows must pass dcr_share, mia_auc and exact_copy_rate checks against it,
    else nothing is written to OUTPUT and the exit code is 3 (--force releases anyway). The full
    evaluation goes to the owner-only --report-dir, never into OUTPUT.

    \b
    Example:
      synthgan share datasets/adult/train.parquet -o release/ --epsilon 3 --target income
      synthgan share data.parquet -o release/ --epsilon 1 --public-domain codebook.json
      synthgan share data.parquet -o release/ --no-dp --report-dir ~/private/run1
    """
    from synthgan.exceptions import InvalidDataError
    from synthgan.io import read_table
    from synthgan.share import share

    if (epsilon is None) == (not no_dp):
        raise InvalidDataError(
            "share needs exactly one of --epsilon E (differential privacy) and --no-dp (no formal "
            "guarantee). Example: synthgan share data.parquet -o release/ --epsilon 3"
        )
    params: dict = {"device": device}
    if epochs is not None:
        params["epochs"] = epochs
    if batch_size is not None:
        params["batch_size"] = batch_size
    result = share(
        read_table(data), output, epsilon=epsilon, no_dp=no_dp, delta=delta,
        public_domain=load_public_domain(public_domain_path), target=target,
        report_dir=report_dir, force=force, holdout_fraction=holdout_fraction,
        max_dcr_share=max_dcr_share, max_mia_auc=max_mia_auc, max_copy_excess=max_copy_excess,
        n_rows=n_rows, schema=load_schema(schema_path), synthesizer_params=params,
        random_state=seed, source_name=data.name, verbose=not quiet,
    )  # fmt: skip
    if not quiet:
        for check in result.checks:
            click.echo(
                f"{check.name:16s} {check.value:.4f}  CI [{check.ci[0]:.4f}, {check.ci[1]:.4f}]  "
                f"{'pass' if check.passed else 'FAIL'}",
                err=True,
            )
        click.echo(f"Internal report (owner only): {result.report_dir}", err=True)
    if not result.released:
        click.echo(
            f"Error: privacy check failed: {result.failure_reason()}. Nothing was written to "
            f"{output}; see {result.report_dir / 'report.html'}, or rerun with --force.",
            err=True,
        )
        sys.exit(GATE_FAILED_EXIT)
    guarantee = (
        "no formal guarantee"
        if result.epsilon_spent is None
        else f"epsilon {result.epsilon_spent:.3f} spent"
    )
    forced = " (FORCED past a failed check)" if result.forced else ""
    if not quiet:
        click.echo(
            f"Released {result.n_synthetic:,} rows to {output / 'synthetic.parquet'} with "
            f"{output / 'MODEL_CARD.md'} ({guarantee}){forced}",
            err=True,
        )


def load_public_domain(path: Path | None) -> dict | None:
    """The --public-domain file's dict; its keys and columns are checked by the private fit."""
    import json

    from synthgan.exceptions import InvalidDataError

    if path is None:
        return None
    try:
        public_domain = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidDataError(
            f"--public-domain {path}: not a readable JSON file ({error}). Write it as "
            '{"categories": {"col": ["a", "b"]}, "bounds": {"col": [0, 100]}}.'
        ) from None
    if not isinstance(public_domain, dict):
        raise InvalidDataError(
            f"--public-domain {path}: the file holds a JSON {type(public_domain).__name__}, not an "
            'object. Write it as {"categories": {"col": ["a", "b"]}, "bounds": {"col": [0, 100]}}.'
        )
    return public_domain


__all__ = ["share_command"]
