"""Rows that meet conditions on any columns, by construction.

When every row meets the same conditions (not a frame of them), the model's own rows come
first: unconditioned rows, selected as ``sample`` selects them, that happen to meet the
conditions (rejection: exactly the model's distribution given the conditions), from at most
``FILTER_BUDGET`` times as many kept rows as are wanted. Conditions the model meets often are
filled this way; the rows still wanted (all of them for a rare condition) are built:

1. **Condition vector.** Of the row's span conditions that the condition vector covers, the one
   the training rows meet least often is fed to the generator, with a category drawn from its
   allowed categories by their training frequency (the generator was trained on exactly such
   vectors, with real rows of that category).
2. **Candidates.** At least ``CANDIDATES`` noise draws per row. Given its noise, the
   generator's spans are independent draws, so the chance that a candidate's other conditioned
   spans land in their allowed categories is a product of softmax masses, ``w``. One candidate
   per row is kept with probability proportional to ``w`` (sampling importance resampling, as
   weighted reservoir sampling: no candidate is stored but the kept one). This is what moves
   the other columns to their distribution *given* all the conditions, not only the fed one.
   A row whose candidates' summed ``w`` is still below ``ENOUGH_WEIGHT`` (the fed condition
   makes the others unlikely: women among those earning >50K) draws more, up to
   ``MAX_CANDIDATES``, so that its kept candidate is one that would meet the conditions on its
   own, not the least unlikely of a few that would not.
3. **Restricted draws.** The kept candidate's conditioned spans are drawn from their softmax
   restricted to the allowed categories (weighted by the share of a bin a range covers), the
   fed span takes its category, and the in-bin place of a range's edge bin is squeezed into the
   part that stays in range. Equality on a numeric column writes the value itself; a list of
   values, the listed value nearest the decoded one (the draw picked a bin that holds one).
4. **Checks.** Every decoded row is checked against every condition (after rounding and dtypes).
   Rows the row critic rejects (discriminator rejection sampling) or a filter (a condition no
   span builds) fails are drawn again, for at most ``max_tries`` rounds; after
   ``SELECTION_ROUNDS`` rounds the critic no longer sends rows back. Where the critic keeps few
   rows, each row still pending draws several copies in a selection round (about one over the
   share the previous round kept, at most ``MAX_SELECTION_COPIES``), and keeps the first copy
   that passes: so conditioned rows are selected as unconditioned ones are, however low the
   acceptance. The copies of a row are picked from one set of candidates (step 2, a reservoir
   per copy), so the network runs once per row, not once per copy.

A row never fails a condition a span builds, so ``sample`` returns exactly the rows asked for,
or stops in one line when only filters remain unmet within the budget.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from synthgan.exceptions import InvalidDataError
from synthgan.model.conditions import (
    ConditionPlan,
    Conditions,
    SpanCondition,
    exact_range,
    rows_of,
)
from synthgan.model.generation import DECODE_BLOCKS, SAMPLE_BLOCK_ROWS, RowGenerator
from synthgan.model.runtime import block_seed

CANDIDATES = 8
"""Noise draws per output row at least, one kept in proportion to how likely its conditioned
spans meet the conditions,"""
ENOUGH_WEIGHT = 1.0
"""until the row's candidates' chances sum to this (one expected candidate that meets them),"""
MAX_CANDIDATES = 64
"""or this many draws."""
SELECTION_ROUNDS = 4
"""Rounds in which the row critic may send a row back to be drawn again."""
MAX_SELECTION_COPIES = 64
"""Copies of a pending row drawn in one selection round, at most,"""
MAX_ROUND_ROWS = 1 << 18
"""and rows drawn in one round, at most (copies shrink for a large chunk)."""
FILTER_BUDGET = 32
"""Kept unconditioned rows looked through per wanted row before the rest are built (a condition
met by at least 1 in 32 of the model's rows is met by its own rows alone)."""
CHUNK_ROWS = SAMPLE_BLOCK_ROWS
"""Output rows drawn together (each chunk from its own seed)."""
CONDITION_STREAM = 0xC0_5D
"""Seeds conditioned chunks apart from the unconditioned blocks."""
FILTER_STREAM = 0xF1_17E4
"""Seeds the unconditioned rows looked through, apart from the built rows' draws."""


def iter_conditioned_rows(
    generator: RowGenerator,
    plan: ConditionPlan,
    n: int,
    seed: int,
    max_tries: int,
    *,
    progress: bool,
) -> Iterator[pd.DataFrame]:
    """Blocks of rows meeting ``plan``, in order, until ``n`` rows (the frame's rows: row i
    meets the frame's row i)."""
    if plan.n_rows is not None and n != plan.n_rows:
        raise InvalidDataError(
            f"n={n} but the frame of conditions has {plan.n_rows} rows: one row is generated per "
            "row of conditions. Leave n out, or pass a frame of n rows."
        )
    show = progress and n >= 10 * SAMPLE_BLOCK_ROWS
    with tqdm(total=n, desc="Sampling", unit="row", disable=not show, leave=False) as bar:
        for chunk, first in enumerate(range(0, n, CHUNK_ROWS)):
            row_ids = np.arange(first, min(n, first + CHUNK_ROWS))
            rows = _fill(generator, plan, row_ids, block_seed(seed, CONDITION_STREAM + chunk),
                         max_tries)  # fmt: skip
            rng = np.random.default_rng([seed, CONDITION_STREAM, chunk])
            rows = generator.transformer.renumber_ids(rows, rng, first)
            bar.update(len(rows))
            yield rows


def _fill(
    generator: RowGenerator, plan: ConditionPlan, row_ids: np.ndarray, seed: int, max_tries: int
) -> pd.DataFrame:
    """One row per id of ``row_ids``, each meeting its conditions."""
    pending = row_ids
    done: list[tuple[np.ndarray, pd.DataFrame]] = []
    generated, copies = 0, 1
    if plan.n_rows is None:  # the same conditions for every row: the model's own rows first
        found, generated = _meeting_unconditioned(generator, plan, len(row_ids), seed)
        if found is not None and len(found):
            rng = np.random.default_rng([seed, FILTER_STREAM])
            chosen = np.sort(rng.choice(row_ids, size=len(found), replace=False))
            done.append((chosen, found))
            pending = np.setdiff1d(row_ids, chosen, assume_unique=True)
    rounds = max(int(max_tries), SELECTION_ROUNDS + 1)
    for round_number in range(rounds):
        if not len(pending):
            break
        select = generator.selector is not None and round_number < SELECTION_ROUNDS
        copies_now = copies if select else 1
        drawn = np.repeat(pending, copies_now)
        round_seed = block_seed(seed, round_number)
        scalars, codes = draw_conditioned(generator, plan, pending, round_seed, copies_now)
        generated += len(drawn)
        rng = np.random.default_rng([round_seed, 1])
        rows = generator.transformer.decode(scalars, codes, random_state=rng)
        rows = finish(plan, rows, drawn)
        keep = plan.check(rows, drawn)
        kept_share = None
        if select and keep.any():
            meets = keep.sum()
            keep &= generator.selector.keep(rows, rng)
            kept_share = keep.sum() / meets
        if select:  # the first copy kept of each row
            firsts = np.flatnonzero(keep)
            _, first = np.unique(drawn[firsts], return_index=True)
            keep = np.zeros(len(drawn), dtype=bool)
            keep[firsts[first]] = True
        if keep.any():
            done.append((drawn[keep], rows[keep]))
        pending = np.setdiff1d(pending, drawn[keep], assume_unique=True)
        if kept_share is not None:
            copies = _selection_copies(kept_share, len(pending))
    if len(pending):
        produced = len(row_ids) - len(pending)
        raise InvalidDataError(plan.failure_message(generated, produced, len(row_ids)))
    ids = np.concatenate([ids for ids, _ in done])
    rows = pd.concat([frame for _, frame in done], ignore_index=True) if len(done) > 1 \
        else done[0][1].reset_index(drop=True)  # fmt: skip
    return rows.iloc[np.argsort(ids, kind="stable")].reset_index(drop=True)


@torch.no_grad()
def _meeting_unconditioned(
    generator: RowGenerator, plan: ConditionPlan, n: int, seed: int
) -> tuple[pd.DataFrame | None, int]:
    """At most ``n`` of the model's unconditioned, selected rows that meet ``plan`` (the same
    conditions for every row), looking through at most ``FILTER_BUDGET * n`` kept rows (fewer
    when, after the first ``SAMPLE_BLOCK_ROWS`` kept rows, under 1 in ``4 * FILTER_BUDGET``
    meets them);
    and the rows generated for them."""
    parts, found, kept, generated, block, group = [], 0, 0, 0, 0, 1
    while found < n and kept < FILTER_BUDGET * n:
        seeds = [block_seed(seed, FILTER_STREAM + block + i) for i in range(group)]
        block += group
        rows = generator.select(generator.decode(seeds, Conditions(), 0), seeds, 0)
        generated += group * SAMPLE_BLOCK_ROWS
        kept += len(rows)
        meets = rows[plan.check(rows, np.zeros(len(rows), dtype=np.int64))]
        parts.append(meets.iloc[: n - found])
        found += len(parts[-1])
        group = min(2 * group, DECODE_BLOCKS)
        if kept >= SAMPLE_BLOCK_ROWS and found * FILTER_BUDGET * 4 < kept:
            break  # met by under 1 in 4 * FILTER_BUDGET kept rows: building them is cheaper
    if not parts:
        return None, generated
    rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return rows.reset_index(drop=True), generated


def _selection_copies(kept_share: float, pending: int) -> int:
    """Copies per pending row for the next selection round: enough for about one to pass at
    the share the critic kept, within the round's bounds."""
    wanted = MAX_SELECTION_COPIES if kept_share <= 0 else int(np.ceil(1.0 / kept_share))
    room = max(MAX_ROUND_ROWS // max(int(pending), 1), 1)
    return int(min(wanted, MAX_SELECTION_COPIES, room))


def draw_conditioned(
    generator: RowGenerator,
    plan: ConditionPlan,
    row_ids: np.ndarray,
    seed: int,
    copies: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Drawn (scalars, codes) for the output rows ``np.repeat(row_ids, copies)``, as
    RowGenerator.draw gives them, with every span condition met. The copies of a row are picked
    independently from the same candidates (each copy its own reservoir), so a selection round
    runs the network once per row, not once per copy."""
    device = generator.device
    sampler = generator.sampler
    m = len(row_ids)
    slots = np.repeat(np.arange(m), copies)  # the row each output copy belongs to
    torch_rng = torch.Generator(device=device)
    torch_rng.manual_seed(seed)
    rng = np.random.default_rng([seed, 2])
    spans = plan.spans
    shares = [torch.as_tensor(rows_of(s.share, row_ids).T.copy(), dtype=torch.float32,
                              device=device) for s in spans]  # (width, m) each  # fmt: skip
    cond_span, fed = _fed_span(plan, row_ids, sampler)  # (m,) index into spans, -1: none
    # the weight of a candidate leaves out the span the condition vector feeds
    log_shares = [torch.log(share) for share in shares]
    counted = [(cond_span != k) & rows_of(s.active, row_ids) for k, s in enumerate(spans)]
    # one candidate is enough when the condition vector feeds each row's only condition
    counted_any = [bool(c.any()) for c in counted]
    most = MAX_CANDIDATES if any(counted_any) else 1
    counted = [torch.as_tensor(c, device=device) for c in counted]
    kept_raw = torch.empty(generator.network.data_dim, len(slots), device=device)
    kept_category = np.zeros(len(slots), dtype=np.int64)
    copy_offsets = np.arange(copies)
    total = torch.zeros(m, dtype=torch.float64, device=device)
    drawing = np.arange(m)  # the rows still drawing candidates
    for candidate in range(most):
        if candidate >= CANDIDATES:
            drawing = np.flatnonzero((total < ENOUGH_WEIGHT).cpu().numpy())
            if not len(drawing):
                break
        rows = torch.as_tensor(drawing, device=device)
        span, category = _cond_vector(plan, row_ids[drawing], sampler, cond_span[drawing],
                                      [None if f is None else f[drawing] for f in fed], rng,
                                      torch_rng)  # fmt: skip
        raw = _forward(generator, span, category, torch_rng)  # (data_dim, len(drawing))
        log_w = torch.zeros(len(drawing), device=device)
        for k, (condition, log_share) in enumerate(zip(spans, log_shares)):
            if not counted_any[k]:
                continue
            logits = raw[condition.start : condition.stop]
            log_p = torch.log_softmax(logits, dim=0)
            mass = torch.logsumexp(log_p + log_share[:, rows], dim=0)
            log_w += torch.where(counted[k][rows], mass, torch.zeros_like(mass))
        weight = torch.exp(log_w.double())
        total[rows] += weight
        # weighted reservoir of one per copy: replace its kept candidate with probability
        # w / total
        position = np.repeat(np.arange(len(drawing)), copies)  # each copy's candidate
        at = torch.as_tensor(position, device=device)
        u = torch.rand(len(position), generator=torch_rng, device=device, dtype=torch.float64)
        totals = total[rows][at]
        take = ((u * totals < weight[at]) | (totals == 0)).cpu().numpy()
        copy_slots = (drawing[:, None] * copies + copy_offsets).ravel()
        kept_raw[:, torch.as_tensor(copy_slots[take], device=device)] = raw[:, at[take]]
        kept_category[copy_slots[take]] = category.cpu().numpy()[position[take]]
    span_logits = [kept_raw[s.start : s.stop].clone() for s in spans]
    scalars, codes = generator.activation.draw(kept_raw, torch_rng)  # overwrites kept_raw
    for condition, share, logits in zip(spans, shares, span_logits):
        codes[condition.code_row] = _restricted_draw(logits, share[:, slots], torch_rng)
    scalars, codes = scalars.cpu().numpy(), codes.cpu().numpy()
    for k, condition in enumerate(spans):
        fed_here = cond_span[slots] == k
        codes[condition.code_row, fed_here] = kept_category[fed_here]
    if generator.calibration is not None:
        generator.calibration.apply(scalars, codes)
    for condition in spans:
        if condition.place_low is not None and condition.scalar_row is not None:
            _squeeze_places(condition, scalars, codes, row_ids[slots])
    return scalars, codes


def _fed_span(plan: ConditionPlan, row_ids: np.ndarray, sampler) -> tuple[np.ndarray, list]:
    """Per row, the span condition the condition vector feeds (-1: none), chosen as the one the
    training rows meet least often; and per span condition its allowed categories' training
    frequencies, (m, width)."""
    m = len(row_ids)
    best = np.full(m, np.inf)
    choice = np.full(m, -1, dtype=np.int64)
    fed = []
    for k, condition in enumerate(plan.spans):
        if condition.cond_slot is None:
            fed.append(None)
            continue
        frequency = np.asarray(sampler.category_counts[condition.cond_slot], dtype=np.float64)
        weights = rows_of(condition.share, row_ids) * frequency[None, :]  # (m, width)
        mass = weights.sum(axis=1) / max(frequency.sum(), 1.0)
        mass = np.where(rows_of(condition.active, row_ids) & (mass > 0), mass, np.inf)
        better = mass < best
        choice[better], best[better] = k, mass[better]
        fed.append(weights)
    return choice, fed


def _cond_vector(plan, row_ids, sampler, cond_span, fed, rng, torch_rng):
    """(span, category) tensors of the condition vector per row: the fed span with a category
    drawn by training frequency among the allowed ones; free rows as unconditioned sampling."""
    m = len(row_ids)
    device = sampler.device
    if not sampler.n_spans:
        return None, None
    span, category = sampler.draw_conditions(m, torch_rng, training=False)
    span, category = span.cpu().numpy().copy(), category.cpu().numpy().copy()
    for k, condition in enumerate(plan.spans):
        rows = np.flatnonzero(cond_span == k)
        if not len(rows):
            continue
        weights = fed[k][rows]
        cumulative = np.cumsum(weights, axis=1)
        draw = rng.random(len(rows)) * cumulative[:, -1]
        picked = np.minimum((cumulative <= draw[:, None]).sum(axis=1), weights.shape[1] - 1)
        span[rows] = condition.cond_slot
        category[rows] = picked
    return (torch.as_tensor(span, device=device), torch.as_tensor(category, device=device))


def _forward(generator: RowGenerator, span, category, torch_rng) -> torch.Tensor:
    """The sampling network's raw output for one candidate per row: (data_dim, m)."""
    network, sampler = generator.network, generator.sampler
    m = len(span) if span is not None else 0
    if span is None:
        raise InvalidDataError("This model has no condition vector; it cannot be conditioned.")
    noise = torch.randn(generator.embedding_dim, m, generator=torch_rng, device=generator.device)
    gen_input = torch.empty(network.input_dim, m, device=generator.device)
    gen_input[: generator.embedding_dim] = noise
    sampler.cond_vec_feature_major(span, category, out=gen_input[generator.embedding_dim :])
    out = torch.empty(network.data_dim, m, device=generator.device)
    for first in range(0, m, SAMPLE_BLOCK_ROWS):
        part = slice(first, min(m, first + SAMPLE_BLOCK_ROWS))
        out[:, part] = network(gen_input[:, part].to(network.dtype).contiguous())
    return out


def _restricted_draw(logits: torch.Tensor, share: torch.Tensor, torch_rng) -> torch.Tensor:
    """One category per row from softmax(logits) restricted to (weighted by) ``share``:
    logits and share (width, m) -> (m,)."""
    weights = torch.softmax(logits, dim=0) * share
    total = weights.sum(dim=0)
    fallback = total <= 0  # underflow: the allowed category the softmax likes best
    if fallback.any():
        weights[:, fallback] = share[:, fallback]
        total = weights.sum(dim=0)
    cumulative = torch.cumsum(weights, dim=0)
    u = torch.rand(weights.shape[1], generator=torch_rng, device=weights.device) * total
    code = (cumulative <= u[None, :]).sum(dim=0)
    # never past the last allowed category (u * total can round up to the total)
    last_allowed = share.shape[0] - 1 - torch.argmax((share.flip(0) > 0).int(), dim=0)
    return torch.minimum(code, last_allowed)


def _squeeze_places(condition: SpanCondition, scalars, codes, row_ids) -> None:
    """A range's edge bins: the in-bin place mapped into the part of the bin that stays in
    range (an increasing map, so the generator's ordering inside the bin is kept)."""
    code = codes[condition.code_row]
    row = condition.scalar_row
    in_bins = code < condition.transformer.n_bins_
    if not in_bins.any():
        return
    index = np.flatnonzero(in_bins)
    low = rows_of(condition.place_low, row_ids[index])[np.arange(len(index)), code[index]]
    high = rows_of(condition.place_high, row_ids[index])[np.arange(len(index)), code[index]]
    place = (np.clip(scalars[row, index], -1.0, 1.0) + 1.0) / 2.0
    scalars[row, index] = low + place * (high - low)


def finish(plan: ConditionPlan, rows: pd.DataFrame, row_ids: np.ndarray) -> pd.DataFrame:
    """Decoded rows with equality values written and ranges held after rounding."""
    for condition in plan.spans:
        t = condition.transformer
        if t is None or (condition.place_low is None and condition.points is None
                         and condition.choices is None):  # fmt: skip
            continue  # categorical, or a range on Gaussian modes: checked, not clipped
        column = condition.column
        active = rows_of(condition.active, row_ids)
        x = t._to_float(rows[column], fitting=False)
        low = rows_of(condition.clip_low, row_ids)
        high = rows_of(condition.clip_high, row_ids)
        target = x
        written = np.zeros(len(x), dtype=bool)
        if condition.points is not None:
            points = rows_of(condition.points, row_ids)
            pointed = active & ~np.isnan(points)
            written |= pointed
            target = np.where(pointed, points, target)
        if condition.choices is not None:  # a list of values: the nearest one
            choices = rows_of(condition.choices, row_ids)
            listed = active & ~np.isnan(choices).all(axis=1)
            with np.errstate(invalid="ignore"):
                # in halves: values near the float maximum would overflow their difference
                distance = np.where(
                    np.isnan(choices), np.inf, np.abs(choices / 2 - x[:, None] / 2)
                )
            nearest = choices[np.arange(len(x)), np.argmin(distance, axis=1)]
            written |= listed
            target = np.where(listed, nearest, target)
        with np.errstate(invalid="ignore"):
            ranged = active & ~np.isnan(low) & (condition.place_low is not None)
            target = np.where(ranged, np.clip(target, low, high), target)
        changed = ~((target == x) | (np.isnan(target) & np.isnan(x)))
        if changed.any():
            rows[column] = t._from_float(target, rows.index).set_axis(rows.index)
        if condition.exact and written.any():  # the integers themselves, digits beyond 2**53 kept
            _write_exact(rows, column, condition.exact, target, written)
        if condition.exact_ranges and (active & ~written).any():
            _clip_exact(rows, column, condition, row_ids, np.flatnonzero(active & ~written))
    return rows


def _clip_exact(rows: pd.DataFrame, column: str, condition, row_ids, at) -> None:
    """Ranged rows of a column whose integers span more than 2**53 clipped in integers: the
    float bound's rounding can land a neighbour beyond the end."""
    values = rows[column].copy()
    changed = False
    for i in at:
        bounds = exact_range(condition, row_ids, i)
        if bounds is None or pd.isna(values.iloc[i]):
            continue
        v = clipped = int(values.iloc[i])
        low, high = bounds
        if low is not None:
            clipped = max(clipped, low)
        if high is not None:
            clipped = min(clipped, high)
        if clipped != v:
            values.iloc[i] = clipped
            changed = True
    if changed:
        rows[column] = values


def _write_exact(rows: pd.DataFrame, column: str, exact: dict, target, written) -> None:
    at = [i for i in np.flatnonzero(written) if target[i] in exact]
    if at:
        values = rows[column].copy()
        values.iloc[at] = [exact[target[i]] for i in at]
        rows[column] = values
