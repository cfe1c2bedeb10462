"""``synthgan evaluate``: score a synthetic table against the real one (registered in synthgan.cli)."""

from __future__ import annotations

from pathlib import Path

import click

from synthgan.cli_common import CONTEXT_SETTINGS, load_schema, reports_errors, schema_option

input_path = click.Path(exists=True, dir_okay=False, path_type=Path)
output_path = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.command("evaluate", context_settings=CONTEXT_SETTINGS)
@click.argument("real", type=input_path)
@click.argument("synthetic", type=input_path)
@click.option(
    "--holdout",
    type=input_path,
    help="Real rows the model never saw; enables the privacy and utility metrics.",
)
@click.option("--target", help="Column to predict for the utility metrics (needs --holdout).")
@click.option("--json", "json_path", type=output_path, help="Write every score as JSON here.")
@click.option("--report", "report_path", type=output_path, help="Write the HTML report here.")
@click.option(
    "--random-state",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the subsamples, folds and bootstraps.",
)
@schema_option
@reports_errors
def evaluate_command(
    real: Path,
    synthetic: Path,
    holdout: Path | None,
    target: str | None,
    json_path: Path | None,
    report_path: Path | None,
    random_state: int,
    schema_path: Path | None,
) -> None:
    """Score SYNTHETIC against REAL (the training data): fidelity, utility and privacy.

    Prints a verdict per area (fidelity, utility, privacy) and a summary table where each
    figure stands beside its baseline, the value a fresh real sample gets (the holdout scored
    the same way); --json and --report write every score and a self-contained HTML page with
    plots.

    \b
    Example:
      synthgan evaluate train.parquet synthetic.parquet --holdout test.parquet \\
          --target income --json scores.json --report report.html
    """
    from synthgan.evaluate import evaluate
    from synthgan.evaluate.verdicts import format_verdicts
    from synthgan.io import read_table

    report = evaluate(
        read_table(real),
        read_table(synthetic),
        holdout=None if holdout is None else read_table(holdout),
        target=target,
        random_state=random_state,
        schema=load_schema(schema_path),
    )
    click.echo(format_verdicts(report.verdicts))
    click.echo()
    click.echo(report.summary().to_string(index=False))
    if "mia_auc" in report.scores:
        click.echo("mia_auc 0.5 means this attack fails, not that nothing leaks.")
    if json_path is not None:
        report.to_json(json_path)
        click.echo(f"Wrote the scores to {json_path}", err=True)
    if report_path is not None:
        report.to_html(report_path)
        click.echo(f"Wrote the report to {report_path}", err=True)
