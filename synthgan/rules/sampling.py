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

from synthgan.exceptions import InvalidDataError
from synthgan.model.generation import SAMPLE_BLOCK_ROWS, RowGenerator
from synthgan.model.runtime import block_seed, seed_from
from synthgan.rules.plan import RulePlan

RENUMBER_STREAM = 7_000_000
"""Block seeds of the id renumbering after rows were left out (apart from the model's)."""


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
    model_conditions, filters = plan.split_conditions(conditions)
    report.update(repaired={}, left_out=0, generated=0)
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
    wanted = [f"{column}={value!r}" for column, value in (conditions or {}).items()]
    names = "the conditions " + ", ".join(wanted) if wanted else "the rules"
    raise InvalidDataError(
        f"Could not meet {names}: {produced} of {n} rows after generating {report['generated']}. "
        "The model rarely produces such rows; relax the condition or raise max_tries."
    )


def _checked(plan: RulePlan, block: pd.DataFrame, filters: list, report: dict) -> pd.DataFrame:
    """The rows of a model block, decoded, that meet every rule and filter; counts in
    ``report``."""
    decoded, repaired = plan.decode(block)
    report["generated"] += len(block)
    for rule, count in repaired.items():
        report["repaired"][rule] = report["repaired"].get(rule, 0) + count
    keep = plan.holds(decoded)
    for _, predicate in filters:
        keep &= predicate(decoded).to_numpy(dtype=bool)
    report["left_out"] += int((~keep).sum())
    return decoded if keep.all() else decoded[keep]


def _blocks(source: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """The model's blocks until it gives up on its own conditions (its budget is ours)."""
    try:
        yield from source
    except InvalidDataError:
        return
