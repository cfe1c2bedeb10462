"""``synthgan evaluate``: score a synthetic table against the real one (registered in synthgan.cli)."""

from __future__ import annotations

from pathlib import Path

import click

from synthgan.cli_common import (
    CONTEXT_SETTINGS,
    load_schema,
    reports_errors,
    schema_option,
    source_argument,
)
from synthgan.exceptions import InvalidDataError

output_path = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.command("evaluate", context_settings=CONTEXT_SETTINGS)
@click.argument("real", callback=source_argument)
@click.argument("synthetic", callback=source_argument)
@click.option(
    "--holdout",
    callback=source_argument,
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
              help="Read REAL, SYNTHETIC and --holdout (Parquet files or folders) in chunks: "
              "fidelity over every row, closest-record distances to every real row, the other "
              "metrics on uniform samples (docs/scale.md).")
@click.option("--sample-rows", type=click.IntRange(min=1), default=None,
              help="With --stream: rows of each table the sampled metrics see [default: 100000].")
@schema_option
@reports_errors
def evaluate_command(
    real: Path | str,
    synthetic: Path | str,
    holdout: Path | str | None,
    target: str | None,
    json_path: Path | None,
    report_path: Path | None,
    random_state: int,
    stream: bool,
    sample_rows: int | None,
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
      synthgan evaluate train_parts/ synthetic_parts/ --holdout test_parts/ --json scores.json
      synthgan evaluate s3://bucket/train/ synthetic.parquet --json scores.json
    """
    sources = (real, synthetic, holdout)
    if stream or any(isinstance(p, str) or p is not None and p.is_dir() for p in sources):
        return _evaluate_streamed(real, synthetic, holdout, target, json_path, report_path,
                                  random_state, sample_rows, schema_path)  # fmt: skip
    if sample_rows is not None:
        raise InvalidDataError("--sample-rows goes with --stream. Add --stream, or drop it.")
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


def _evaluate_streamed(real, synthetic, holdout, target, json_path, report_path, random_state,
                       sample_rows, schema_path):  # fmt: skip
    import json

    from synthgan.evaluate.streamed import SAMPLE_ROWS, evaluate_sources
    from synthgan.io import write_text

    if target is not None and holdout is None:
        raise InvalidDataError("--target needs --holdout (the real rows the utility model is "
                               "tested on). Add --holdout, or drop --target.")  # fmt: skip
    scores = evaluate_sources(real, synthetic, holdout=holdout, target=target,
                              schema=load_schema(schema_path), random_state=random_state,
                              sample_rows=sample_rows or SAMPLE_ROWS,
                              report_path=report_path)  # fmt: skip
    sampled = scores["sampled"]["metrics"]
    for name, value in scores.items():
        if not isinstance(value, dict):
            where = "sampled" if name in sampled else "every row"
            click.echo(f"{name:<22}{value:.4f}  ({where})")
    closest = scores["closest_record"]
    click.echo(f"closest real row, over all {closest['real_rows']:,} real rows, of "
               f"{closest['synthetic_rows_sampled']:,} synthetic rows: "
               f"dcr_p5 {closest['dcr_p5']:.4f}, "
               f"exact copies {closest['exact_copy_rate']:.4f}")  # fmt: skip
    if json_path is not None:
        write_text(json.dumps(scores, indent=2), json_path)
        click.echo(f"Wrote the scores to {json_path}", err=True)
    if report_path is not None:
        click.echo(f"Wrote the report of the samples to {report_path}", err=True)
