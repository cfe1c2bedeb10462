"""Chunk-seeded sampling: a large sample as independent chunks, whoever makes them.

Row ``i`` of a sample of ``n`` rows with seed ``s`` belongs to chunk ``i // chunk_rows``; chunk
``c`` is ``Synthesizer.sample`` of its rows seeded by ``SeedSequence([s, c])``, with its id
columns numbered on from ``c * chunk_rows``. A chunk depends on ``(s, c, chunk_rows)`` only, so
the same seed gives the same rows whatever the number of processes, Spark partitions or Ray
workers, and a retried task makes its chunk again bit for bit (same machine kind, library
versions and thread count, as every seeded result here).

:func:`sample_to_directory` writes one Parquet file per chunk with a pool of local processes
(``synthgan sample -n N -o dir/``); :mod:`synthgan.spark` and :mod:`synthgan.ray` hand the same
chunks to their engines.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from synthgan.exceptions import InvalidDataError
from synthgan.model.runtime import seed_from
from synthgan.model.threads import usable_cores

CHUNK_ROWS = 250_000
"""Rows per chunk by default: one Parquet file each, a few tens of MB in memory while made."""

ID_STREAM = 0x1D5
"""Seeds the renumbering of a chunk's id columns apart from its rows."""


def chunk_seed(seed: int, chunk: int) -> int:
    """The seed of chunk ``chunk`` of a sample seeded by ``seed``: ``SeedSequence([seed, chunk])``."""
    state = np.random.SeedSequence([int(seed), int(chunk)]).generate_state(1, np.uint64)[0]
    return int(state) >> 1  # shift a Python int: numpy 1.x refuses uint64 >> int64


def chunk_count(n: int, chunk_rows: int) -> int:
    check_chunking(n, chunk_rows)
    return -(-n // chunk_rows)


def check_chunking(n: int, chunk_rows: int) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise InvalidDataError(f"n must be a non-negative integer, got {n!r}.")
    if not isinstance(chunk_rows, (int, np.integer)) or isinstance(chunk_rows, bool) or chunk_rows < 1:
        raise InvalidDataError(f"chunk_rows must be a positive integer, got {chunk_rows!r}.")


def sample_chunk(
    model,
    chunk: int,
    *,
    n: int,
    seed: int,
    chunk_rows: int = CHUNK_ROWS,
    conditions: dict | None = None,
    max_tries: int = 100,
    reach_bounds: bool | None = None,
) -> pd.DataFrame:
    """Chunk ``chunk`` of a sample of ``n`` rows seeded by ``seed`` (rows
    ``chunk * chunk_rows`` to at most ``(chunk + 1) * chunk_rows``, indexed from 0).
    ``reach_bounds`` is the whole sample's (``Synthesizer.sample``): the first chunk carries
    the rows moved onto the training bounds."""
    model.transformer_.check_id_room(n)  # the ids are numbered over the whole sample
    first = chunk * chunk_rows
    rows = max(0, min(chunk_rows, n - first))
    reach_bounds = model.will_reach_bounds(n, conditions, reach_bounds)
    frame = model.sample(
        rows, conditions, random_state=chunk_seed(seed, chunk), max_tries=max_tries,
        reach_bounds=chunk == 0 and reach_bounds,
    )  # fmt: skip
    # id columns numbered on from the earlier chunks, so ids stay unique over the whole sample
    rng = np.random.default_rng([int(seed), int(chunk), ID_STREAM])
    return model.transformer_.renumber_ids(frame, rng, first)


_MODELS: dict[str, object] = {}  # per worker process: model bytes' digest -> loaded model


def model_from_bytes(blob: bytes):
    """The model file ``blob`` loaded on the CPU, once per worker process (Spark's broadcast
    bytes, Ray's object-store bytes): later calls with the same bytes reuse it."""
    key = hashlib.sha256(blob).hexdigest()
    model = _MODELS.get(key)
    if model is None:
        from synthgan.model.synthesizer import Synthesizer

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.synthgan"
            path.write_bytes(blob)
            model = Synthesizer.load(path, device="cpu")
        model.verbose = False
        _MODELS.clear()  # one model per worker at a time
        _MODELS[key] = model
    return model


# -- local processes ---------------------------------------------------------------------------------

_WORKER_MODEL = None


def _load_worker(model_path: str, device: str, one_thread: bool = True, model=None) -> None:
    """Pool initialiser: one model per worker process, one thread each (the pool is the
    parallelism). ``model``: the file's model, already loaded in this process."""
    global _WORKER_MODEL
    import torch

    from synthgan.model.synthesizer import Synthesizer

    if one_thread:
        torch.set_num_threads(1)
    _WORKER_MODEL = Synthesizer.load(model_path, device=device) if model is None else model
    _WORKER_MODEL.verbose = False


def _write_chunk(task: tuple) -> int:
    chunk, n, seed, chunk_rows, conditions, max_tries, reach_bounds, directory = task
    frame = sample_chunk(
        _WORKER_MODEL, chunk, n=n, seed=seed, chunk_rows=chunk_rows,
        conditions=conditions, max_tries=max_tries, reach_bounds=reach_bounds,
    )  # fmt: skip
    write_part(frame, Path(directory), chunk)
    return len(frame)


def part_path(directory: Path, chunk: int) -> Path:
    return directory / f"part-{chunk:05d}.parquet"


def write_part(frame: pd.DataFrame, directory: Path, chunk: int) -> Path:
    from synthgan.io import atomic_path

    path = part_path(directory, chunk)
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
    return path


def default_processes(chunks: int) -> int:
    return max(1, min(usable_cores(), chunks))


def sample_to_directory(
    model_path: str | os.PathLike,
    directory: str | os.PathLike,
    n: int,
    *,
    random_state: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
    processes: int | None = None,
    conditions: dict | None = None,
    max_tries: int = 100,
    device: str = "cpu",
    reach_bounds: bool | None = None,
) -> Path:
    """Write ``n`` rows of the model file ``model_path`` to ``directory`` as partitioned
    Parquet (``part-00000.parquet``, ...), one file per chunk, made by ``processes`` local
    processes (default: one per usable core, at most one per chunk). The files are the same
    whatever ``processes``; read them back with ``pandas.read_parquet(directory)``."""
    chunks = chunk_count(n, chunk_rows)
    if processes is not None and (isinstance(processes, bool) or int(processes) < 1):
        raise InvalidDataError(f"processes must be a positive integer, got {processes!r}.")
    model = None
    if reach_bounds:  # refused under conditions or rules: say so before any part is written
        from synthgan.model.synthesizer import Synthesizer

        model = Synthesizer.load(model_path, device=device)
        model.will_reach_bounds(n, conditions, reach_bounds)
    seed = seed_from(random_state)  # one seed for every chunk, drawn here when None
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stale = sorted(directory.glob("part-*.parquet"))
    if stale:
        raise InvalidDataError(
            f"{directory} already holds {len(stale)} part file(s) (e.g. {stale[0].name}); "
            "write to an empty or new directory."
        )
    processes = default_processes(chunks) if processes is None else min(int(processes), max(chunks, 1))
    tasks = [(c, n, seed, chunk_rows, conditions, max_tries, reach_bounds, str(directory))
             for c in range(chunks)]  # fmt: skip
    if processes == 1:
        _load_worker(str(model_path), device, one_thread=False, model=model)
        try:
            for task in tasks:
                _write_chunk(task)
        finally:
            globals()["_WORKER_MODEL"] = None
    else:
        # spawn: a fresh interpreter per worker, never a fork of a process holding torch threads
        context = multiprocessing.get_context("spawn")
        with context.Pool(processes, _load_worker, (str(model_path), device)) as pool:
            for _ in pool.imap_unordered(_write_chunk, tasks):
                pass
    return directory
