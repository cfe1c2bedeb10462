"""synthgan: learn a table, generate realistic and privacy-checked synthetic rows of it.

``synthgan.evaluate`` is the evaluation function; its package is imported as
``from synthgan.evaluate.utility import ...``.
"""

from synthgan import privacy  # noqa: F401  registers the private fit (epsilon=)
from synthgan._version import __version__
from synthgan.evaluate import Report, evaluate
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
    "Report",
    "Schema",
    "SynthganError",
    "Synthesizer",
    "TableTransformer",
    "evaluate",
    "infer_schema",
    "load",
]
