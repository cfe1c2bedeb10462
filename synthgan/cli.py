"""The ``synthgan`` command line: thin wrappers that parse, call the library and report."""

from __future__ import annotations

import os
import re
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
    source_argument,
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
@click.option("--rules-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the rules that hold on every row to this JSON file, to edit and pass "
              "to `synthgan fit --rules`.")  # fmt: skip
@reports_errors
def inspect(data: Path, schema_path: Path | None, as_json: bool, rules_out: Path | None) -> None:
    """Show the kind synthgan gives each column of DATA (Parquet, CSV or Feather), the exact
    relations between columns, and the rules that hold on every row.

    \b
    Example:
      synthgan inspect datasets/adult/train.parquet
      synthgan inspect data.csv --json > schema.json   # edit, then pass --schema schema.json
      synthgan inspect data.parquet --rules-out rules.json   # then: fit --rules rules.json
    """
    from synthgan.io import check_writable, read_table
    from synthgan.rules.discover import discover_rules
    from synthgan.schema import describe, resolve_schema
    from synthgan.transform.composition import find_compositions
    from synthgan.transform.derived import find_derivations

    df = read_table(data)
    schema = resolve_schema(df, load_schema(schema_path))
    if rules_out is not None:
        check_writable(rules_out)
    rules = discover_rules(df, schema) if rules_out is not None or not as_json else []
    if rules_out is not None:
        from synthgan.io import atomic_path
        from synthgan.rules import rules_to_json

        with atomic_path(rules_out) as tmp:
            Path(tmp).write_text(rules_to_json(rules) + "\n")
        click.echo(f"Wrote {len(rules)} rule(s) to {rules_out}", err=True)
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
    compositions = find_compositions(df, schema, exclude={r.target for r in relations})
    if compositions:
        click.echo("\nParts of a whole, their row sum kept within the training range (a fit "
                   "moves a synthetic row's parts back into it; docs/transform.md):")  # fmt: skip
        for composition in compositions:
            click.echo(f"  {composition.describe()}")
    if rules:
        click.echo("\nRules that hold on every row (write them with --rules-out rules.json, "
                   "then synthgan fit --rules rules.json; docs/rules.md):")  # fmt: skip
        for rule in rules:
            click.echo(f"  {rule}")


quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bars or messages.")
seed_option = click.option(
    "--seed", type=int, default=None, help="Random seed (reproducible runs)."
)


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("data", callback=source_argument, metavar="DATA")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Model file to write [default: DATA's name with the suffix .synthgan].",
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
@click.option("--nproc", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes training data-parallel on this machine (torchrun; gloo on CPU, "
              "NCCL on GPUs), each on 1/N of the rows; --batch-size is split among them.")
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
    nproc: int,
    quiet: bool,
) -> None:
    """Train a synthesizer on DATA (Parquet, CSV or Feather, or a folder of Parquet files,
    local or at an address such as s3://bucket/table/) and save it as one model file.

    Ctrl-C stops training early: the model trained so far is saved and the exit code is 130.
    Under torchrun (or --nproc N) every process runs this command; rank 0 writes the model.

    \b
    Example:
      synthgan fit datasets/adult/train.parquet -o adult.synthgan --epochs 50 --seed 0
      synthgan fit data.parquet --rules rules.json   # see docs/rules.md
      synthgan fit data.parquet --nproc 2            # = torchrun --nproc-per-node 2 -m synthgan.cli fit data.parquet
      synthgan fit parquet_folder/ -o big.synthgan --stream --max-minutes 30
    """
    from synthgan.io import check_writable, read_table, source_bytes
    from synthgan.model import Synthesizer
    from synthgan.model.streamed import STREAM_MIN_BYTES, Streaming

    remote = isinstance(data, str)  # an address on another filesystem
    name = Path(data.rstrip("/").rsplit("/", 1)[-1]) if remote else data
    output = check_writable(output or name.with_suffix(".synthgan"))
    if remote and stream is False:
        fail(f"{data}: a table on another filesystem is read in record batches. Drop "
             "--in-memory, or copy the table here first.")
    if nproc > 1 and int(os.environ.get("WORLD_SIZE", "1")) < 2:
        given = {"--schema": schema_path, "--rules": rules_path, "--epochs": epochs,
                 "--batch-size": batch_size, "--max-minutes": max_minutes, "--seed": seed,
                 "--shard-dir": shard_dir}  # fmt: skip
        args = [str(data), "-o", str(output), "--on-violation", on_violation, "--device", device]
        if stream is not None:
            args.append("--stream" if stream else "--in-memory")
        args += [part for name, value in given.items() if value is not None
                 for part in (name, str(value))]  # fmt: skip
        sys.exit(launch_torchrun(nproc, args + (["--quiet"] if quiet else [])))
    parquet = name.suffix.lower() in (".parquet", ".pq")
    if stream and not (parquet or remote or data.is_dir()):
        fail(f"{data}: a streamed fit reads Parquet only. Convert it to Parquet, or drop --stream.")
    streamed = remote or stream is not False and (
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
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # one process of torchrun / --nproc
        from synthgan.model.distributed import fit_in_group

        summary = fit_in_group(source, output, params, stream=how)
        if summary["rank"] == 0 and not quiet:
            click.echo(
                f"Trained on {summary['rows']:,} rows in {summary['world_size']} processes for "
                f"{summary['epochs_trained']} epochs in {summary['fit_seconds']:.0f} s; "
                f"saved {output}",
                err=True,
            )
        return
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


def launch_torchrun(nproc: int, args: list[str]) -> int:
    """Run ``synthgan fit ARGS`` as ``nproc`` processes under torchrun on this machine
    (rendezvous on the loopback); returns torchrun's exit code."""
    import subprocess

    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc-per-node={nproc}", "-m", "synthgan.cli", "fit", *args]  # fmt: skip
    return subprocess.call(command)


_TWO_SIDED = re.compile(r"^([^<>=]+?)\s*(<=|<)\s*([^<>=]+?)\s*(<=|<)\s*([^<>=]+)$")
_ONE_SIDED = re.compile(r"^([^<>=]+?)\s*(>=|<=|==|>|<|=)\s*(.*)$")


def parse_where(items: tuple[str, ...]) -> dict:
    """``--where`` items -> a conditions dict: ``col=value``, ``col=a,b`` (any of),
    ``col=low..high``, ``col>=30``, ``col<65``, ``30<=col<65`` (numbers parsed where possible;
    dates stay text and are read by the column)."""
    from synthgan.exceptions import InvalidDataError
    from synthgan.model.conditions import Between

    def number(text: str):
        text = text.strip()
        for cast in (int, float):
            try:
                return cast(text)
            except ValueError:
                pass
        return text

    conditions = {}
    for item in items:
        two = _TWO_SIDED.match(item)
        one = _ONE_SIDED.match(item)
        if two:
            low, low_op, column, high_op, high = two.groups()
            value = Between(number(low), number(high), low_op == "<", high_op == "<")
        elif one and one.group(1).strip() and one.group(3).strip():
            column, op, text = one.groups()
            if op in ("=", "=="):
                if ".." in text:
                    low, _, high = text.partition("..")
                    value = Between(number(low) if low.strip() else None,
                                    number(high) if high.strip() else None)  # fmt: skip
                elif "," in text:
                    value = [number(part) for part in text.split(",")]
                else:
                    value = number(text)
            elif op[0] == ">":
                value = Between(low=number(text), low_strict=op == ">")
            else:
                value = Between(high=number(text), high_strict=op == "<")
        else:
            raise InvalidDataError(
                f"--where {item!r}: write it as column=value, column=a,b, column=low..high, "
                "column>=low, column<high or low<=column<high."
            )
        column = column.strip()
        if column in conditions:
            raise InvalidDataError(f"--where: column {column!r} is given twice; give one range.")
        conditions[column] = value
    return conditions


def parse_distribution(text: str | None) -> dict | None:
    """``sex=Female:0.5,Male:0.5`` -> ``{"sex": {"Female": 0.5, "Male": 0.5}}``."""
    if text is None:
        return None
    from synthgan.exceptions import InvalidDataError

    column, sep, pairs = text.partition("=")
    shares = {}
    for pair in pairs.split(","):
        value, colon, share = pair.rpartition(":")
        try:
            shares[value] = float(share)
        except ValueError:
            colon = ""
        if not sep or not colon or not value:
            raise InvalidDataError(
                f"--distribution {text!r}: write it as column=value:share,value:share, e.g. "
                "sex=Female:0.5,Male:0.5."
            )
    return {column.strip(): shares}


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                metavar="MODEL")  # fmt: skip
@click.option(
    "-n", "--rows", "n", type=click.IntRange(min=0), default=None,
    help="Rows to generate (required without --conditions).",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Table to write (.parquet, .csv or .feather), or a directory (a path ending in / "
              "or without a suffix) for partitioned Parquet written by several processes.")  # fmt: skip
@seed_option
@click.option("--where", multiple=True, metavar="CONDITION",
              help="Condition every row meets, repeatable: sex=Female, race=Black,White, "
              "age=30..40, 'age>=30', '30<=age<65', 'day>=2020-01-01'.")
@click.option("--conditions", "conditions_path",
              type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Table of conditions: one row generated per row of it, meeting its values "
              "(an empty cell leaves the column free); -n may be left out.")
@click.option("--distribution", default=None, metavar="COL=VALUE:SHARE,...",
              help="Rebalance one categorical column: sex=Female:0.5,Male:0.5.")  # fmt: skip
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or mps.")
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="Processes writing a directory [default: one per core, one per chunk at most].")
@click.option("--chunk-rows", type=click.IntRange(min=1), default=None,
              help="Rows per part file of a directory [default: 250,000]; the rows depend on it, "
              "not on --processes.")  # fmt: skip
@click.option("--reach-bounds/--no-reach-bounds", "reach_bounds", default=None,
              help="Move each numeric column's smallest and largest sampled value onto the "
              "training minimum and maximum [default: when -n is at least the rows trained on, "
              "without conditions or rules].")  # fmt: skip
@quiet_option
@reports_errors
def sample(
    model_path: Path,
    n: int,
    output: Path,
    seed: int | None,
    where: tuple[str, ...],
    conditions_path: Path | None,
    distribution: str | None,
    device: str,
    processes: int | None,
    chunk_rows: int | None,
    reach_bounds: bool | None,
    quiet: bool,
) -> None:
    """Generate rows from a MODEL file written by `synthgan fit`.

    \b
    Example:
      synthgan sample adult.synthgan -n 10000 -o synthetic.parquet --seed 1
      synthgan sample adult.synthgan -n 500 -o women.csv --where sex=Female --where '30<=age<65'
      synthgan sample adult.synthgan -o seeded.parquet --conditions seeds.csv
      synthgan sample adult.synthgan -n 1000 -o even.csv --distribution sex=Female:0.5,Male:0.5
      synthgan sample adult.synthgan -n 100000000 -o synthetic/ --seed 1   # part-00000.parquet, ...
    """
    from synthgan.exceptions import InvalidDataError
    from synthgan.io import check_writable, read_table, table_format, write_table
    from synthgan.model import load

    conditions = parse_where(where)
    shares = parse_distribution(distribution)
    if conditions_path is not None:
        if conditions:
            raise InvalidDataError("Give either --where or --conditions, not both.")
        conditions = read_table(conditions_path)
    elif n is None:
        raise InvalidDataError("-n/--rows is required (or --conditions, one row per row of it).")
    if str(output).endswith(("/", os.sep)) or not output.suffix:  # a directory of parts
        if conditions_path is not None or shares is not None:
            raise InvalidDataError(
                "--conditions and --distribution write one file; give -o a file name such as "
                "synthetic.parquet."
            )
        from synthgan.model.partitions import CHUNK_ROWS, sample_to_directory

        sample_to_directory(
            model_path, output, n, random_state=seed, chunk_rows=chunk_rows or CHUNK_ROWS,
            processes=processes, conditions=conditions or None,
            device="cpu" if device == "auto" else device, reach_bounds=reach_bounds,
        )  # fmt: skip
        if not quiet:
            click.echo(f"Wrote {n:,} rows to {output}/ (partitioned Parquet)", err=True)
        return
    fmt = table_format(output)
    check_writable(output)
    model = load(model_path, device=device)
    model.verbose = not quiet
    if fmt == "parquet" and conditions_path is None and shares is None:
        model.sample_to_parquet(output, n, conditions=conditions, random_state=seed,
                                reach_bounds=reach_bounds)  # fmt: skip
        written = n
    else:
        if isinstance(conditions, dict) and not conditions:
            conditions = None
        rows = model.sample(n, conditions, distribution=shares, random_state=seed,
                            reach_bounds=reach_bounds)  # fmt: skip
        write_table(rows, output)
        written = len(rows)
    if not quiet:
        click.echo(f"Wrote {written:,} rows to {output}", err=True)


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                metavar="MODEL")  # fmt: skip
@input_table
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Table to write (.parquet, .csv or .feather).")  # fmt: skip
@seed_option
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or mps.")
@quiet_option
@reports_errors
def impute(
    model_path: Path, data: Path, output: Path, seed: int | None, device: str, quiet: bool
) -> None:
    """Fill the empty cells of DATA with values a MODEL draws given each row's known cells.

    Known cells are written back untouched; columns the model does not know are copied.

    \b
    Example:
      synthgan impute adult.synthgan partial.parquet -o completed.parquet --seed 0
    """
    from synthgan.io import check_writable, read_table, write_table
    from synthgan.model import load

    check_writable(output)
    table = read_table(data)
    model = load(model_path, device=device)
    model.verbose = not quiet
    filled = model.impute(table, random_state=seed)
    write_table(filled, output)
    if not quiet:
        before = int(table.isna().sum().sum())
        after = int(filled.isna().sum().sum())
        click.echo(f"Filled {before - after:,} of {before:,} empty cells; wrote {output}", err=True)


# evaluate lives with the evaluator, share with sharing; both use cli_common's helpers
main.add_command(evaluate_command)
main.add_command(share_command)

if __name__ == "__main__":  # pragma: no cover
    main()
