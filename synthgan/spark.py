"""Spark: train with ``TorchDistributor``, sample with ``mapInPandas``. An extra:
``pip install 'synthgan[spark]'``; the core never imports this module.

* :func:`fit` runs synthgan's one data-parallel entry point
  (:func:`synthgan.model.distributed.fit_in_group`) as ``num_processes`` processes of
  ``pyspark.ml.torch.distributor.TorchDistributor`` (gloo on CPU, NCCL with ``use_gpu``). Every
  process reads the table at ``data`` (a path every process can read: local in ``local_mode``,
  else a shared filesystem such as ``/dbfs/...``) and trains on its shard; rank 0 writes the
  model file, in the format of every other fit.
* :func:`sample` returns a Spark DataFrame of ``n`` rows: one Spark row per chunk of
  :mod:`synthgan.model.partitions` is expanded by ``mapInPandas``; the model travels as bytes in
  a broadcast variable and is loaded once per Python worker. The same seed gives the same rows
  on any number of partitions. Write the DataFrame where you like (``.write.parquet(...)``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from synthgan.exceptions import InvalidDataError
from synthgan.model.partitions import CHUNK_ROWS, chunk_count, model_from_bytes, sample_chunk
from synthgan.model.runtime import seed_from


def _require_pyspark():
    try:
        import pyspark
    except ImportError:
        raise InvalidDataError(
            "synthgan.spark needs pyspark. Install it with pip install 'synthgan[spark]'."
        ) from None
    return pyspark


def fit(
    data: str | os.PathLike,
    model_path: str | os.PathLike,
    *,
    num_processes: int = 2,
    local_mode: bool = True,
    use_gpu: bool = False,
    **params,
) -> dict:
    """Fit ``Synthesizer(**params)`` on the table at ``data`` with ``num_processes`` Spark
    processes training data-parallel; rank 0 writes ``model_path``. Returns a rank's summary
    (epochs, seconds, rows, processes).

    Examples
    --------
    >>> from synthgan import spark as synthgan_spark
    >>> synthgan_spark.fit("train.parquet", "model.synthgan", num_processes=2, epochs=10)
    """
    _require_pyspark()
    from pyspark.ml.torch.distributor import TorchDistributor

    distributor = TorchDistributor(
        num_processes=num_processes, local_mode=local_mode, use_gpu=use_gpu
    )
    return distributor.run(_train, str(data), str(model_path), dict(params), use_gpu)


def _train(data: str, model_path: str, params: dict, use_gpu: bool) -> dict:
    """Runs in each TorchDistributor process (torchrun's environment is set)."""
    from synthgan.model.distributed import fit_in_group

    return fit_in_group(data, model_path, params, backend="nccl" if use_gpu else "gloo")


# -- sampling -----------------------------------------------------------------------------------------

def spark_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in types Spark's Arrow conversion takes: categoricals as their values, strings
    as Python objects. A sample assembled from many blocks holds each Arrow-backed string column
    (pandas 3's default) as hundreds of chunks, which Spark's conversion to one record batch
    refuses ("Cannot convert pyarrow.lib.ChunkedArray to pyarrow.lib.Array")."""
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype(out[name].cat.categories.dtype)
        if out[name].dtype != object and pd.api.types.is_string_dtype(out[name].dtype):
            out[name] = out[name].astype(object).where(out[name].notna(), None)
    return out


def sample(
    spark,
    model_path: str | os.PathLike,
    n: int,
    *,
    random_state: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
    partitions: int | None = None,
    conditions: dict | None = None,
    max_tries: int = 100,
    reach_bounds: bool | None = None,
):
    """A Spark DataFrame of ``n`` rows of the model file ``model_path``, made on the executors.

    Parameters
    ----------
    spark : SparkSession
    model_path : path
        Read on the driver; the executors get its bytes.
    n : int
    random_state : int, optional
        The same seed gives the same rows whatever ``partitions``.
    chunk_rows : int, default=250,000
        Rows per chunk (the unit of work and of seeding); the rows depend on it.
    partitions : int, optional
        Spark partitions (tasks); default one per chunk.
    conditions, max_tries, reach_bounds
        As :meth:`synthgan.Synthesizer.sample` takes them; the first chunk carries the rows moved
        onto the training bounds. ``reach_bounds=True`` with conditions or rules is refused here,
        before any task starts.

    Returns
    -------
    pyspark.sql.DataFrame with the training table's columns (categoricals as their values).
    """
    _require_pyspark()
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    from synthgan.model.synthesizer import Synthesizer

    chunks = chunk_count(n, chunk_rows)
    seed = seed_from(random_state)  # one seed for every chunk, drawn on the driver when None
    blob = Path(model_path).read_bytes()
    model = Synthesizer.load(model_path, device="cpu")
    model.verbose = False
    reach_bounds = model.will_reach_bounds(n, conditions, reach_bounds)
    example = spark_frame(model.sample(10, conditions, random_state=0, max_tries=max_tries))
    schema = from_arrow_schema(pa.Schema.from_pandas(example, preserve_index=False))
    shared = spark.sparkContext.broadcast(blob)

    def make_chunks(batches):
        worker_model = model_from_bytes(shared.value)
        for batch in batches:
            for chunk in batch["id"].tolist():
                rows = sample_chunk(
                    worker_model, int(chunk), n=n, seed=seed, chunk_rows=chunk_rows,
                    conditions=conditions, max_tries=max_tries, reach_bounds=reach_bounds,
                )  # fmt: skip
                yield spark_frame(rows)

    index = spark.range(0, chunks, 1, numPartitions=max(1, partitions or chunks))
    return index.mapInPandas(make_chunks, schema)
