"""Data-parallel training on ``torch.distributed``: the training loop's synchronisation piece.

The same fit runs as N processes (CPU: gloo; GPU: NCCL), launched by ``torchrun``, by
``synthgan fit --nproc N``, by Spark's ``TorchDistributor`` (:mod:`synthgan.spark`) or by Ray
Train (:mod:`synthgan.ray`). Inside a process group of more than one process,
``Synthesizer.fit`` trains data-parallel by itself:

* rank 0 fits the table transformer and sends its state to the others, so every process
  encodes the same way;
* each process encodes and trains on its shard, rows ``rank, rank + N, ...``; the condition
  sampler draws conditions from the category counts of the whole table (summed over the
  processes) and real rows from its shard;
* ``batch_size`` is the batch of one step over all processes: each takes ``batch_size / N``
  rows, a multiple of ``pac``; steps per epoch come from the whole table's row count, so every
  process takes the same number of steps and none waits for another at the end of an epoch;
* the generator, the critic (through :class:`~synthgan.model.losses.CriticObjective`, so the
  gradient penalty's double backward stays inside one forward) and the target classifier are
  each wrapped in ``DistributedDataParallel``; their gradients are averaged over the processes;
* a time budget (``max_minutes``) stops every process at the same step;
* rank 0 fits what follows training (the in-bin calibration, the rejection sampler's classifier,
  on its own shard) and writes the one model file, in the format of every other fit.

The generator's BatchNorm normalises each process's batch by its own statistics (SyncBatchNorm
runs on GPUs only) and the information loss compares feature moments per process, so the
generator's gradient is the mean of the per-shard gradients; the critic's, penalty included, is
that of one process on the concatenated batch (tests/unit/model/test_distributed.py).
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from synthgan.exceptions import InvalidDataError
from synthgan.model.networks import MIN_BATCH_ROWS
from synthgan.model.runtime import block_seed, resolve_device
from synthgan.model.training import Synchronisation


class DistributedSync(Synchronisation):
    """:class:`~synthgan.model.training.Synchronisation` over the default process group."""

    def __init__(self, device: torch.device) -> None:
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.device = device
        # collectives run on the training device under NCCL, on the CPU under gloo
        self._comm = device if dist.get_backend() == "nccl" else torch.device("cpu")

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        device_ids = [self.device.index or 0] if self.device.type == "cuda" else None
        # BatchNorm running statistics follow rank 0's at every forward (broadcast_buffers)
        return DistributedDataParallel(module, device_ids=device_ids)

    def total(self, count: int) -> int:
        value = torch.tensor([int(count)], dtype=torch.int64, device=self._comm)
        dist.all_reduce(value)
        return int(value.item())

    def any(self, flag: bool) -> bool:
        value = torch.tensor([int(bool(flag))], dtype=torch.int64, device=self._comm)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def mean(self, totals: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if not totals:
            return totals
        names = sorted(totals)
        values = torch.stack([totals[n].float() for n in names]).to(self._comm)
        dist.all_reduce(values)
        values = values / self.world_size
        return {n: v.to(self.device) for n, v in zip(names, values)}

    def sum_counts(self, counts: list[np.ndarray]) -> list[np.ndarray]:
        """Per-span category counts summed over the processes."""
        if not counts:
            return counts
        flat = torch.as_tensor(np.concatenate(counts).astype(np.int64), device=self._comm)
        dist.all_reduce(flat)
        total = flat.cpu().numpy()
        return np.split(total, np.cumsum([len(c) for c in counts])[:-1])

    def share(self, obj):
        """Rank 0's ``obj`` in every process (pickled over the process group: our own
        processes' state, never a file's)."""
        box = [obj if self.rank == 0 else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def shard(self, n_rows: int) -> np.ndarray:
        """This process's rows of a table of ``n_rows``: rank, rank + N, ... (every process
        raises the same error when the table has fewer rows than processes)."""
        if n_rows < self.world_size:
            raise InvalidDataError(
                f"The table has {n_rows} row(s), fewer than the {self.world_size} processes "
                f"training on it. Use at most {max(n_rows, 1)} processes, or one."
            )
        return np.arange(self.rank, n_rows, self.world_size)

    def seed(self, seed: int) -> int:
        """This process's seed of a random stream (rank 0 keeps the one-process seed)."""
        return seed if self.rank == 0 else block_seed(seed, self.rank)

    def barrier(self) -> None:
        dist.barrier()


def active_sync(device: torch.device) -> DistributedSync | None:
    """The synchronisation of the process group this process belongs to, or None when it
    trains alone (no group, or a group of one)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    return DistributedSync(device)


def per_rank_batch(batch_size: int, pac: int, world_size: int) -> int:
    """Rows of one process's batch: ``batch_size / world_size``, a multiple of ``pac``."""
    batch, rest = divmod(batch_size, world_size)
    if rest or batch % pac:
        step = pac * world_size
        lower = max(batch_size // step, 1) * step
        raise InvalidDataError(
            f"batch_size={batch_size} does not split into {world_size} processes' batches of a "
            f"multiple of pac={pac}. Use batch_size={lower} or {lower + step}."
        )
    if batch < MIN_BATCH_ROWS:
        raise InvalidDataError(
            f"batch_size={batch_size} gives each of {world_size} processes {batch} row a step; "
            f"the generator's batch normalisation needs at least {MIN_BATCH_ROWS}. Use batch_size="
            f"{max(pac, MIN_BATCH_ROWS) * world_size} or more."
        )
    return batch


@contextlib.contextmanager
def process_group_from_env(backend: str | None = None) -> Iterator[DistributedSync | None]:
    """Join the process group described by torchrun's environment (``RANK``, ``WORLD_SIZE``,
    ``MASTER_ADDR``, ``MASTER_PORT``; TorchDistributor and Ray Train set them too) for the
    length of the block, unless one is already joined; None outside such a launch."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world < 2:
        yield None
        return
    joined = False
    if not dist.is_initialized():
        if backend is None:
            backend = default_backend("auto")
        if backend == "nccl":
            _check_gpu_of_own(world)
        dist.init_process_group(backend)
        joined = True
    try:
        device = torch.device("cpu")
        if dist.get_backend() == "nccl":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
        yield DistributedSync(device)
    finally:
        if joined:
            # DistributedDataParallel wrappers sit in reference cycles; one the collector has
            # not freed yet outlives the group and can abort the process at its exit (SIGABRT,
            # "terminate called without an active exception": 1 run in 10 of the gradient
            # test's workers without a collection; 0 of 30 two-process fits, whose later work
            # happens to collect them)
            gc.collect()
            dist.destroy_process_group()


def _check_gpu_of_own(world: int) -> None:
    """Under NCCL each process of a machine trains on the GPU its ``LOCAL_RANK`` names."""
    local_rank, count = int(os.environ.get("LOCAL_RANK", "0")), torch.cuda.device_count()
    if local_rank >= count:
        raise InvalidDataError(
            f"This process (LOCAL_RANK={local_rank}) of a {world}-process fit has no GPU of its "
            f"own: this machine has {count}. Start at most {count} processes per machine "
            "(--nproc), or train on the CPUs (device='cpu')."
        )


def default_backend(device: str) -> str:
    """NCCL for a fit on CUDA GPUs, gloo for one on the CPUs (also on a machine with GPUs)."""
    return "nccl" if resolve_device(device).type == "cuda" else "gloo"


def fit_in_group(data, output, params: dict, *, backend: str | None = None, stream=None) -> dict:
    """The entry point of every launcher: fit ``Synthesizer(**params)`` on ``data`` (a table
    or the path of one; every process reads it, each trains on its shard) and let rank 0 write
    the model file ``output``. Returns a summary of the fit (on every rank).

    ``stream``: None reads ``data`` whole (a DataFrame, or a file by its suffix); otherwise
    ``data`` is a Parquet file, folder or address, fitted as ``Synthesizer.fit(data,
    stream=stream)`` does: True or a :class:`~synthgan.model.streamed.Streaming` reads it in
    record batches, rank 0 computes the statistics and each process encodes only its rows into
    shards of its own (docs/scale.md); False reads it whole."""
    from synthgan.io import read_table
    from synthgan.model.synthesizer import Synthesizer

    backend = backend or default_backend(params.get("device", "auto"))
    with process_group_from_env(backend) as sync:
        rank = 0 if sync is None else sync.rank
        params = dict(params)
        if rank:
            params["verbose"] = False
        if sync is not None and params.get("device", "auto") == "auto":
            params["device"] = str(sync.device)
        if stream is not None:
            model = Synthesizer(**params).fit(data, stream=stream)
        else:
            frame = read_table(data) if isinstance(data, (str, os.PathLike)) else data
            model = Synthesizer(**params).fit(frame)
        if rank == 0 and output is not None:
            model.save(output)
        if sync is not None:
            sync.barrier()  # the file is written before any process reports success
        return {
            "rank": rank,
            "world_size": 1 if sync is None else sync.world_size,
            "epochs_trained": model.epochs_trained_,
            "fit_seconds": model.fit_seconds_,
            "rows": model.rows_trained_,
            "interrupted": model.interrupted_,
        }
