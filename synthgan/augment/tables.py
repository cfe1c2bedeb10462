"""Augmenting a table with synthetic rows: the pieces the DataFrame helper and the scikit-learn
sampler share (the default synthesizer, how a template is cloned and checked, seeding)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from synthgan.exceptions import InvalidDataError
from synthgan.model import Synthesizer
from synthgan.model.networks import MIN_BATCH_ROWS
from synthgan.schema import ColumnKind, ColumnSpec, Schema, validate_frame

AUGMENT_EPOCHS = 30
"""Epochs of the default augmentation synthesizer. A full fit defaults to 100; augmentation runs
inside every cross-validation fold, so it trades some fidelity for a 3x shorter fit."""


def default_synthesizer() -> Synthesizer:
    """The template used when none is given: Synthesizer's defaults, fewer epochs, no progress bars."""
    return Synthesizer(epochs=AUGMENT_EPOCHS, verbose=False)


def is_fitted(synthesizer: Any) -> bool:
    return hasattr(synthesizer, "transformer_")


def make_rng(random_state: Any) -> np.random.Generator:
    """A local generator from an int, None (fresh entropy) or a legacy RandomState (one draw)."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(2**31 - 1)))
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


def seed_source(random_state: Any, template: Any) -> Any:
    """The caller's random_state, else the template's own (so a seeded template stays
    reproducible), else None."""
    if random_state is not None or template is None:
        return random_state
    return template.get_params().get("random_state")


def draw_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


def merged_schema(
    template_schema: Schema | None, columns: list[str], kinds: dict[str, ColumnKind]
) -> Schema | None:
    """A partial schema: ``kinds`` first, the template's own kinds over them (the user knows best),
    in table order. Columns named by neither are inferred by the synthesizer."""
    merged: dict[str, ColumnKind] = dict(kinds)
    if template_schema is not None:
        merged.update({spec.name: spec.kind for spec in template_schema.columns})
    if not merged:
        return None
    ordered = [name for name in columns if name in merged]
    ordered += [name for name in merged if name not in columns]  # resolve_schema reports these
    return Schema(tuple(ColumnSpec(name, merged[name]) for name in ordered))


def fitting_batch(n_rows: int, batch_size: int, pac: int) -> tuple[int, int]:
    """``(batch_size, pac)`` shrunk for a small table: pac at most a quarter of the rows, a batch
    at most half of them (a multiple of pac), so that an epoch makes at least two generator
    steps on distinct rows; but at least 2 rows, which the generator's batch normalisation
    needs (rows are drawn with replacement, so 2 or 3 rows take it too). Tables of at least
    ``2 * batch_size`` rows keep both as given."""
    pac = max(1, min(int(pac), n_rows // 4))
    most = max(pac, (n_rows // 2) // pac * pac)
    batch_size = max(pac, min(int(batch_size), most) // pac * pac)
    return max(batch_size, MIN_BATCH_ROWS), pac


def epochs_for_steps(epochs: int, n_rows: int, batch_size: int, min_steps: int | None) -> int:
    """``epochs``, raised so that a fit makes at least ``min_steps`` generator steps (one epoch
    is ``n_rows // batch_size`` steps, at least one): a small table's 30 epochs are only a few
    dozen steps, too few for the generator to learn anything."""
    if min_steps is None:
        return int(epochs)
    steps_per_epoch = max(n_rows // batch_size, 1)
    return max(int(epochs), -(-int(min_steps) // steps_per_epoch))


def prepared_synthesizer(
    template: Any, overrides: dict[str, Any], *, n_rows: int, min_steps: int | None = None
) -> Any:
    """An unfitted clone of ``template`` (or of the default) with ``overrides`` applied, its
    batch_size and pac shrunk to fit a table of ``n_rows`` rows (:func:`fitting_batch`) and its
    epochs raised to ``min_steps`` generator steps (:func:`epochs_for_steps`). ``epochs="auto"``
    stays: it trains a number of steps of its own (``Synthesizer``'s ``epochs``)."""
    synthesizer = clone(default_synthesizer() if template is None else template)
    known = synthesizer.get_params()
    synthesizer.set_params(**{k: v for k, v in overrides.items() if k in known})
    params = synthesizer.get_params()
    batch_size, pac, epochs = params.get("batch_size"), params.get("pac"), params.get("epochs")
    auto = isinstance(epochs, str) and epochs == "auto"
    if (not all(_positive_int(v) for v in (batch_size, pac)) or batch_size % pac
            or not (auto or _positive_int(epochs))):  # fmt: skip
        return synthesizer  # Synthesizer.fit reports bad values in its own words
    batch_size, pac = fitting_batch(n_rows, batch_size, pac)
    if not auto:
        epochs = epochs_for_steps(epochs, n_rows, batch_size, min_steps)
    return synthesizer.set_params(batch_size=batch_size, pac=pac, epochs=epochs)


def _positive_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def with_dtypes_of(rows: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with the columns of ``like`` and its dtypes wherever the cast is possible (a no-op
    where the synthesizer restored them already, which is the rule)."""
    out = {}
    for name in like.columns:
        column = rows[name]
        if column.dtype != like[name].dtype:
            try:
                column = column.astype(like[name].dtype)
            except (TypeError, ValueError):
                pass
        out[name] = column
    return pd.DataFrame(out, index=rows.index)


def augment(
    df: pd.DataFrame,
    n: int,
    conditions: dict | None = None,
    *,
    flag_column: str | None = None,
    synthesizer: Any = None,
    random_state: int | None = None,
) -> pd.DataFrame:
    """The rows of ``df`` followed by ``n`` synthetic rows learnt from it.

    Parameters
    ----------
    df : DataFrame
        The table to augment.
    n : int
        Synthetic rows to add.
    conditions : dict, optional
        Passed to :meth:`Synthesizer.sample`, e.g. ``{"income": ">50K"}``: a condition on one
        discrete column goes through the generator's condition vector and holds in every row.
    flag_column : str, optional
        Name of a boolean column to add, False on the original rows and True on the synthetic
        ones. No column is added when omitted.
    synthesizer : Synthesizer, optional
        An unfitted Synthesizer is a template: it is cloned and the clone fitted on ``df``. A fitted
        one is used as it is (it must have been fitted on a table with ``df``'s columns). Default:
        ``Synthesizer(epochs=30, verbose=False)``. On a small table a template's batch_size and
        pac shrink to fit it (a batch at most half the rows, pac at most a quarter).
    random_state : int, optional
        Seeds the fit (of an unfitted template) and the sampling.

    Returns
    -------
    DataFrame
        ``len(df) + n`` rows with ``df``'s columns and dtypes (plus ``flag_column``) and a fresh
        RangeIndex.

    Raises
    ------
    InvalidDataError
        For a negative ``n`` or a ``flag_column`` that already exists.

    Examples
    --------
    >>> from synthgan.augment import augment
    >>> bigger = augment(train, 1000, {"income": ">50K"}, flag_column="is_synthetic")  # doctest: +SKIP
    """
    df = validate_frame(df)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise InvalidDataError(f"n must be a non-negative integer, got {n!r}.")
    if flag_column is not None and flag_column in df.columns:
        raise InvalidDataError(
            f"flag_column={flag_column!r} is already a column of the table. Pick another name."
        )
    if synthesizer is not None and is_fitted(synthesizer):
        model = synthesizer
        rng = make_rng(random_state)
    else:
        rng = make_rng(seed_source(random_state, synthesizer))
        model = prepared_synthesizer(synthesizer, {"random_state": draw_seed(rng)}, n_rows=len(df))
        model.fit(df)
    synthetic = model.sample(int(n), conditions, random_state=draw_seed(rng))
    missing = [name for name in df.columns if name not in synthetic.columns]
    if missing:
        raise InvalidDataError(
            f"The synthesizer does not produce the column(s) {', '.join(map(repr, missing))} of "
            "the table (ignored in its schema, or fitted on another table). Fit it on this table."
        )
    synthetic = with_dtypes_of(synthetic, df)
    original = df.reset_index(drop=True)
    if flag_column is not None:
        original = original.assign(**{flag_column: False})
        synthetic = synthetic.assign(**{flag_column: True})
    return pd.concat([original, synthetic], ignore_index=True)
