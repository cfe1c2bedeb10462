"""Evaluation of tables read in chunks: exact fidelity from streamed counts, exact distances.

Fidelity (:func:`fidelity_scores`): every per-column figure of ``column_table`` (shape, Wasserstein,
null rate, coverage, adherence) from exact value counts of each column, and the pair scores from
exact joint code counts and mergeable Pearson co-moments, over every row of both tables.

Distances to the closest training row (:func:`nearest_over_chunks`):

The training rows come in chunks (Parquet record batches, shards); each chunk's exact k nearest
distances to every query row are computed by :func:`synthgan.evaluate.privacy.nearest_distances`
and merged: the k nearest over the whole table are the k smallest of the chunks' k nearest.
Exact, never an approximate index (which can only overstate privacy: a missed neighbour makes a
copied row look far from its source).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

from synthgan.evaluate._columns import (
    NULL_LABEL,
    category_labels,
    evaluated_columns,
    is_numeric,
    largest_magnitude,
    numeric_values,
)
from synthgan.evaluate.context import subsample
from synthgan.evaluate.fidelity import PAIR_BINS
from synthgan.evaluate.privacy import (
    DCR_MAX_SYNTHETIC,
    MAX_ONE_HOT,
    RowEmbedding,
    nearest_distances,
    standardisation,
)
from synthgan.evaluate.registry import METRICS
from synthgan.exceptions import InvalidDataError

SAMPLE_ROWS = 100_000
"""Rows of each table (a seeded uniform sample) the column kinds are inferred from and the
sampled metrics (:data:`SAMPLED_METRICS`) see."""


def nearest_over_chunks(
    reference_chunks: Iterable[np.ndarray], queries: np.ndarray, k: int
) -> np.ndarray:
    """Distances from each query row to its ``k`` nearest rows over all ``reference_chunks``
    (each an ndarray (m, d) of embedded rows), ascending: ndarray of shape (n_queries, k),
    NaN where the chunks hold fewer than ``k`` rows in all."""
    best = np.full((len(queries), k), np.nan)
    for chunk in reference_chunks:
        found = nearest_distances(chunk, queries, k)  # (n_queries, k), NaN past the chunk's rows
        merged = np.concatenate([best, found], axis=1)
        best = np.sort(merged, axis=1)[:, :k]  # NaN sorts last
    return best


# -- fidelity from exact streamed counts ------------------------------------------------------------
@dataclass
class _Pair:
    """Mergeable statistics of two columns: their joint code counts, and Pearson co-moments
    over rows where both are present (Chan et al.'s pairwise update, exact for constants)."""

    counts: np.ndarray
    n: int = 0
    mean_a: float = 0.0
    mean_b: float = 0.0
    m2_a: float = 0.0
    m2_b: float = 0.0
    co: float = 0.0

    def add_moments(self, a: np.ndarray, b: np.ndarray) -> None:
        both = ~(np.isnan(a) | np.isnan(b))
        a, b = a[both], b[both]
        if not len(a):
            return
        n, mean_a, mean_b = len(a), a.mean(), b.mean()
        m2_a, m2_b = ((a - mean_a) ** 2).sum(), ((b - mean_b) ** 2).sum()
        co = ((a - mean_a) * (b - mean_b)).sum()
        total = self.n + n
        delta_a, delta_b = mean_a - self.mean_a, mean_b - self.mean_b
        self.m2_a += m2_a + delta_a**2 * self.n * n / total
        self.m2_b += m2_b + delta_b**2 * self.n * n / total
        self.co += co + delta_a * delta_b * self.n * n / total
        self.mean_a += delta_a * n / total
        self.mean_b += delta_b * n / total
        self.n = total

    def correlation(self) -> float:
        if self.n < 2 or self.m2_a == 0 or self.m2_b == 0:
            return float("nan")
        return float(self.co / np.sqrt(self.m2_a * self.m2_b))


def _values(series: pd.Series, numeric: bool, table: str) -> np.ndarray:
    return numeric_values(series, table=table) if numeric else category_labels(series)


def _count(values: np.ndarray, numeric: bool) -> pd.Series:
    series = pd.Series(values, dtype=np.float64 if numeric else object)
    return series.value_counts(dropna=False, sort=False)


class StreamedTable:
    """One table's exact per-column value counts (nulls included), read chunk by chunk."""

    def __init__(self, schema, columns: list[str]) -> None:
        self.schema, self.columns = schema, columns
        self.numeric = {name: is_numeric(schema.kind(name)) for name in columns}
        self.counts: dict[str, pd.Series] = {}
        self.rows = 0

    def update(self, frame: pd.DataFrame, table: str) -> None:
        self.rows += len(frame)
        for name in self.columns:
            counts = _count(_values(frame[name], self.numeric[name], table), self.numeric[name])
            if name in self.counts:
                both = pd.concat([self.counts[name], counts])
                counts = both.groupby(level=0, sort=False, dropna=False).sum()
            self.counts[name] = counts

    def present(self, name: str) -> pd.Series:
        counts = self.counts[name]
        return counts[counts.index.notna()]


def _numeric_scores(real: pd.Series, synth: pd.Series) -> dict[str, float]:
    """fidelity._numeric_column_scores from value -> count tables of the non-null values."""
    if synth.sum() == 0:
        return {"shape": 0.0, "wasserstein": float("nan"), "coverage": 0.0, "adherence": 0.0}
    real, synth = real.sort_index(), synth.sort_index()
    rv, rc = real.index.to_numpy(np.float64), real.to_numpy(np.float64)
    sv, sc = synth.index.to_numpy(np.float64), synth.to_numpy(np.float64)
    magnitude = largest_magnitude(rv, sv)
    rv, sv = rv / magnitude, sv / magnitude
    low, high = rv[0], rv[-1]
    n_real, n_synth = rc.sum(), sc.sum()
    centre = float((rv * rc).sum() / n_real)
    scale = float(np.sqrt((((rv - centre) ** 2) * rc).sum() / n_real))
    scale = scale if scale > 0 else 1.0
    if high > low:
        covered = min(high, sv[-1]) - max(low, sv[0])
        coverage = float(np.clip(covered / (high - low), 0.0, 1.0))
    else:
        coverage = float(np.any(sv == low))
    grid = np.union1d(rv, sv)
    cum_real = np.concatenate([[0.0], np.cumsum(rc)])[np.searchsorted(rv, grid, "right")]
    cum_synth = np.concatenate([[0.0], np.cumsum(sc)])[np.searchsorted(sv, grid, "right")]
    ks = float(np.max(np.abs(cum_real / n_real - cum_synth / n_synth)))
    inside = (sv >= low) & (sv <= high)
    return {
        "shape": 1.0 - ks,
        "wasserstein": float(wasserstein_distance(
            (rv - centre) / scale, (sv - centre) / scale, rc, sc)),  # fmt: skip
        "coverage": coverage,
        "adherence": float(sc[inside].sum() / n_synth),
    }


def _categorical_scores(real: pd.Series, synth: pd.Series) -> dict[str, float]:
    """fidelity._categorical_column_scores from label -> count tables of the non-null labels."""
    if synth.sum() == 0:
        return {"shape": 0.0, "wasserstein": float("nan"), "coverage": 0.0, "adherence": 0.0}
    freq_real, freq_synth = (real / real.sum()).align(synth / synth.sum(), fill_value=0.0)
    return {
        "shape": 1.0 - float(0.5 * np.abs(freq_real.to_numpy() - freq_synth.to_numpy()).sum()),
        "wasserstein": float("nan"),
        "coverage": float(np.mean(real.index.isin(synth.index))),
        "adherence": float(synth[synth.index.isin(real.index)].sum() / synth.sum()),
    }


def _coder(real: StreamedTable, synth: StreamedTable, name: str):
    """fidelity._pair_codes as a function of a chunk's values: (codes, number of codes)."""
    if real.numeric[name]:
        present = real.present(name).index.to_numpy(np.float64)
        low, high = (present.min(), present.max()) if len(present) else (0.0, 1.0)
        edges = np.linspace(low, high, PAIR_BINS + 1)[1:-1]

        def numeric_codes(values: np.ndarray) -> np.ndarray:
            return np.where(np.isnan(values), PAIR_BINS, np.searchsorted(edges, values, "right"))

        return numeric_codes, PAIR_BINS + 1
    labels = pd.Index(
        pd.unique(np.concatenate([real.present(name).index.to_numpy(object),
                                  synth.present(name).index.to_numpy(object)]))  # fmt: skip
    )

    def label_codes(values: np.ndarray) -> np.ndarray:
        codes = labels.get_indexer(pd.Index(values, dtype=object))
        return np.where(codes < 0, len(labels), codes)

    return label_codes, len(labels) + 1


def _pairs(frames_real, frames_synth, real: StreamedTable, synth: StreamedTable) -> pd.DataFrame:
    """fidelity.pair_matrix over every row of both tables (the in-memory metric looks at
    ``PAIRS_MAX_ROWS`` rows of each)."""
    names = real.columns
    coders = {name: _coder(real, synth, name) for name in names}
    stats = {}
    for table, frames, streamed in (("real", frames_real, real), ("synthetic", frames_synth, synth)):
        pairs = {pair: _Pair(np.zeros(coders[pair[0]][1] * coders[pair[1]][1], dtype=np.int64))
                 for pair in combinations(names, 2)}  # fmt: skip
        for frame in frames:
            values = {n: _values(frame[n], streamed.numeric[n], f"{table} table") for n in names}
            codes = {n: coders[n][0](values[n]) for n in names}
            for (a, b), pair in pairs.items():
                cells = codes[a] * coders[b][1] + codes[b]
                pair.counts += np.bincount(cells, minlength=len(pair.counts))
                if streamed.numeric[a] and streamed.numeric[b]:
                    pair.add_moments(values[a], values[b])
        stats[table] = pairs
    matrix = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for pair in combinations(names, 2):
        ours, theirs = stats["real"][pair], stats["synthetic"][pair]
        score = float("nan")
        if real.numeric[pair[0]] and real.numeric[pair[1]]:
            score = 1.0 - abs(ours.correlation() - theirs.correlation()) / 2.0
        if np.isnan(score):
            real_freq = ours.counts / real.rows
            synth_freq = theirs.counts / synth.rows
            score = float(1.0 - 0.5 * np.abs(real_freq - synth_freq).sum())
        matrix.loc[pair[0], pair[1]] = matrix.loc[pair[1], pair[0]] = score
    return matrix


def fidelity_scores(real_frames, synthetic_frames, schema) -> dict:
    """column_shapes, wasserstein, null_rate_difference, coverage, adherence and column_pairs,
    by fidelity's definitions, over every row of both tables read as chunks.

    ``real_frames`` and ``synthetic_frames`` are callables returning a fresh iterator of
    DataFrames each time (the tables are read twice: counts, then pairs).
    """
    columns = evaluated_columns(schema)
    real, synth = StreamedTable(schema, columns), StreamedTable(schema, columns)
    for frame in real_frames():
        real.update(frame, "real table")
    for frame in synthetic_frames():
        synth.update(frame, "synthetic table")
    rows = []
    for name in columns:
        score = _numeric_scores if real.numeric[name] else _categorical_scores
        scores = score(real.present(name), synth.present(name))
        null_real = 1.0 - real.present(name).sum() / real.rows
        null_synth = 1.0 - synth.present(name).sum() / synth.rows
        rows.append({"column": name, **scores,
                     "null_rate_difference": abs(float(null_real) - float(null_synth))})  # fmt: skip
    table = pd.DataFrame(rows)
    matrix = _pairs(real_frames(), synthetic_frames(), real, synth).to_numpy()
    upper = matrix[np.triu_indices_from(matrix, k=1)]
    wasserstein = table["wasserstein"].dropna()
    return {
        "column_shapes": float(table["shape"].mean()),
        "wasserstein": float(wasserstein.mean()) if len(wasserstein) else float("nan"),
        "null_rate_difference": float(table["null_rate_difference"].max()),
        "coverage": float(table["coverage"].mean()),
        "adherence": float(table["adherence"].mean()),
        "column_pairs": float(upper.mean()) if upper.size else float("nan"),
        "rows": {"real": real.rows, "synthetic": synth.rows},
    }


# -- distances to the closest training row, over every training row -------------------------------
def embedding_from_counts(table: StreamedTable):
    """The RowEmbedding ``RowEmbedding.fit`` gives on the whole table, from its exact counts."""
    embedding = RowEmbedding(schema=table.schema, columns=table.columns)
    embedding.numeric_, embedding.labels_ = {}, {}
    for name in table.columns:
        if table.numeric[name]:
            present = table.present(name)
            values, counts = present.index.to_numpy(np.float64), present.to_numpy(np.float64)
            embedding.numeric_[name] = standardisation(values, counts)
        else:
            counts = table.counts[name].copy()
            counts.index = [NULL_LABEL if pd.isna(label) else label for label in counts.index]
            top = counts.sort_values(ascending=False, kind="stable").index[:MAX_ONE_HOT]
            embedding.labels_[name] = {str(label): i for i, label in enumerate(top)}
    return embedding


def closest_record_distances(real_frames, queries: pd.DataFrame, schema, k: int = 1) -> np.ndarray:
    """Each row of ``queries`` (synthetic or holdout rows, a DataFrame that fits) to its ``k``
    nearest rows of the whole real table, read twice as chunks (``real_frames()`` gives a fresh
    iterator): exact distances in the evaluator's row embedding, ndarray (n_queries, k)."""
    table = StreamedTable(schema, evaluated_columns(schema))
    for frame in real_frames():
        table.update(frame, "real table")
    embedding = embedding_from_counts(table)
    points = embedding.transform(queries, table="query table")
    chunks = (embedding.transform(frame, table="real table") for frame in real_frames())
    return nearest_over_chunks(chunks, points, k)


SAMPLED_METRICS = ("detection_auc", "utility_real", "utility_synthetic", "utility_gap", "f1_real",
                   "f1_synthetic", "dcr_share", "dcr_p5", "nndr", "exact_copy_rate", "mia_auc")
"""The evaluator's metrics a streamed evaluation computes on uniform samples of the tables (each
already looks at a bounded subsample in memory, except utility and copies; see docs/scale.md)."""


def evaluate_sources(real, synthetic, *, holdout=None, target: str | None = None, schema=None,
                     chunk_rows: int = 65_536, sample_rows: int = SAMPLE_ROWS,
                     random_state: int = 0, report_path=None) -> dict:  # fmt: skip
    """Scores of ``synthetic`` against ``real`` (and ``holdout``), each a Parquet file, folder or
    Dataset read in chunks.

    * Over every row: :func:`fidelity_scores` (with a holdout, each also for the holdout against
      ``real``: ``baselines``), and ``closest_record``: each of at most ``DCR_MAX_SYNTHETIC``
      synthetic rows (a seeded uniform sample) to its closest row of the whole real table
      (``dcr_p5``, the 5th percentile of those distances; ``exact_copy_rate``, the share at 0).
    * On seeded uniform samples of at most ``sample_rows`` rows of each table, by the in-memory
      evaluator's code: ``detection_auc``, and with ``holdout`` the privacy metrics
      (``dcr_share``, ``dcr_p5``, ``nndr``, ``exact_copy_rate``, ``mia_auc``), with ``target``
      too the utility metrics. Where every table fits in the samples these are the in-memory
      evaluator's figures exactly.

    The column kinds are inferred from the real sample, unless ``schema`` is given. With
    ``report_path``, the in-memory evaluator's HTML report of the samples (every metric and
    plot, marked as sampled) is written there.
    """
    from synthgan.evaluate.evaluator import evaluate
    from synthgan.io import dataset_rows, iter_frames, open_dataset
    from synthgan.schema import resolve_schema
    from synthgan.transform.stats import RowReservoir

    if isinstance(sample_rows, bool) or not isinstance(sample_rows, int) or sample_rows < 1:
        raise InvalidDataError(
            f"sample_rows must be a positive integer, got {sample_rows!r}. Pass e.g. "
            f"sample_rows={SAMPLE_ROWS}."
        )
    sources = {"real": real, "synthetic": synthetic, "holdout": holdout}
    sets = {name: open_dataset(data) for name, data in sources.items() if data is not None}
    for name, dataset in sets.items():
        if dataset_rows(dataset) == 0:
            raise InvalidDataError(f"The {name} table ({sources[name]}) has no rows; "
                                   "evaluation needs rows in every table.")  # fmt: skip

    def frames(name):
        return lambda: iter_frames(sets[name], chunk_rows)

    samples = {}
    for name in sets:
        reservoir = RowReservoir(sample_rows, [random_state, len(samples)])
        for frame in frames(name)():
            reservoir.update(frame)
        samples[name] = reservoir.frame
    schema = resolve_schema(samples["real"], schema)
    scores = fidelity_scores(frames("real"), frames("synthetic"), schema)
    if holdout is not None:
        baselines = fidelity_scores(frames("real"), frames("holdout"), schema)
        scores["rows"]["holdout"] = baselines.pop("rows")["synthetic"]
        scores["baselines"] = baselines

    queries = subsample(samples["synthetic"], DCR_MAX_SYNTHETIC, np.random.default_rng(random_state))
    nearest = closest_record_distances(frames("real"), queries, schema)[:, 0]
    scores["closest_record"] = {
        "dcr_p5": float(np.percentile(nearest, 5)),
        "exact_copy_rate": float(np.mean(nearest == 0)),
        "synthetic_rows_sampled": len(queries),
        "real_rows": scores["rows"]["real"],
    }

    needs = {"holdout": holdout is not None, "target": target is not None}
    wanted = [name for name in SAMPLED_METRICS if all(needs[need] for need in METRICS[name].needs)]
    # each metric draws from its own seeded stream: the same figures with or without the others
    report = evaluate(samples["real"], samples["synthetic"], samples.get("holdout"), target,
                      metrics=None if report_path is not None else wanted, schema=schema,
                      random_state=random_state)  # fmt: skip
    scores.update({name: report.scores[name] for name in wanted if name in report.scores})
    scores["sampled"] = {"metrics": [n for n in wanted if n in report.scores],
                         "rows": {name: len(sample) for name, sample in samples.items()}}  # fmt: skip
    if report_path is not None:
        report.meta["sampled"] = {"rows": scores["sampled"]["rows"],
                                  "table_rows": scores["rows"]}  # fmt: skip
        report.to_html(report_path)
    return scores
