"""Distances to the closest training row when the training table does not fit in memory.

The training rows come in chunks (Parquet record batches, shards); each chunk's exact k nearest
distances to every query row are computed by :func:`synthgan.evaluate.privacy.nearest_distances`
and merged: the k nearest over the whole table are the k smallest of the chunks' k nearest.
Exact, never an approximate index (which can only overstate privacy: a missed neighbour makes a
copied row look far from its source).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from synthgan.evaluate.privacy import nearest_distances


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
