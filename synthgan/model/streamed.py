"""A fit on a table read in record batches, with memory bounded whatever its row count.

Two passes over a Parquet file, a folder of Parquet files or a ``pyarrow.dataset.Dataset``:

1. statistics (:mod:`synthgan.transform.stats`): exact per-column counts, nulls, bounds and value
   counts, and a seeded uniform sample of rows; the TableTransformer is fitted on them
   (``TableTransformer.fit_stats``);
2. encoding: ``chunk_rows`` rows at a time into memory-mapped shards on local disk
   (:mod:`synthgan.model.shards`), from which training gathers each batch.

On a table whose every row fits in the sample and whose columns' distinct values fit in the
counts, the streamed fit is the in-memory fit: the same transformer, the same encoded rows, the
same draws, so the same model for a seed (tests/integration/test_streamed_fit.py). Beyond that,
what is read off the sample rather than every row is listed in docs/scale.md.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from synthgan.exceptions import InvalidDataError
from synthgan.io import dataset_rows, is_dataset_source, iter_frames, open_dataset, source_bytes
from synthgan.model.distributed import active_sync, per_rank_batch
from synthgan.model.runtime import block_seed, resolve_device, seed_from
from synthgan.model.shards import (
    RESIDENT_BYTES,
    SHARD_ROWS,
    ShardedConditionSampler,
    ShardedRows,
    ShardLayout,
    ShardWriter,
)
from synthgan.schema import validate_frame
from synthgan.transform.derived import Monotone, find_derivations
from synthgan.transform.stats import MAX_DISTINCT, SAMPLE_ROWS, scan
from synthgan.transform.table import TRANSFORM_CHUNK_ROWS, TableTransformer

STREAM_MIN_BYTES = 1 << 30
"""Files and folders at least this large on disk are streamed when ``stream`` is None."""
CRITIC_ROWS = 50_000
"""Real rows (at most) the rejection-sampling critic of a streamed fit learns from."""


@dataclass(frozen=True)
class Streaming:
    """The bounds of a streamed fit. Memory grows with each of them, never with the rows.

    Parameters
    ----------
    chunk_rows : int, default=32768
        Rows read, counted and encoded at a time; a multiple of 32,768 (the transformer's own
        chunk, so a streamed encoding draws what an in-memory one draws).
    sample_rows : int, default=100000
        Rows of the uniform sample (column kinds, exact relations, and the quantile map of a
        column with more than ``max_distinct`` distinct values).
    max_distinct : int, default=100000
        Distinct values counted exactly per column; beyond, a numeric column is fitted on the
        sample and a categorical one is refused with a message naming it.
    shard_rows : int, default=1048576
        Rows per shard file.
    shard_dir : str, optional
        Folder for the shards (a temporary folder inside it, removed after the fit); the
        system's temporary folder when None. Needs about ``rows x (4 x numeric columns with
        modes + 2 x components + 4 x conditionable spans)`` bytes.
    resident_bytes : int, default=256 MiB
        Mapped shard pages allowed to stay resident before they are handed back.
    critic_rows : int, default=50000
        Real rows the rejection-sampling critic learns from (all rows when fewer).
    """

    chunk_rows: int = TRANSFORM_CHUNK_ROWS
    sample_rows: int = SAMPLE_ROWS
    max_distinct: int = MAX_DISTINCT
    shard_rows: int = SHARD_ROWS
    shard_dir: str | None = None
    resident_bytes: int = RESIDENT_BYTES
    critic_rows: int = CRITIC_ROWS

    def check(self) -> None:
        if self.chunk_rows < 1 or self.chunk_rows % TRANSFORM_CHUNK_ROWS:
            raise InvalidDataError(
                f"Streaming chunk_rows={self.chunk_rows!r} must be a positive multiple of "
                f"{TRANSFORM_CHUNK_ROWS}."
            )
        for name in ("sample_rows", "max_distinct", "shard_rows", "resident_bytes", "critic_rows"):
            if getattr(self, name) < 1:
                raise InvalidDataError(
                    f"Streaming {name}={getattr(self, name)!r} must be positive."
                )
        if self.shard_dir is not None and not Path(self.shard_dir).is_dir():
            raise InvalidDataError(
                f"{self.shard_dir}: no such folder for the shards. Create it or give another "
                "shard_dir."
            )


def fit_source(model, data, *, resume: bool, stream) -> object:
    """``Synthesizer.fit`` on a file, folder or Dataset: streamed, or read whole and fitted as
    a DataFrame (small inputs, or ``stream=False``)."""
    if not is_dataset_source(data):
        validate_frame(data)  # the usual message for what is neither a table nor a source
    if stream is None:
        size = source_bytes(data)
        stream = size is None or size >= STREAM_MIN_BYTES
    dataset = open_dataset(data)
    if stream is False:
        frames = list(iter_frames(dataset, 1 << 20))
        if not frames:
            raise InvalidDataError(f"{data}: the table has no rows.")
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return model.fit(frame, resume=resume)
    options = stream if isinstance(stream, Streaming) else Streaming()
    if resume:
        raise InvalidDataError(
            "resume=True is not supported for a streamed fit yet. Fit anew, or resume on a "
            "DataFrame."
        )
    return fit_streamed(model, dataset, options)


def fit_streamed(model, dataset, options: Streaming):
    """Fit ``model`` (a Synthesizer) on ``dataset`` in two passes; see the module docstring."""
    options.check()
    if model.epsilon is not None:
        raise InvalidDataError(
            "A private fit (epsilon) cannot be streamed yet. Fit a DataFrame, or fit without "
            "epsilon."
        )
    if model.rules:
        raise InvalidDataError(
            "rules cannot be combined with a streamed fit yet. Fit a DataFrame, or fit "
            "without rules."
        )
    start = time.monotonic()
    n_rows = dataset_rows(dataset)
    if n_rows == 0:
        raise InvalidDataError(
            "The table is empty (0 rows); synthgan needs at least one row and one column."
        )
    model.seed_ = seed_from(model.random_state)
    model.device_ = resolve_device(model.device)
    model.rules_, model.privacy_ = None, None
    sync = active_sync(model.device_)  # None unless data-parallel (model/distributed.py)
    lead = sync is None or sync.rank == 0
    if lead:  # the statistics pass and the transformer: rank 0's, shared with the others
        with _rows_bar(model, n_rows, "Statistics") as bar:
            stats = scan(
                _counted(iter_frames(dataset, options.chunk_rows), bar),
                sample_rows=options.sample_rows, max_distinct=options.max_distinct,
                seed=block_seed(model.seed_, 5_000_000),
            )  # fmt: skip
    with model._local_rng():
        torch.manual_seed(model.seed_)
        transformer = model._new_transformer(model.schema)
        facts = None
        if lead:
            derivations = None
            if model.derive_columns:
                keep = () if model.target is None else (model.target,)
                found = find_derivations(stats.sample, stats.schema(model.schema), keep=keep)
                derivations = found if stats.complete else _holding(found, dataset, options)
            transformer.fit_stats(stats, derivations=derivations)
            facts = {
                "rows": n_rows,
                "sample_rows": len(stats.sample),
                "sampled_columns": [n for n, c in stats.columns.items() if not c.exact],
            }
        if sync is not None:
            state, facts = sync.share((transformer.get_state(), facts) if lead else None)
            if not lead:
                transformer = TableTransformer.from_state(state)
        model._start(transformer, announce=lead)
    model.stream_facts_ = facts
    layout = ShardLayout.of(transformer.layout_)
    parent = options.shard_dir or tempfile.gettempdir()
    mine = n_rows if sync is None else len(sync.shard(n_rows))  # rows rank, rank + N, ...
    _check_disk(parent, mine, layout, len(model.condition_spans_))
    torch_seed, rng_seed = block_seed(model.seed_, 1_000_000), block_seed(model.seed_, 2_000_000)
    batch_size = None
    if sync is not None:
        batch_size = per_rank_batch(model.batch_size, model.pac, sync.world_size)
        torch_seed, rng_seed = sync.seed(torch_seed), sync.seed(rng_seed)
    with tempfile.TemporaryDirectory(prefix="synthgan-shards-", dir=parent) as directory:
        writer = ShardWriter(directory, layout, mine, options.shard_rows)
        with _rows_bar(model, n_rows, "Encoding") as bar:
            first = 0
            for frame in iter_frames(dataset, options.chunk_rows):
                if sync is not None:  # this process's rows of the chunk
                    rows = np.arange(first, first + len(frame))
                    frame = frame.iloc[rows % sync.world_size == sync.rank]
                    first += len(rows)
                writer.write(transformer.transform(frame))
                bar.update(len(frame) if sync is None else len(rows))
        shards = writer.close()
        shards.resident_bytes = options.resident_bytes
        sampler = None
        try:
            with model._local_rng():
                torch.manual_seed(torch_seed)
                rng = torch.Generator(device=model.device_)
                rng.manual_seed(rng_seed)
                sampler = ShardedConditionSampler.from_shards(
                    model.condition_spans_, shards, model.device_,
                    sum_counts=None if sync is None else sync.sum_counts,
                )  # fmt: skip
                rows = ShardedRows(shards, model.device_)
                # max_minutes bounds training, not the passes over the data (which grow with rows)
                train_start = time.monotonic()
                critic_seed = block_seed(model.seed_, 6_000_000)
                model._train_on(
                    rows, sampler, rng, train_start, resuming=False, sync=sync,
                    batch_size=batch_size,
                    critic_rows=lambda: rows.dense_rows(options.critic_rows, critic_seed),
                )  # fmt: skip
        finally:
            if sampler is not None:
                sampler.close()
            shards.close()
    model.fit_seconds_ = time.monotonic() - start
    model.rows_trained_ = n_rows
    return model


def _rows_bar(model, total: int, what: str):
    return tqdm(total=total, desc=what, unit="row", unit_scale=True,
                disable=not model.verbose, leave=False, file=sys.stderr)  # fmt: skip


def _counted(frames, bar):
    for frame in frames:
        yield frame
        bar.update(len(frame))


def _check_disk(parent: str, n_rows: int, layout: ShardLayout, n_condition_spans: int) -> None:
    index_bytes = 4 if n_rows < np.iinfo(np.int32).max else 8
    needed = n_rows * (layout.row_bytes + index_bytes * n_condition_spans)
    free = shutil.disk_usage(parent).free
    if needed > free:
        raise InvalidDataError(
            f"{parent}: the encoded shards need about {needed / 2**30:.1f} GiB but only "
            f"{free / 2**30:.1f} GiB is free there. Give a shard folder on a larger disk "
            "(Streaming(shard_dir=...), synthgan fit --shard-dir)."
        )


def _holding(found: list, dataset, options: Streaming) -> list:
    """The relations found on the sample that hold on every row of the table, checked by a
    pass over only their columns. A Monotone relation interpolates between the sample's
    quantiles, which other rows need not meet exactly: it is left out (the column is learnt)."""
    candidates = [r for r in found if not isinstance(r, Monotone)]
    if not candidates:
        return []
    columns = sorted({name for r in candidates for name in (r.target, *r.sources)})
    holding = {r.target: True for r in candidates}
    for frame in iter_frames(dataset, options.chunk_rows, columns=columns):
        for relation in candidates:
            if holding[relation.target]:
                holding[relation.target] = _holds(relation, frame)
    return [r for r in candidates if holding[r.target]]


def _holds(relation, frame: pd.DataFrame) -> bool:
    involved = frame[[relation.target, *relation.sources]]
    if involved.isna().to_numpy().any():
        return False
    computed = relation.compute(frame)
    actual = frame[relation.target]
    if pd.api.types.is_numeric_dtype(actual.dtype) and not pd.api.types.is_bool_dtype(actual):
        try:
            computed = np.asarray(computed, dtype=np.float64)
        except (TypeError, ValueError):
            return False
        return bool(np.allclose(computed, actual.to_numpy(dtype=np.float64), rtol=1e-9, atol=0))
    return bool((pd.Series(computed, index=frame.index).astype(object)
                 == actual.astype(object)).all())  # fmt: skip
