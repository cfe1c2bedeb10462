"""The ``synthgan`` command line: thin wrappers that parse, call the library and report."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from synthgan._version import __version__
from synthgan.cli_common import (
    CONTEXT_SETTINGS,
    fail,
    input_table,
    load_schema,
    reports_errors,
    schema_option,
)
from synthgan.evaluate.cli import evaluate_command
from synthgan.share_cli import share_command


class SynthganGroup(click.Group):
    """A click group whose usage errors are one line on stderr with exit code 1, like the rest."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            fail(exc.format_message().splitlines()[0])
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=SynthganGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="synthgan")
def main() -> None:
    """Learn a table and generate realistic synthetic rows of it.

    \b
    Examples:
      synthgan inspect data.parquet
      synthgan fit data.parquet -o model.synthgan
      synthgan sample model.synthgan -n 1000 -o synthetic.parquet
    """


@main.command(context_settings=CONTEXT_SETTINGS)
@input_table
@schema_option
@click.option(
    "--json", "as_json", is_flag=True, help="Print the schema as JSON instead of a table."
)
@reports_errors
def inspect(data: Path, schema_path: Path | None, as_json: bool) -> None:
    """Show the kind synthgan gives each column of DATA (Parquet, CSV or Feather).

    \b
    Example:
      synthgan inspect datasets/adult/train.parquet
      synthgan inspect data.csv --json > schema.json   # edit, then pass --schema schema.json
    """
    from synthgan.io import read_table
    from synthgan.schema import describe, resolve_schema
    from synthgan.transform.derived import find_derivations

    df = read_table(data)
    schema = resolve_schema(df, load_schema(schema_path))
    if as_json:
        click.echo(schema.to_json())
        return
    click.echo(f"{data}: {len(df):,} rows, {len(df.columns)} columns")
    click.echo(describe(df, schema).to_string(index=False))
    relations = find_derivations(df, schema)
    if relations:
        click.echo("\nExact relations on every row (a fit computes these columns from their "
                   "sources; docs/transform.md):")  # fmt: skip
        for relation in relations:
            click.echo(f"  {relation.describe()}")


quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bars or messages.")
seed_option = click.option(
    "--seed", type=int, default=None, help="Random seed (reproducible runs)."
)


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("data", type=click.Path(exists=True, path_type=Path), metavar="DATA")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Model file to write [default: DATA with the suffix .synthgan].",
)  # fmt: skip
@click.option("--stream/--in-memory", "stream", default=None,
              help="Read Parquet DATA in record batches into shards on disk (memory bounded "
              "whatever the rows; docs/scale.md), or whole. [default: streamed from 1 GiB]")
@click.option("--shard-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Folder for a streamed fit's shards [default: the system's "
              "temporary folder].")  # fmt: skip
@schema_option
@click.option("--rules", "rules_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="JSON file of rules every sampled row meets (docs/rules.md), "
              'e.g. {"rules": [{"rule": "inequality", "columns": ["start", "end"]}]}.')
@click.option("--on-violation", type=click.Choice(["drop", "keep", "error"]), default="drop",
              show_default=True, help="Training rows that break a rule: leave out, keep, or stop.")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Training epochs.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Rows per step.")
@click.option("--max-minutes", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop training after this many minutes.")  # fmt: skip
@seed_option
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or mps.")
@quiet_option
@reports_errors
def fit(
    data: Path,
    output: Path | None,
    stream: bool | None,
    shard_dir: Path | None,
    schema_path: Path | None,
    rules_path: Path | None,
    on_violation: str,
    epochs: int | None,
    batch_size: int | None,
    max_minutes: float | None,
    seed: int | None,
    device: str,
    quiet: bool,
) -> None:
    """Train a synthesizer on DATA (Parquet, CSV or Feather, or a folder of Parquet files)
    and save it as one model file.

    Ctrl-C stops training early: the model trained so far is saved and the exit code is 130.

    \b
    Example:
      synthgan fit datasets/adult/train.parquet -o adult.synthgan --epochs 50 --seed 0
      synthgan fit data.parquet --rules rules.json   # see docs/rules.md
      synthgan fit parquet_folder/ -o big.synthgan --stream --max-minutes 30
    """
    from synthgan.io import check_writable, read_table, source_bytes
    from synthgan.model import Synthesizer
    from synthgan.model.streamed import STREAM_MIN_BYTES, Streaming

    output = check_writable(output or data.with_suffix(".synthgan"))
    parquet = data.suffix.lower() in (".parquet", ".pq")
    if stream and not (parquet or data.is_dir()):
        fail(f"{data}: a streamed fit reads Parquet only. Convert it to Parquet, or drop --stream.")
    streamed = stream is not False and (
        data.is_dir() or bool(stream) or shard_dir is not None
        or (parquet and source_bytes(data) >= STREAM_MIN_BYTES)
    )  # fmt: skip
    if streamed:
        source, how = data, Streaming(shard_dir=None if shard_dir is None else str(shard_dir))
    elif data.is_dir():
        source, how = data, False  # --in-memory on a folder: read whole
    else:
        source, how = read_table(data), None
    params = {"schema": load_schema(schema_path), "random_state": seed, "device": device,
              "verbose": not quiet, "max_minutes": max_minutes}  # fmt: skip
    if rules_path is not None:
        from synthgan.rules import load_rules

        params["rules"], params["on_violation"] = load_rules(rules_path), on_violation
    if epochs is not None:
        params["epochs"] = epochs
    if batch_size is not None:
        params["batch_size"] = batch_size
    with warnings.catch_warnings(record=True) as caught:  # rows left out by rules: one line
        warnings.simplefilter("always", UserWarning)
        model = Synthesizer(**params).fit(source, stream=how)
    for warning in caught:
        click.echo(f"Warning: {warning.message}", err=True)
    model.save(output)
    if model.interrupted_:
        click.echo(
            f"Interrupted after {model.epochs_trained_} epoch(s); saved the model trained so far "
            f"to {output}",
            err=True,
        )
        sys.exit(130)
    if not quiet:
        click.echo(
            f"Trained on {model.rows_trained_:,} rows for {model.epochs_trained_} epochs in "
            f"{model.fit_seconds_:.0f} s; saved {output}",
            err=True,
        )


def parse_where(items: tuple[str, ...]) -> dict:
    """``col=value`` or ``col=low..high`` -> conditions dict (numbers parsed where possible)."""
    from synthgan.exceptions import InvalidDataError

    def number(text: str):
        for cast in (int, float):
            try:
                return cast(text)
            except ValueError:
                pass
        return text

    conditions = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column:
            raise InvalidDataError(
                f"--where {item!r}: write it as column=value or column=low..high."
            )
        if ".." in value:
            low, _, high = value.partition("..")
            conditions[column] = (number(low), number(high))
        else:
            conditions[column] = value
    return conditions


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                metavar="MODEL")  # fmt: skip
@click.option(
    "-n", "--rows", "n", type=click.IntRange(min=0), required=True, help="Rows to generate."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Table to write (.parquet, .csv or .feather).")  # fmt: skip
@seed_option
@click.option("--where", multiple=True, metavar="COL=VALUE",
              help="Condition, repeatable: sex=Female, or a numeric range age=30..40.")  # fmt: skip
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or mps.")
@quiet_option
@reports_errors
def sample(
    model_path: Path,
    n: int,
    output: Path,
    seed: int | None,
    where: tuple[str, ...],
    device: str,
    quiet: bool,
) -> None:
    """Generate rows from a MODEL file written by `synthgan fit`.

    \b
    Example:
      synthgan sample adult.synthgan -n 10000 -o synthetic.parquet --seed 1
      synthgan sample adult.synthgan -n 500 -o women.csv --where sex=Female --where age=30..40
    """
    from synthgan.io import check_writable, table_format, write_table
    from synthgan.model import load

    conditions = parse_where(where)
    fmt = table_format(output)
    check_writable(output)
    model = load(model_path, device=device)
    model.verbose = not quiet
    if fmt == "parquet":
        model.sample_to_parquet(output, n, conditions=conditions, random_state=seed)
    else:
        write_table(model.sample(n, conditions, random_state=seed), output)
    if not quiet:
        click.echo(f"Wrote {n:,} rows to {output}", err=True)


# evaluate lives with the evaluator, share with sharing; both use cli_common's helpers
main.add_command(evaluate_command)
main.add_command(share_command)

if __name__ == "__main__":  # pragma: no cover
    main()
