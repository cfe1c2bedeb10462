"""``evaluate``: check the inputs, run every registered metric that applies, build the Report."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from synthgan._version import __version__
from synthgan.evaluate import fidelity, privacy, utility  # noqa: F401  (registers the metrics)
from synthgan.evaluate._columns import evaluated_columns
from synthgan.evaluate.context import EvaluationContext
from synthgan.evaluate.registry import METRICS, get_metric
from synthgan.evaluate.report import Report
from synthgan.exceptions import InvalidDataError
from synthgan.schema import (
    ColumnKind,
    Schema,
    resolve_schema,
    unknown_column_message,
    validate_frame,
)

GROUP_ORDER = ("fidelity", "utility", "privacy")


def evaluate(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    target: str | None = None,
    *,
    random_state: int | None = 0,
    metrics: Sequence[str] | None = None,
    schema: Schema | None = None,
    n_threads: int | None = 1,
) -> Report:
    """Score a synthetic table for fidelity, utility and privacy against the real one.

    Parameters
    ----------
    real : DataFrame
        The rows the generator was trained on.
    synthetic : DataFrame
        The generated rows, with the same columns (id-like and ignored ones may be absent).
    holdout : DataFrame, optional
        Real rows the generator never saw; needed for the privacy and utility metrics and for
        the fidelity baselines (each fidelity metric also scores the holdout against ``real``:
        ``details["baseline"]``, the value a fresh real sample gets) and verdicts.
    target : str, optional
        A column to predict; with ``holdout`` it enables the utility metrics.
    random_state : int or None, default 0
        Seeds every subsample, fold split and bootstrap (None: different draws each call).
    metrics : list of str, optional
        Names of the metrics to compute (default: all that the inputs allow); see
        ``synthgan.evaluate.METRICS``.
    schema : Schema, optional
        Column kinds overriding the ones inferred from ``real``.
    n_threads : int or None, default 1
        Threads for the model fits and nearest-neighbour searches (None: all cores). One by
        default: OpenMP thread pools slow down badly when other work shares the cores.

    Returns
    -------
    Report
        ``.verdicts`` (fidelity, utility, privacy -> verdict and reasons), ``.scores`` (metric
        name -> value), ``.metrics`` (with direction, range, interval, baseline),
        ``.to_json(path)``, ``.to_html(path)``.

    Raises
    ------
    InvalidDataError
        When a table is not a usable DataFrame, the tables' columns differ (the message names the
        columns), ``target`` is not a column (with the closest name), a metric name is unknown, or
        ``random_state`` is not an integer.

    Examples
    --------
    >>> from synthgan.datasets import load_adult
    >>> train, test = load_adult()
    >>> report = evaluate(train, synthetic, holdout=test, target="income")  # doctest: +SKIP
    >>> report.scores["column_shapes"]  # doctest: +SKIP
    0.97
    """
    started = time.perf_counter()
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer))
    ):
        raise InvalidDataError(
            f"random_state must be an integer or None, got {random_state!r}. Pass e.g. "
            "random_state=0."
        )
    if n_threads is not None and (
        isinstance(n_threads, bool) or not isinstance(n_threads, (int, np.integer)) or n_threads < 1
    ):
        raise InvalidDataError(
            f"n_threads must be a positive integer or None, got {n_threads!r}. Pass e.g. n_threads=1."
        )
    schema = resolve_schema(_checked_frame(real, "real"), schema)
    if not evaluated_columns(schema):
        raise InvalidDataError(
            "The real table has no column to compare: every column is id-like or ignored. "
            "Pass a schema that gives the columns to compare their kinds, e.g. "
            "schema=infer_schema(real, kinds={'code': 'discrete'})."
        )
    _check_columns(_checked_frame(synthetic, "synthetic"), "synthetic", schema)
    if holdout is not None:
        _check_columns(_checked_frame(holdout, "holdout"), "holdout", schema)
    if target is not None:
        _check_target(target, schema)
    selected = (
        [get_metric(name) for name in metrics] if metrics is not None else list(METRICS.values())
    )
    selected.sort(key=lambda entry: GROUP_ORDER.index(entry.group))

    context = EvaluationContext(
        real=real,
        synthetic=synthetic,
        holdout=holdout,
        target=target,
        schema=schema,
        random_state=None if random_state is None else int(random_state),
        n_threads=n_threads,
    )
    available = {"holdout": holdout is not None, "target": target is not None}
    # A fresh real sample scored by the same code: what each fidelity figure is read against.
    baseline_context = context.as_baseline() if holdout is not None else None
    results, skipped, seconds = {}, {}, {}
    baseline_seconds = 0.0
    with threadpool_limits(limits=n_threads):
        for entry in selected:
            missing = [need for need in entry.needs if not available[need]]
            if missing:
                skipped[entry.name] = f"needs {' and '.join(missing)}"
                continue
            tick = time.perf_counter()
            results[entry.name] = entry.compute(context)
            if baseline_context is not None and entry.group == "fidelity":
                tock = time.perf_counter()
                baseline = entry.compute(baseline_context)
                results[entry.name] = results[entry.name].with_baseline(baseline)
                baseline_seconds += time.perf_counter() - tock
            seconds[entry.name] = time.perf_counter() - tick

    has_privacy = any(METRICS[name].group == "privacy" for name in results)
    has_pairs = "column_pairs" in results
    plots = {
        "distributions": fidelity.distributions(context),
        "pairs": fidelity.pair_matrix(context) if has_pairs else None,
        "dcr": privacy.dcr_histograms(context) if has_privacy else None,
    }
    meta = {
        "synthgan_version": __version__,
        "rows": {
            "real": len(real),
            "synthetic": len(synthetic),
            "holdout": None if holdout is None else len(holdout),
        },
        "target": target,
        "random_state": random_state,
        "excluded_columns": [
            c.name for c in schema.columns if c.kind in (ColumnKind.ID, ColumnKind.IGNORED)
        ],
        "seconds": {
            **seconds,
            "fidelity_baselines": baseline_seconds,
            "total": time.perf_counter() - started,
        },
    }
    columns = fidelity.column_table(context)
    if baseline_context is not None:
        columns = columns.copy()
        baseline_shapes = fidelity.column_table(baseline_context)["shape"].to_numpy()
        columns.insert(columns.columns.get_loc("shape") + 1, "shape_baseline", baseline_shapes)
    return Report.from_results(
        results,
        skipped=skipped,
        columns=columns,
        plots=plots,
        meta=meta,
        available=available,
    )


def _checked_frame(df: object, name: str) -> pd.DataFrame:
    try:
        return validate_frame(df)
    except InvalidDataError as exc:
        raise InvalidDataError(f"The {name} table: {exc}") from None


def _check_columns(df: pd.DataFrame, name: str, schema: Schema) -> None:
    """``df`` must have the real table's columns; id-like and ignored ones may be absent."""
    optional = {c.name for c in schema.columns if c.kind in (ColumnKind.ID, ColumnKind.IGNORED)}
    missing = [c for c in schema.names if c not in df.columns and c not in optional]
    extra = [c for c in df.columns if c not in schema.names]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"lacks the real table's column(s) {', '.join(map(repr, missing))}")
        if extra:
            parts.append(f"has column(s) {', '.join(map(repr, extra))} the real table lacks")
        raise InvalidDataError(
            f"The {name} table {' and '.join(parts)}. Give both tables the same columns."
        )


def _check_target(target: str, schema: Schema) -> None:
    if target not in schema.names:
        raise InvalidDataError(
            unknown_column_message(target, schema.names, where="real table")
            + " Pass an existing column as target."
        )
    kind = schema.kind(target)
    if kind in (ColumnKind.ID, ColumnKind.IGNORED):
        raise InvalidDataError(
            f"Target column {target!r} is {kind.value}; utility needs a discrete, boolean or "
            "numeric target. Pick another target column."
        )
