"""Ray: train with Ray Train's ``TorchTrainer``, sample with Ray Data's ``map_batches``. An extra:
``pip install 'synthgan[ray]'``; the core never imports this module.

* :func:`fit` runs synthgan's one data-parallel entry point
  (:func:`synthgan.model.distributed.fit_in_group`) in each of ``num_workers`` Ray Train
  workers: Ray Train sets up the torch process group (gloo on CPU, NCCL with ``use_gpu``), every
  worker reads the table at ``data`` (a path all workers can read) and trains on its shard, and
  rank 0 writes the model file.
* :func:`sample` returns a Ray Dataset of ``n`` rows: one row per chunk of
  :mod:`synthgan.model.partitions`, expanded by ``map_batches`` (the model travels as bytes in
  the object store and is loaded once per worker process). The same seed gives the same rows
  whatever the number of blocks or workers.
"""

from __future__ import annotations

import os
from pathlib import Path

from synthgan.exceptions import InvalidDataError
from synthgan.model.partitions import CHUNK_ROWS, chunk_count, model_from_bytes, sample_chunk
from synthgan.model.runtime import seed_from


def _require_ray():
    try:
        import ray
    except ImportError:
        raise InvalidDataError(
            "synthgan.ray needs Ray (ray[train,data]). Install it with "
            "pip install 'synthgan[ray]'."
        ) from None
    return ray


def fit(
    data: str | os.PathLike,
    model_path: str | os.PathLike,
    *,
    num_workers: int = 2,
    use_gpu: bool = False,
    **params,
) -> dict:
    """Fit ``Synthesizer(**params)`` on the table at ``data`` with ``num_workers`` Ray Train
    workers training data-parallel; rank 0 writes ``model_path``. Returns the training
    result's metrics (rank 0's summary of the fit)."""
    _require_ray()
    from ray.train import ScalingConfig
    from ray.train.torch import TorchTrainer

    config = {"data": str(data), "model_path": str(model_path), "params": dict(params)}
    trainer = TorchTrainer(
        _train_loop,
        train_loop_config=config,
        scaling_config=ScalingConfig(num_workers=num_workers, use_gpu=use_gpu),
    )
    return dict(trainer.fit().metrics or {})


def _train_loop(config: dict) -> None:
    """Runs in each Ray Train worker (the torch process group is already joined)."""
    from ray import train

    from synthgan.model.distributed import fit_in_group

    summary = fit_in_group(config["data"], config["model_path"], config["params"])
    train.report({k: v for k, v in summary.items() if isinstance(v, (int, float, bool))})


class _ChunkMaker:
    """A Ray Data callable class: loads the model once per worker, makes the chunks it is given."""

    def __init__(self, blob_ref, n: int, seed: int, chunk_rows: int, conditions, max_tries: int,
                 reach_bounds: bool) -> None:  # fmt: skip
        import ray

        self.model = model_from_bytes(ray.get(blob_ref))
        self.n, self.seed, self.chunk_rows = n, seed, chunk_rows
        self.conditions, self.max_tries, self.reach_bounds = conditions, max_tries, reach_bounds

    def __call__(self, batch):
        import pandas as pd

        parts = [
            sample_chunk(
                self.model, int(chunk), n=self.n, seed=self.seed, chunk_rows=self.chunk_rows,
                conditions=self.conditions, max_tries=self.max_tries,
                reach_bounds=self.reach_bounds,
            )  # fmt: skip
            for chunk in batch["id"].tolist()
        ]
        return pd.concat(parts, ignore_index=True)


def sample(
    model_path: str | os.PathLike,
    n: int,
    *,
    random_state: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
    blocks: int | None = None,
    concurrency: int = 2,
    conditions: dict | None = None,
    max_tries: int = 100,
    reach_bounds: bool | None = None,
):
    """A Ray Dataset of ``n`` rows of the model file ``model_path`` (see :func:`synthgan.spark.sample`
    for the parameters; ``blocks`` plays the part of Spark's partitions, ``concurrency`` the
    number of worker processes)."""
    _require_ray()
    import ray
    import ray.data

    chunks = chunk_count(n, chunk_rows)
    seed = seed_from(random_state)
    blob = Path(model_path).read_bytes()
    # decided (and refused) here, before any task starts
    reach_bounds = model_from_bytes(blob).will_reach_bounds(n, conditions, reach_bounds)
    blob_ref = ray.put(blob)
    index = ray.data.range(chunks, override_num_blocks=max(1, blocks or chunks))
    return index.map_batches(
        _ChunkMaker,
        fn_constructor_args=(blob_ref, n, seed, chunk_rows, conditions, max_tries, reach_bounds),
        batch_size=1,
        batch_format="pandas",
        concurrency=concurrency,
        # half a CPU each: two chunk makers and the range read fit on a 2-CPU node (with a
        # whole CPU each, they took both and the read waited for ever)
        num_cpus=0.5,
    )
