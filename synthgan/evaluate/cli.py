"""``synthgan evaluate``: score a synthetic table against the real one (registered in synthgan.cli)."""

from __future__ import annotations

from pathlib import Path

import click

from synthgan.cli_common import CONTEXT_SETTINGS, load_schema, reports_errors, schema_option

input_path = click.Path(exists=True, dir_okay=False, path_type=Path)
output_path = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.command("evaluate", context_settings=CONTEXT_SETTINGS)
@click.argument("real", type=click.Path(exists=True, path_type=Path))
@click.argument("synthetic", type=click.Path(exists=True, path_type=Path))
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
@click.option("--stream", is_flag=True,
              help="Read REAL and SYNTHETIC (Parquet files or folders) in chunks: fidelity over "
              "every row, closest-record distances to every real row (docs/scale.md).")
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
    stream: bool,
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
      synthgan evaluate train_parts/ synthetic_parts/ --stream --json scores.json
    """
    if stream or real.is_dir() or synthetic.is_dir():
        return _evaluate_streamed(real, synthetic, json_path, random_state, schema_path,
                                  unsupported={"--holdout": holdout, "--target": target,
                                               "--report": report_path})  # fmt: skip
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


def _evaluate_streamed(real, synthetic, json_path, random_state, schema_path, unsupported):
    import json

    from synthgan.evaluate.streamed import evaluate_sources
    from synthgan.exceptions import InvalidDataError
    from synthgan.io import write_text

    given = [option for option, value in unsupported.items() if value is not None]
    if given:
        raise InvalidDataError(
            f"{given[0]} is not supported by a streamed evaluation yet. Drop it, or evaluate "
            "tables that fit in memory without --stream."
        )
    scores = evaluate_sources(real, synthetic, schema=load_schema(schema_path),
                              random_state=random_state)  # fmt: skip
    for name, value in scores.items():
        if not isinstance(value, dict):
            click.echo(f"{name:<22}{value:.4f}")
    if json_path is not None:
        write_text(json.dumps(scores, indent=2), json_path)
        click.echo(f"Wrote the scores to {json_path}", err=True)
