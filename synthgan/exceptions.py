"""Exceptions raised by synthgan. Every user-facing error derives from SynthganError."""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError


class SynthganError(Exception):
    """Base class of every error synthgan raises on purpose."""


class InvalidDataError(SynthganError, ValueError):
    """The input table (or a parameter describing it) cannot be used as given."""


class NotFittedError(SynthganError, _SklearnNotFittedError):
    """A method that needs a fitted object was called before ``fit``."""


class ModelFileError(SynthganError):
    """A model file is missing, truncated, altered or of an unknown format."""


def shown_name(name: str) -> str:
    """A column's name as a message writes it outside quotes (``sex='Female'``, ``age <= 65``):
    itself when it prints on one line, else quoted with its escapes, so that a name such as
    ``'a\\nb'`` cannot split a message."""
    text = str(name)
    return text if text.isprintable() else repr(text)


def not_fitted(obj: object) -> NotFittedError:
    name = type(obj).__name__
    return NotFittedError(f"This {name} is not fitted yet. Call fit(data) first.")


def bounds_refused(constraint: str) -> InvalidDataError:
    """``reach_bounds=True`` asked together with ``constraint`` ("conditions" or "rules")."""
    return InvalidDataError(
        f"reach_bounds=True cannot be combined with {constraint}: a value moved onto a training "
        "bound could break them. Leave reach_bounds at None or False."
    )
