"""Sampling under rules: model rows decoded by the plan, checked, and topped up within a bound.

Rules enforced by construction never reject a row. A row is left out only when a condition on
a rewritten column is not met (a filter) or, after the repairs, a rule still fails (rules that
fight over one column); both are counted, and the rows generated are bounded by
``max_tries * max(n, SAMPLE_BLOCK_ROWS)``, as for conditions without rules.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from synthgan.exceptions import InvalidDataError, shown_name
from synthgan.model.conditions import split_request, value_predicate
from synthgan.model.generation import SAMPLE_BLOCK_ROWS, RowGenerator
from synthgan.model.runtime import block_seed, seed_from
from synthgan.rules.plan import RulePlan
from synthgan.schema import unknown_column_message

RENUMBER_STREAM = 7_000_000
"""Block seeds of the id renumbering after rows were left out (apart from the model's)."""
FRAME_STREAM = 8_000_000
"""Block seeds of the rounds of a frame of conditions."""


def iter_ruled_rows(
    rows: RowGenerator,
    plan: RulePlan,
    n: int,
    conditions: dict | None,
    random_state: int | None,
    max_tries: int,
    *,
    progress: bool,
    report: dict,
) -> Iterator[pd.DataFrame]:
    """Yield blocks of rows that meet every rule and condition until ``n`` were yielded.

    ``report`` is filled with ``repaired`` (rows each repair changed, by rule), ``left_out``
    (rows checked and dropped) and ``generated`` (model rows drawn).
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise InvalidDataError(f"n must be a non-negative integer, got {n!r}.")
    report.update(repaired={}, left_out=0, generated=0)
    fixed, frame = split_request(conditions)
    if frame is not None:
        yield _framed_rows(rows, plan, n, fixed, frame, random_state, max_tries, report)
        return
    model_conditions, filters = plan.split_conditions(conditions)
    if n == 0:
        yield plan.decode(rows.empty_frame())[0]
        return
    seed = seed_from(random_state)
    budget = max_tries * max(n, SAMPLE_BLOCK_ROWS)
    produced = number = 0
    show = progress and n >= 10 * SAMPLE_BLOCK_ROWS
    with tqdm(total=n, desc="Sampling", unit="row", disable=not show, leave=False) as bar:
        # rounds of model rows, each from its own seed: the first asks for n, as many as are
        # wanted when no row is left out; later ones for more, within the budget
        for round_number in range(budget):
            remaining = n - produced
            if remaining <= 0 or report["generated"] >= budget:
                break
            want = remaining if round_number == 0 else max(2 * remaining, SAMPLE_BLOCK_ROWS)
            want = min(want, budget - report["generated"])
            round_seed = seed if round_number == 0 else block_seed(seed, RENUMBER_STREAM
                                                                   - round_number)  # fmt: skip
            source = rows.iter_rows(want, model_conditions, round_seed, max_tries, progress=False)
            drawn = 0
            for block in _blocks(source):
                drawn += len(block)
                decoded = _checked(plan, block, filters, report)
                if report["left_out"]:  # ids of left-out rows must not leave gaps
                    decoded = rows.renumber(
                        decoded.reset_index(drop=True),
                        [block_seed(seed, RENUMBER_STREAM + number)],
                        produced,
                    )
                number += 1
                decoded = decoded.iloc[: n - produced]
                if len(decoded):
                    produced += len(decoded)
                    bar.update(len(decoded))
                    yield decoded
            if drawn < want:  # the model's own conditions ran out of budget
                break
    if produced >= n:
        return
    wanted = [f"{shown_name(column)}={value!r}" for column, value in (conditions or {}).items()]
    names = "the conditions " + ", ".join(wanted) if wanted else "the rules"
    raise InvalidDataError(
        f"Could not meet {names}: {produced} of {n} rows after generating {report['generated']}. "
        "The model rarely produces such rows; relax the condition or raise max_tries."
    )


def _framed_rows(
    rows: RowGenerator, plan: RulePlan, n: int, fixed: dict, frame: pd.DataFrame,
    random_state: int | None, max_tries: int, report: dict,
) -> pd.DataFrame:  # fmt: skip
    """One row per row of ``frame`` (row i meets the frame's row i and ``fixed``), every rule
    met. The frame's columns the model holds as they are condition the model; the others are
    checked on the decoded rows, and a row that fails a check or a rule is drawn again, for at
    most ``max_tries`` rounds."""
    if n != len(frame):
        raise InvalidDataError(
            f"n={n} but the frame of conditions has {len(frame)} rows: one row is generated per "
            "row of conditions. Leave n out, or pass a frame of n rows."
        )
    unknown = [c for c in frame.columns if c not in plan.columns_]
    if unknown:
        raise InvalidDataError("Cannot condition: " + unknown_column_message(unknown[0],
                                                                             plan.columns_))
    if n == 0:
        return plan.decode(rows.empty_frame())[0]
    model_fixed, filters = plan.split_conditions(fixed)
    held = [c for c in frame.columns if c not in plan.rewritten]
    checked = [c for c in frame.columns if c in plan.rewritten]
    checks = _row_checks(plan, frame, checked)
    seed = seed_from(random_state)
    pending, done = np.arange(n), []
    for round_number in range(max(int(max_tries), 1)):
        if not len(pending):
            break
        part = frame[held].iloc[pending].reset_index(drop=True)
        request = (model_fixed, part) if held else (model_fixed or None)
        source = rows.iter_rows(len(pending), request, block_seed(seed, FRAME_STREAM + round_number),
                                max_tries, progress=False)  # fmt: skip
        decoded, keep = _decoded(plan, pd.concat(list(source), ignore_index=True), filters, report)
        keep &= _meets_row_checks(checks, pending, decoded)
        report["left_out"] += int((~keep).sum())
        done.append((pending[keep], decoded[keep]))
        pending = pending[~keep]
    if len(pending):
        raise InvalidDataError(
            f"Could not meet the frame of conditions under the rules: {n - len(pending)} of {n} "
            f"rows after generating {report['generated']}. The model rarely produces such rows; "
            "relax the conditions on the columns the rules rewrite "
            f"({', '.join(map(repr, checked)) or 'none'}) or raise max_tries."
        )
    ids = np.concatenate([ids for ids, _ in done])
    out = pd.concat([part for _, part in done], ignore_index=True)
    out = out.iloc[np.argsort(ids, kind="stable")].reset_index(drop=True)
    return rows.renumber(out, [block_seed(seed, RENUMBER_STREAM)], 0)


def _row_checks(plan: RulePlan, frame: pd.DataFrame, checked: list[str]) -> list:
    """Per column the rules rewrite: (column, each frame row's index into the predicates of the
    column's distinct values (-1: a null, no condition), those predicates). An unknown category
    or a mistyped value fails here, in one line, before any row is drawn."""
    checks = []
    for column in checked:
        wanted = frame[column].astype(object)
        codes, _ = pd.factorize(wanted.map(repr).where(wanted.notna()))
        numeric = not plan.schema_.kind(column).is_categorical
        predicates = []
        distinct, firsts = np.unique(codes, return_index=True)
        for first in firsts[distinct >= 0]:
            value = wanted.iloc[first]
            plan.split_conditions({column: value})
            predicates.append(value_predicate(column, value, numeric=numeric)[1])
        checks.append((column, codes, predicates))
    return checks


def _meets_row_checks(checks: list, pending: np.ndarray, decoded: pd.DataFrame) -> np.ndarray:
    """Decoded row i (made for frame row ``pending[i]``) meets that frame row's conditions on the
    columns the rules rewrite."""
    ok = np.ones(len(pending), dtype=bool)
    for column, codes, predicates in checks:
        mine = codes[pending]
        for code, predicate in enumerate(predicates):
            at = mine == code
            if at.any():
                ok[at] = predicate(decoded.loc[at, [column]]).to_numpy(dtype=bool)
    return ok


def _decoded(
    plan: RulePlan, block: pd.DataFrame, filters: list, report: dict
) -> tuple[pd.DataFrame, np.ndarray]:
    """A model block decoded, and where its rows meet every rule and filter; counts in
    ``report``."""
    decoded, repaired = plan.decode(block)
    report["generated"] += len(block)
    for rule, count in repaired.items():
        report["repaired"][rule] = report["repaired"].get(rule, 0) + count
    keep = plan.holds(decoded)
    for _, predicate in filters:
        keep &= predicate(decoded).to_numpy(dtype=bool)
    return decoded, keep


def _checked(plan: RulePlan, block: pd.DataFrame, filters: list, report: dict) -> pd.DataFrame:
    """The rows of a model block, decoded, that meet every rule and filter; counts in
    ``report``."""
    decoded, keep = _decoded(plan, block, filters, report)
    report["left_out"] += int((~keep).sum())
    return decoded if keep.all() else decoded[keep]


def _blocks(source: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """The model's blocks until it gives up on its own conditions (its budget is ours)."""
    try:
        yield from source
    except InvalidDataError:
        return
