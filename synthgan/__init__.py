"""synthgan: learn a table, generate realistic and privacy-checked synthetic rows of it."""

from synthgan._version import __version__
from synthgan.exceptions import InvalidDataError, ModelFileError, NotFittedError, SynthganError
from synthgan.model import Synthesizer, load
from synthgan.schema import ColumnKind, Schema, infer_schema
from synthgan.transform import Layout, TableTransformer

__all__ = [
    "__version__",
    "ColumnKind",
    "InvalidDataError",
    "Layout",
    "ModelFileError",
    "NotFittedError",
    "Schema",
    "SynthganError",
    "Synthesizer",
    "TableTransformer",
    "infer_schema",
    "load",
]
