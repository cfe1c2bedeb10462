"""The ``synthgan`` command line: thin wrappers that parse, call the library and report."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from synthgan._version import __version__
from synthgan.exceptions import SynthganError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def reports_errors(command):
    """Turn every SynthganError into one line on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except SynthganError as exc:
            fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    return wrapper


input_table = click.argument(
    "data", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="DATA"
)
schema_option = click.option(
    "--schema",
    "schema_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file overriding column kinds, e.g. "
    '{"columns": [{"name": "zip", "kind": "discrete"}, {"name": "notes", "kind": "ignored"}]}.',
)


def load_schema(schema_path: Path | None):
    from synthgan.schema import Schema

    return None if schema_path is None else Schema.from_json(schema_path)


@click.group(context_settings=CONTEXT_SETTINGS)
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

    df = read_table(data)
    schema = resolve_schema(df, load_schema(schema_path))
    if as_json:
        click.echo(schema.to_json())
        return
    click.echo(f"{data}: {len(df):,} rows, {len(df.columns)} columns")
    click.echo(describe(df, schema).to_string(index=False))


if __name__ == "__main__":  # pragma: no cover
    main()
