"""What every ``synthgan`` subcommand shares: one-line errors, common options and arguments.

Kept apart from cli.py so that subcommands defined elsewhere (evaluate, share) can import it
without importing the command group that imports them.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

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


def source_argument(_ctx, _param, value: str | None) -> Path | str | None:
    """A table argument: an existing local path, or an address on another filesystem
    (``s3://...``, read in record batches)."""
    from synthgan.io import is_url

    if value is None or is_url(value):
        return value
    path = Path(value)
    if not path.exists():
        raise click.BadParameter(f"Path {value!r} does not exist.")
    return path
