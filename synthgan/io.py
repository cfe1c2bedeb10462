"""Reading and writing tables and files, with atomic writes."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pandas as pd

from synthgan.exceptions import InvalidDataError

TABLE_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".feather": "feather"}


def table_format(path: Path) -> str:
    """The format of a table file, from its suffix; a clear error for anything else."""
    fmt = TABLE_SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(TABLE_SUFFIXES))
        raise InvalidDataError(
            f"{path}: unknown table format {Path(path).suffix!r}. Use one of {known}."
        )
    return fmt


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a Parquet, CSV or Feather file into a DataFrame."""
    path = Path(path)
    fmt = table_format(path)
    if not path.is_file():
        raise InvalidDataError(f"{path}: no such file.")
    from pyarrow import ArrowException

    try:
        if fmt == "csv":
            return pd.read_csv(path)
        df = pd.read_parquet(path) if fmt == "parquet" else pd.read_feather(path)
        df = _integers_kept(df, path, fmt)
    except (OSError, ValueError, ArrowException) as exc:
        raise InvalidDataError(f"{path}: cannot read it as {fmt}: {_first_line(exc)}") from exc
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        # damaged pandas metadata in a Parquet/Feather footer fails inside pyarrow's conversion
        raise InvalidDataError(
            f"{path}: cannot read it as {fmt}: damaged metadata ({type(exc).__name__}: {exc})"
        ) from exc
    _check_arrow_columns(df, path, fmt)
    return df


def _integers_kept(df: pd.DataFrame, path: Path, fmt: str) -> pd.DataFrame:
    """``df`` read from the file ``path`` with :func:`integers_as_read`'s columns read again."""
    import pyarrow as pa
    import pyarrow.feather
    import pyarrow.parquet as pq

    schema = pq.read_schema(path) if fmt == "parquet" else pa.ipc.open_file(path).schema
    names = _floated_integers(df, schema)
    if not names:
        return df
    read = pq.read_table if fmt == "parquet" else pyarrow.feather.read_table
    return integers_as_read(df, read(path, columns=names))


def _floated_integers(df: pd.DataFrame, schema) -> list[str]:
    import numpy as np
    import pyarrow as pa

    return [f.name for f in schema if pa.types.is_integer(f.type)
            and list(df.columns).count(f.name) == 1 and df[f.name].dtype == np.float64]  # fmt: skip


def integers_as_read(df: pd.DataFrame, table) -> pd.DataFrame:
    """``df``, converted by pandas from the Arrow ``table`` (or from a table that holds these
    columns of it), with each integer column that pandas made float64 (it holds nulls, which
    numpy integers cannot; a pandas category column of integers with nulls comes back so too,
    since Parquet keeps it as plain integers) as pandas' nullable integer type of its width.
    Otherwise it would be modelled, and written back, as floating point, and integers beyond
    2**53 would lose digits."""
    import pyarrow as pa

    names = _floated_integers(df, table.schema)
    if not names:
        return df
    nullable = {getattr(pa, name.lower())(): getattr(pd, f"{name}Dtype")() for name in
                ("Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64")}  # fmt: skip
    df = df.copy()
    for name in names:  # by position: df may carry the index the file's pandas metadata names
        df[name] = table.column(name).to_pandas(types_mapper=nullable.get).array
    return df


def _check_arrow_columns(df: pd.DataFrame, path: Path, fmt: str) -> None:
    """Validate the columns pandas keeps in Arrow memory (its ``str`` dtype among them) now: a
    damaged Parquet page can hold text that is not UTF-8, which pyarrow reads without looking and
    which fails much later, wherever a value is first turned into a Python string. Checks each
    value once, in C, without copying."""
    from pyarrow import ArrowException

    arrow_backed = getattr(pd.arrays, "ArrowExtensionArray", ())
    for name in df.columns:
        values = df[name].array
        if not isinstance(values, arrow_backed):
            continue
        try:
            values.__arrow_array__().validate(full=True)  # the ChunkedArray pandas holds
        except ArrowException as exc:
            raise InvalidDataError(
                f"{path}: cannot read it as {fmt}: column {name!r} is damaged ({_first_line(exc)}). "
                "Write the file again from its source."
            ) from exc


def check_writable(path: str | os.PathLike) -> Path:
    """Fail now, before any long work, if ``path`` cannot be written (a folder in its place, a file
    where a parent folder should be, or a folder without write permission)."""
    path = Path(path)
    if path.is_dir():
        raise InvalidDataError(f"{path}: cannot write it: it is a folder. Give a file name.")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InvalidDataError(
                    f"{path}: cannot write it: {parent} is a file, not a folder. Choose another "
                    "output path."
                )
            if not os.access(parent, os.W_OK | os.X_OK):
                raise InvalidDataError(
                    f"{path}: cannot write it: no permission to write in {parent}. Choose an "
                    "output path in a folder you can write to."
                )
            break
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A crash or an exception leaves ``path`` as it was and removes the temporary file. An
    operating-system error (a folder that cannot be made, no permission, a full disk) becomes an
    :class:`InvalidDataError` naming ``path``.
    """
    path = Path(path)
    check_writable(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    finally:
        tmp.unlink(missing_ok=True)


def _write_error(path: Path, exc: OSError) -> InvalidDataError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
    return InvalidDataError(
        f"{path}: cannot write it: {reason}{where}. Choose an output path in a folder you can "
        "write to, with free space."
    )


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``df`` atomically in the format given by the suffix of ``path``."""
    path = Path(path)
    fmt = table_format(path)
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            df.to_parquet(tmp, index=False)
        elif fmt == "feather":
            df.reset_index(drop=True).to_feather(tmp)
        else:
            df.to_csv(tmp, index=False, quoting=_csv_quoting(df))
    return path


def _csv_quoting(df: pd.DataFrame) -> int:
    """pandas quotes a CSV field holding its line terminator ("\n") but not one holding a bare
    "\r", which readers take as a line break, nor, in a table of one column, one of whitespace
    only, which makes a line readers skip as blank (the header " " of a column named so, or a
    row's value " "). Such a table is written with every field quoted (read back alike), any
    other as before."""
    one_column = len(df.columns) == 1
    if any("\r" in str(name) or (one_column and str(name).isspace()) for name in df.columns):
        return csv.QUOTE_ALL
    for name in df.columns:
        column = df[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.cat.categories.to_series()  # each value once, not each row
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            text = column.dropna().astype(str)
            if text.str.contains("\r", regex=False).any():
                return csv.QUOTE_ALL
            if one_column and text.str.isspace().any():
                return csv.QUOTE_ALL
    return csv.QUOTE_MINIMAL


def write_bytes(data: bytes, path: str | os.PathLike) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(text: str, path: str | os.PathLike) -> Path:
    return write_bytes(text.encode("utf-8"), path)


def read_json(text_or_path, *, what: str, opening: tuple[str, ...]) -> tuple[str, object]:
    """JSON from a string that starts with one of ``opening`` or from a file at that path:
    (where it came from, for messages; the parsed value). ``what`` names it in errors."""
    text = str(text_or_path)
    source = what
    if not text.lstrip().startswith(opening):
        path = Path(text_or_path)
        if not path.is_file():
            raise InvalidDataError(f"{path}: no such {what} file.")
        source, text = str(path), path.read_text(encoding="utf-8")
    try:
        return source, json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidDataError(
            f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})."
        ) from None


# -- datasets read in record batches (tables larger than memory) -----------------------------------
def is_dataset_source(data) -> bool:
    """True for what :func:`open_dataset` reads: a path (str or PathLike) to a Parquet file or a
    folder, or a ``pyarrow.dataset.Dataset``."""
    if isinstance(data, (str, os.PathLike)):
        return True
    try:
        import pyarrow.dataset as ds
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return False
    return isinstance(data, ds.Dataset)


def is_url(data) -> bool:
    """A filesystem address such as ``s3://bucket/table/`` (any fsspec protocol), not a local
    path."""
    return isinstance(data, str) and "://" in data


def source_bytes(data) -> int | None:
    """Bytes a local Parquet file or folder takes on disk (None for a Dataset object or an
    address on another filesystem)."""
    if not isinstance(data, (str, os.PathLike)) or is_url(data):
        return None
    path = Path(data)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _parquet_files(folder: str, paths) -> list[str]:
    """The Parquet files among ``paths`` (every file under ``folder``), sorted; hidden and
    underscore names (``_SUCCESS``, ``.crc``) left out."""
    files = sorted(
        str(p) for p in paths
        if PurePosixPath(str(p)).suffix.lower() in (".parquet", ".pq")
        and not any(part.startswith((".", "_"))
                    for part in PurePosixPath(str(p)[len(folder):].lstrip("/")).parts)
    )  # fmt: skip
    if not files:
        raise InvalidDataError(
            f"{folder}: no Parquet files in this folder. Give a folder holding .parquet files, "
            "or one Parquet file."
        )
    return files


def _local_files(path: Path) -> tuple[None, list[str]]:
    if not path.exists():
        raise InvalidDataError(f"{path}: no such file or folder.")
    if path.is_file() and table_format(path) != "parquet":
        raise InvalidDataError(
            f"{path}: a streamed fit reads Parquet only. Convert it, e.g. "
            "pandas.read_csv(path).to_parquet('data.parquet'), or fit on the DataFrame."
        )
    if path.is_file():
        return None, [str(path)]
    return None, _parquet_files(str(path), (p for p in path.rglob("*") if p.is_file()))


def _remote_files(url: str):
    """(pyarrow filesystem, Parquet files) of an address on any fsspec filesystem."""
    import fsspec
    import pyarrow.fs as pafs

    protocol = url.split("://", 1)[0]
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        raise InvalidDataError(
            f"{url}: reading {protocol}:// needs a package that is not installed "
            f"({_first_line(exc)}). Install it (s3fs for s3://, gcsfs for gs://, adlfs for "
            "az://), or copy the table to a local folder."
        ) from None
    except ValueError as exc:
        raise InvalidDataError(f"{url}: not an address synthgan can read ({_first_line(exc)}).") \
            from None  # fmt: skip
    try:
        if not fs.exists(path):
            raise InvalidDataError(f"{url}: no such file or folder.")
        files = _parquet_files(path.rstrip("/"), fs.find(path)) if fs.isdir(path) else [path]
    except OSError as exc:
        raise InvalidDataError(f"{url}: cannot list it: {_first_line(exc)}") from None
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), files


def open_dataset(data):
    """A Parquet file, a folder of Parquet files (every file, sorted by path, one schema) or a
    ``pyarrow.dataset.Dataset``, as a Dataset read in record batches. A file or folder may be
    local or an address on any fsspec filesystem (``s3://bucket/table/``, ``gs://``,
    ``memory://``; the filesystem's package installed).

    Every file's footer is read now, so an unreadable file or one whose columns differ from the
    first file's fails here, naming the file, before any long work.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    if isinstance(data, ds.Dataset):
        return data
    filesystem, files = _remote_files(data) if is_url(data) else _local_files(Path(data))
    first_schema = full_schema = None
    for file in files:
        try:
            schema = pq.read_schema(file, filesystem=filesystem)
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise InvalidDataError(
                f"{file}: cannot read it as Parquet: {_first_line(exc)}"
            ) from None
        if first_schema is None:
            full_schema = schema  # with pandas' metadata, so frames come back as pandas wrote them
        schema = schema.remove_metadata()
        if first_schema is None:
            first_schema = schema
        elif not schema.equals(first_schema):
            raise InvalidDataError(
                f"{file}: its columns differ from {files[0]}'s "
                f"({_schema_difference(first_schema, schema)}). Write every file of the folder "
                "with the same columns and types."
            )
    return ds.dataset(files, format="parquet", schema=full_schema, filesystem=filesystem)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _schema_difference(first, other) -> str:
    first_types = {f.name: str(f.type) for f in first}
    other_types = {f.name: str(f.type) for f in other}
    missing = [n for n in first_types if n not in other_types]
    if missing:
        return f"column {missing[0]!r} is missing"
    extra = [n for n in other_types if n not in first_types]
    if extra:
        return f"column {extra[0]!r} is extra"
    for name, kind in first_types.items():
        if other_types[name] != kind:
            return f"column {name!r} is {other_types[name]} here, {kind} there"
    return "the columns are in another order"


def dataset_rows(dataset) -> int:
    """Rows of a Dataset, from the files' footers."""
    return int(dataset.count_rows())


def iter_frames(dataset, rows: int, *, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The Dataset as DataFrames of exactly ``rows`` rows each (the last one shorter), in file
    order, holding at most one frame and one record batch at a time. A file that fails while its
    pages are read is named in the error."""
    import pyarrow as pa

    pending, held = [], 0
    for fragment in dataset.get_fragments():
        where = getattr(fragment, "path", "the dataset")
        try:
            for batch in fragment.to_batches(columns=columns, batch_size=min(rows, 65_536)):
                batch.validate(full=True)  # text that is not UTF-8 fails here, not in a later step
                pending.append(batch)
                held += batch.num_rows
                while held >= rows:
                    table = pa.Table.from_batches(pending)
                    frame = table.slice(0, rows)
                    yield integers_as_read(frame.to_pandas(), frame)
                    rest = table.slice(rows)
                    pending, held = rest.to_batches(), rest.num_rows
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise InvalidDataError(
                f"{where}: cannot read it as Parquet: {_first_line(exc)}"
            ) from None
    if held:
        table = pa.Table.from_batches(pending)
        yield integers_as_read(table.to_pandas(), table)
