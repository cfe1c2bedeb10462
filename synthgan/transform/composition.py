"""Integer columns that are parts of one whole: found at fit, their row sum kept on every row.

Tables built from counts or rounded shares carry a constraint no single column shows: caravan's
MRELGE, MRELSA and MRELOV are a postcode's married, living-together and other households in
tenths, so each row's three add up to 9, 10 or 11 (the rounding), never 6 or 13. A generator
that learns the columns one value at a time writes sums anywhere from 6 to 13, and the sum is
the first thing a real-vs-synthetic classifier finds (caravan's ten such groups: a classifier
on their sums alone tells the synthetic rows at ROC AUC 0.99). :func:`find_compositions` looks
for such groups on the training rows; after decoding, a synthetic row whose group sum lies
outside the training rows' range of sums is moved into it, each part scaled by the same factor
and rounded by largest remainders (:meth:`Composition.enforce`), so every row keeps it. Training
rows are inside that range, so the transformer's round trip stays exact.

Where in the range a moved row goes: to the sums the rows decoded with it fall short of, against
the training rows' shares of each sum (``totals``), lowest sums to the lowest of those. Moving
each row to the nearer end instead piled them there (caravan: 26% of one group's rows summed to
8, which 0.3% of training rows do), and a classifier on the sums alone still told the synthetic
rows apart (docs/training.md, "Parts of a whole").

A group is at least two non-negative integer columns without nulls (a derived column takes no
part) whose row sum varies at most ``MAX_VARIANCE_RATIO`` as much as the parts' variances add up
to (independent parts give 1, a fixed whole gives 0). A group is grown from each column by
adding, one at a time, the column that lowers that ratio most, then dropping members that
cancel less than ``MIN_CANCELLED`` of their own variance against the rest (a nearly constant
column that leans against the group); it is read off the covariance matrix, so the search costs
no pass over the rows. The groups with the lowest ratios are kept, never two sharing a column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthgan.schema import ColumnKind, Schema

MAX_VARIANCE_RATIO = 0.1
"""A group's row sum varies at most this share of its parts' summed variances."""
MAX_MODE_SHARE = 0.99
"""A column whose most frequent value holds more than this share of the rows takes no part: it
adds nothing to a whole, and its few other values lean by chance against some group."""
MIN_ROWS = 50
"""Tables with fewer rows are not searched."""
MAX_COLUMNS = 500
"""Wider tables search only their first MAX_COLUMNS candidate columns."""
MIN_CANCELLED = 0.3
"""A member stays in a group when the others cancel at least this share of its own variance (a
part of a whole is the total minus the rest, which cancels all of it; caravan's catholics, the
least cancelled of its religion shares, 0.42); one that merely leans against the group
cancels a sliver."""
MAX_TOTALS = 1_000
"""A group whose training sums span more values than this (parts that are amounts, not counts)
keeps no shares of its sums: a moved row then goes to the nearer end of the range."""
MAX_PART = 2**53
"""A column holding a larger value takes no part: a part of a whole counts something, and
beyond 2**53 its values lose digits as floats (the covariance came out NaN for values near
2**63) and the sums of MAX_COLUMNS such parts could overflow int64."""
FIT_ROWS = 100_000
"""Rows the covariance is read from, at most (a random subset; every row gives the range)."""


@dataclass(frozen=True)
class Composition:
    """Columns whose row sum lies in [``low``, ``high``]; ``shares`` splits a total when every
    part is 0; ``totals``: the training rows' share of each sum from ``low`` to ``high`` (None in
    model files written before it: a moved row then goes to the nearer end)."""

    columns: tuple[str, ...]
    low: int
    high: int
    shares: tuple[float, ...]
    totals: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.totals is None:
            return
        totals = np.asarray(self.totals)
        if len(totals) != self.high - self.low + 1:
            raise ValueError(
                f"a composition of {self.low} to {self.high} holds {len(totals)} shares of its "
                f"sums, not {self.high - self.low + 1}"
            )
        if not (np.isfinite(totals).all() and (totals >= 0).all() and totals.sum() > 0):
            raise ValueError(f"a composition's shares of its sums are not shares: {self.totals}")

    def describe(self) -> str:
        return f"{' + '.join(self.columns)} lies between {self.low} and {self.high}"

    def enforce(
        self,
        frame: pd.DataFrame,
        bounds: dict[str, tuple[float, float]],
        blocks: list[int] | None = None,
    ) -> pd.DataFrame:
        """``frame`` with each row whose group sum lies outside [low, high] moved into it
        (:meth:`targets`, over each of the consecutive ``blocks`` of rows apart, by default all
        of them as one), the parts scaled alike and rounded by largest remainders within each
        column's ``bounds``. Rows holding a null in the group are left alone."""
        parts = frame[list(self.columns)].to_numpy(dtype=np.float64, na_value=np.nan)
        sums = parts.sum(axis=1)
        with np.errstate(invalid="ignore"):
            off = (sums < self.low) | (sums > self.high)
        if not off.any():
            return frame
        ends = np.cumsum([len(frame)] if blocks is None else blocks)
        target = np.concatenate([  # (n_off,): the blocks' moved rows, in order
            self.targets(sums[start:end], off[start:end])
            for start, end in zip(np.concatenate([[0], ends[:-1]]), ends)
        ])  # fmt: skip
        parts, sums = parts[off], sums[off]
        low = np.array([bounds[c][0] for c in self.columns])
        high = np.array([bounds[c][1] for c in self.columns])
        weights = np.where(sums[:, None] > 0, parts, np.asarray(self.shares)[None, :])
        scaled = weights * (target / weights.sum(axis=1))[:, None]  # (n_off, n_parts)
        moved = np.clip(np.floor(scaled), low, high)
        remainder = scaled - moved
        for _ in range(len(self.columns)):  # hand out what rounding and the bounds left over
            short = target - moved.sum(axis=1)
            if not short.any():
                break
            room = np.where(short[:, None] > 0, moved < high, moved > low)
            pick = np.where(room, np.where(short[:, None] > 0, remainder, -remainder), -np.inf)
            ranks = np.argsort(np.argsort(-pick, axis=1, kind="stable"), axis=1)
            step = np.sign(short)[:, None] * (ranks < np.abs(short)[:, None]) * room
            moved = np.clip(moved + step, low, high)
            remainder = np.where(step != 0, 0.0, remainder)
        frame = frame.copy()
        for j, name in enumerate(self.columns):
            values = frame[name].to_numpy(copy=True)
            values[off] = moved[:, j].astype(values.dtype)
            frame[name] = pd.Series(values, index=frame.index, dtype=frame[name].dtype)
        return frame

    def targets(self, sums: np.ndarray, off: np.ndarray) -> np.ndarray:
        """The sums (n_off,) that the rows ``off`` (a mask over ``sums``, the group sums of the
        rows decoded together) are moved to. The rows inside the range keep theirs; the moved
        rows fill what those fall short of the training shares, each sum getting rows in
        proportion to its shortfall (largest remainders), and rows keep their order: the
        lowest sums go to the lowest of those."""
        if self.totals is None:
            return np.clip(sums[off], self.low, self.high)
        inside = ~off & ~np.isnan(sums)
        codes = np.clip(np.rint(sums[inside] - self.low), 0, len(self.totals) - 1)
        held = np.bincount(codes.astype(np.int64), minlength=len(self.totals))
        n_off = int(off.sum())
        wanted = np.asarray(self.totals) * (inside.sum() + n_off)
        # the shortfalls add up to n_off at least (the shares add up to 1), so all are placed
        shortfall = np.maximum(wanted - held, 0.0)
        if shortfall.sum() <= 0:  # only where the shares were rounded: as the training rows
            shortfall = np.asarray(self.totals)
        return _placed(sums[off], shortfall, n_off, self.low)

    def to_dict(self) -> dict:
        return {"columns": list(self.columns), "low": self.low, "high": self.high,
                "shares": list(self.shares),
                "totals": None if self.totals is None else list(self.totals)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Composition:
        totals = data.get("totals")  # files before it hold none
        return cls(tuple(data["columns"]), int(data["low"]), int(data["high"]),
                   tuple(float(s) for s in data["shares"]),
                   None if totals is None else tuple(float(t) for t in totals))  # fmt: skip


def find_compositions(
    df: pd.DataFrame, schema: Schema, *, exclude: set[str] | frozenset[str] = frozenset(),
    random_state: int | None = 0,
) -> list[Composition]:  # fmt: skip
    """The groups of ``df``'s integer columns whose row sum is nearly fixed (module docstring);
    columns in ``exclude`` (derived ones) take no part."""
    if len(df) < MIN_ROWS:
        return []
    candidates = [
        spec.name for spec in schema.output
        if spec.kind is ColumnKind.INTEGER and spec.name not in exclude
        and not df[spec.name].isna().any() and 0 <= df[spec.name].min()
        and df[spec.name].max() <= MAX_PART
        and df[spec.name].value_counts(normalize=True).iloc[0] <= MAX_MODE_SHARE
    ][:MAX_COLUMNS]  # fmt: skip
    if len(candidates) < 2:
        return []
    rows = df[candidates]
    if len(rows) > FIT_ROWS:
        rows = rows.sample(FIT_ROWS, random_state=random_state)
    values = rows.to_numpy(dtype=np.float64)
    covariance = np.atleast_2d(np.cov(values, rowvar=False))
    grown = {tuple(sorted(_grow(covariance, start))) for start in range(len(candidates))}
    ratios = {group: _variance_ratio(covariance, list(group)) for group in grown if len(group) > 1}
    taken = np.zeros(len(candidates), dtype=bool)
    found = []
    for group in sorted(ratios, key=ratios.get):  # the most fixed sums first
        group = [i for i in group if not taken[i]]  # a column an earlier group took: left out
        if len(group) < 2 or _variance_ratio(covariance, group) > MAX_VARIANCE_RATIO:
            continue
        found.append(_composition(df[[candidates[i] for i in group]]))
        taken[group] = True
    return found


def _variance_ratio(covariance: np.ndarray, group: list[int]) -> float:
    """var(sum of the group) / the sum of its columns' variances."""
    return float(covariance[np.ix_(group, group)].sum() / np.diag(covariance)[group].sum())


def _grow(covariance: np.ndarray, start: int) -> list[int]:
    """Columns added one at a time to ``start``, each the one that lowers the group's variance
    ratio most, while one lowers it; then, one at a time, the member cancelling the least of
    its own variance against the rest is dropped while that is under ``MIN_CANCELLED``."""
    variances = np.diag(covariance)
    group = [start]
    variance, summed = variances[start], variances[start]
    with_group = covariance[start].copy()  # covariance of each column with the group's sum
    free = np.ones(len(variances), dtype=bool)
    free[start] = False
    while free.any():
        change = variances + 2.0 * with_group  # var(sum + x_j) - var(sum)
        ratio = np.where(free, (variance + change) / (summed + variances), np.inf)
        best = int(np.argmin(ratio))
        if ratio[best] >= variance / summed:
            break
        group.append(best)
        variance, summed = variance + change[best], summed + variances[best]
        with_group += covariance[best]
        free[best] = False
    while len(group) > 1:
        members = np.array(group)
        # what each member's covariance with the others takes off its own variance, over it
        with_rest = covariance[np.ix_(members, members)].sum(axis=1) - variances[members]
        cancelled = -(variances[members] + 2.0 * with_rest) / variances[members]
        worst = int(np.argmin(cancelled))
        if cancelled[worst] >= MIN_CANCELLED:
            break
        group.pop(worst)
    return group


def _composition(parts: pd.DataFrame) -> Composition:
    sums = parts.sum(axis=1).to_numpy()
    means = parts.mean().to_numpy()
    shares = means / means.sum()  # positive: each part is non-negative and varies
    low, high = int(sums.min()), int(sums.max())
    totals = None
    if high - low < MAX_TOTALS:  # then every offset below fits its dtype
        counts = np.bincount((sums - sums.min()).astype(np.int64), minlength=high - low + 1)
        totals = tuple(float(t) for t in counts / len(sums))
    return Composition(
        tuple(str(c) for c in parts.columns), low, high, tuple(float(s) for s in shares), totals
    )


def _apportioned(weights: np.ndarray, total: int) -> np.ndarray:
    """``total`` split in proportion to ``weights`` into whole numbers (largest remainders)."""
    quota = weights * (total / weights.sum())
    counts = np.floor(quota).astype(np.int64)
    counts[np.argsort(-(quota - counts), kind="stable")[: total - counts.sum()]] += 1
    return counts


def _placed(sums: np.ndarray, weights: np.ndarray, n: int, low: int) -> np.ndarray:
    """The new sums of ``n`` rows with sums ``sums``: ``weights`` apportioned over low, low + 1,
    ..., handed out in the rows' order (the lowest sums to the lowest)."""
    target = np.empty(n)
    target[np.argsort(sums, kind="stable")] = np.repeat(
        np.arange(low, low + len(weights), dtype=np.float64), _apportioned(weights, n)
    )
    return target
