"""Data-parallel training: two gloo processes on this machine's loopback."""

from __future__ import annotations

import gc
import json
import os
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from synthgan.exceptions import InvalidDataError
from synthgan.model.distributed import (
    DistributedSync,
    default_backend,
    fit_in_group,
    per_rank_batch,
    process_group_from_env,
)
from synthgan.model.losses import CriticObjective
from synthgan.model.networks import Discriminator, Generator

WORLD = 2
ROWS, WIDTH, PAC = 12, 7, 3  # 4 packs: 2 per process


def _batch():
    g = torch.Generator().manual_seed(1)
    real = torch.randn(ROWS, WIDTH, generator=g)
    fake = torch.randn(ROWS, WIDTH, generator=g)
    alpha = torch.rand(ROWS // PAC, 1, generator=g)
    noise = torch.randn(12, 5, generator=g)
    return real, fake, alpha, noise


def _networks():
    torch.manual_seed(0)
    # dropout off: the two computations must see the same network
    critic = Discriminator(WIDTH, (16, 16), pac=PAC, dropout=0.0, row_dim=6)
    generator = Generator(5, (8,), WIDTH)
    return critic, generator


def _critic_loss(objective, critic, real, fake, alpha):
    real_scores, fake_scores, penalty = objective(critic.pack(real), critic.pack(fake), alpha)
    return fake_scores.mean() - real_scores.mean() + 10.0 * penalty


def _generator_loss(generator, critic, noise):
    return -critic(generator(noise)).mean()


def _gradients(module) -> dict[str, np.ndarray]:
    return {n: p.grad.detach().numpy().copy() for n, p in module.named_parameters()}


def _rank_gradients(rank: int) -> dict[str, np.ndarray]:
    sync = DistributedSync(torch.device("cpu"))
    critic, generator = _networks()
    real, fake, alpha, noise = _batch()
    rows = slice(rank * ROWS // WORLD, (rank + 1) * ROWS // WORLD)
    packs = slice(rank * len(alpha) // WORLD, (rank + 1) * len(alpha) // WORLD)
    objective = sync.wrap(CriticObjective(critic, penalty=True))
    _critic_loss(objective, critic, real[rows], fake[rows], alpha[packs]).backward()
    critic_grads = _gradients(critic)
    critic.zero_grad()
    critic.requires_grad_(False)
    half = slice(rank * 6, rank * 6 + 6)
    wrapped = sync.wrap(generator)  # held: a DDP wrapper freed before backward syncs nothing
    _generator_loss(wrapped, critic, noise[half]).backward()
    return {
        **{f"critic/{k}": v for k, v in critic_grads.items()},
        **{f"generator/{k}": v for k, v in _gradients(generator).items()},
        "steps": sync.total(rank + 1),
    }


def _worker(rank: int, init: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init}", rank=rank, world_size=WORLD)
    try:
        np.savez(Path(out) / f"rank{rank}.npz", **_rank_gradients(rank))
    finally:
        # the DDP wrappers sit in reference cycles: one still alive when the process exits
        # aborts it (about 1 run in 10 without this)
        gc.collect()
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    mp.spawn(_worker, args=(str(out / "init"), str(out)), nprocs=WORLD, join=True)
    return [dict(np.load(out / f"rank{r}.npz")) for r in range(WORLD)]


class TestGradients:
    def test_critic_gradient_with_penalty_equals_one_process_on_the_whole_batch(self, two_ranks):
        critic, _ = _networks()
        real, fake, alpha, _ = _batch()
        _critic_loss(CriticObjective(critic, penalty=True), critic, real, fake, alpha).backward()
        expected = _gradients(critic)
        assert expected  # something to compare
        for rank in two_ranks:
            for name, grad in expected.items():
                np.testing.assert_allclose(rank[f"critic/{name}"], grad, rtol=1e-5, atol=1e-6)

    def test_generator_gradient_is_the_mean_of_the_shards(self, two_ranks):
        # BatchNorm normalises each process's batch by its own statistics (no SyncBatchNorm on
        # CPU): the averaged gradient is the mean of the per-shard gradients
        critic, generator = _networks()
        critic.requires_grad_(False)
        _, _, _, noise = _batch()
        shards = []
        for half in (slice(0, 6), slice(6, 12)):
            generator.zero_grad()
            _generator_loss(generator, critic, noise[half]).backward()
            shards.append(_gradients(generator))
        for rank in two_ranks:
            for name in shards[0]:
                expected = (shards[0][name] + shards[1][name]) / 2
                np.testing.assert_allclose(rank[f"generator/{name}"], expected, rtol=1e-5, atol=1e-6)

    def test_counts_are_summed_over_processes(self, two_ranks):
        assert [int(rank["steps"]) for rank in two_ranks] == [3, 3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fit_worker(rank: int, port: int, data: str, out: str, params: dict, stream=None) -> None:
    os.environ.update(
        RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD),
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
    )  # fmt: skip
    torch.set_num_threads(1)
    summary = fit_in_group(data, Path(out) / "model.synthgan", params, stream=stream)
    (Path(out) / f"summary{rank}.json").write_text(json.dumps(summary))


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A 2-process fit through the launchers' entry point, on a table of an odd row count."""
    from tests.conftest import make_mixed_frame

    out = tmp_path_factory.mktemp("ddpfit")
    data = out / "data.parquet"
    make_mixed_frame(n=301, nulls=True).to_parquet(data)  # odd: uneven shards
    params = {"epochs": 2, "batch_size": 60, "pac": 10, "random_state": 0,
              "device": "cpu", "verbose": False, "max_fit_rows": 1000}  # fmt: skip
    mp.spawn(_fit_worker, args=(_free_port(), str(data), str(out), params), nprocs=WORLD)
    return out


class TestFit:
    def test_rank_zero_writes_a_model_that_samples(self, fitted):
        from synthgan import load

        model = load(fitted / "model.synthgan", device="cpu")
        assert model.rows_trained_ == 301
        assert model.epochs_trained_ == 2
        rows = model.sample(50, random_state=0)
        assert len(rows) == 50
        # conditions come from the counts of the whole table, not of rank 0's shard
        assert sum(model._category_counts[0]) == 301

    def test_every_process_took_the_same_steps(self, fitted):
        summaries = [json.loads((fitted / f"summary{r}.json").read_text()) for r in range(WORLD)]
        assert [s["world_size"] for s in summaries] == [WORLD, WORLD]
        assert summaries[0]["epochs_trained"] == summaries[1]["epochs_trained"] == 2


@pytest.fixture(scope="module")
def fitted_streamed(tmp_path_factory):
    """A 2-process streamed fit of a folder of two Parquet files (each process encodes its rows
    into shards of its own)."""
    from tests.conftest import make_mixed_frame

    out = tmp_path_factory.mktemp("ddpstream")
    folder = out / "parts"
    folder.mkdir()
    table = make_mixed_frame(n=301, nulls=True)
    table.iloc[:150].to_parquet(folder / "a.parquet")
    table.iloc[150:].reset_index(drop=True).to_parquet(folder / "b.parquet")
    params = {"epochs": 2, "batch_size": 60, "pac": 10, "random_state": 0,
              "device": "cpu", "verbose": False}  # fmt: skip
    mp.spawn(_fit_worker, args=(_free_port(), str(folder), str(out), params, True), nprocs=WORLD)
    return out


class TestStreamedFit:
    def test_rank_zero_writes_a_model_of_the_whole_table(self, fitted_streamed):
        from synthgan import load

        model = load(fitted_streamed / "model.synthgan", device="cpu")
        assert model.rows_trained_ == 301 and model.epochs_trained_ == 2
        assert sum(model._category_counts[0]) == 301  # the counts of both processes' rows
        assert len(model.sample(40, random_state=0)) == 40

    def test_both_processes_trained_on_their_own_rows(self, fitted_streamed):
        summaries = [json.loads((fitted_streamed / f"summary{r}.json").read_text())
                     for r in range(WORLD)]  # fmt: skip
        assert [s["world_size"] for s in summaries] == [WORLD, WORLD]
        assert [s["rows"] for s in summaries] == [301, 301]
        assert summaries[0]["epochs_trained"] == summaries[1]["epochs_trained"] == 2


def test_sharded_sampler_draws_from_the_whole_table_counts(tmp_path):
    from synthgan.model.shards import ShardedConditionSampler, ShardLayout, ShardWriter
    from synthgan.transform import TableTransformer

    table = pd.DataFrame({"colour": ["red"] * 6 + ["blue"] * 2, "x": np.arange(8.0)})
    transformer = TableTransformer().fit(table)
    layout = transformer.layout_
    spans = layout.condition_spans(modes=False)
    mine = table[table["colour"] == "red"]  # this process holds no blue row
    writer = ShardWriter(tmp_path, ShardLayout.of(layout), len(mine), 1024)
    writer.write(transformer.transform(mine))
    shards = writer.close()

    def sum_counts(counts):
        whole = [np.asarray(c) for c in counts]
        whole[0] = whole[0] + np.where(whole[0] == 0, 2, 0)  # the other process's 2 blue rows
        return whole

    sampler = ShardedConditionSampler.from_shards(spans, shards, torch.device("cpu"),
                                                  sum_counts=sum_counts)  # fmt: skip
    try:
        assert sampler.missing_here
        assert sorted(sampler.category_counts[0].tolist()) == [2, 6]
        g = torch.Generator().manual_seed(0)
        span = torch.zeros(200, dtype=torch.long)
        category = torch.tensor([0, 1] * 100)
        rows = sampler.real_rows(span, category, g)
        assert rows.min() >= 0 and rows.max() < len(mine)  # stand-ins for the missing category
    finally:
        sampler.close()
        shards.close()


def test_batch_must_split_into_multiples_of_pac():
    assert per_rank_batch(500, 10, 2) == 250
    with pytest.raises(InvalidDataError, match=r"batch_size=500 does not split into 3.*510"):
        per_rank_batch(500, 10, 3)
    # one row a process: batch normalisation cannot train on it (torch raised "Expected more than
    # 1 value per channel when training")
    with pytest.raises(InvalidDataError, match=r"batch_size=2 gives each of 2 processes 1 row.*=4"):
        per_rank_batch(2, 1, 2)


def test_a_table_with_fewer_rows_than_processes_is_one_clear_error():
    sync = DistributedSync.__new__(DistributedSync)  # no process group needed for shard()
    sync.rank, sync.world_size = 1, 3
    assert sync.shard(7).tolist() == [1, 4]
    with pytest.raises(InvalidDataError, match=r"2 row\(s\), fewer than the 3 processes.*at most 2"):
        sync.shard(2)


class TestBackend:
    def test_a_cpu_fit_takes_gloo_on_a_machine_with_gpus(self, monkeypatch):
        # with NCCL (chosen because CUDA was there) a device="cpu" fit broke on a GPU machine
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        assert default_backend("cpu") == "gloo"
        assert default_backend("auto") == "nccl"

    def test_no_gpus_means_gloo(self, monkeypatch):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
        assert default_backend("auto") == "gloo"

    def test_more_processes_than_gpus_is_one_clear_error(self, monkeypatch):
        monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
        monkeypatch.setenv("WORLD_SIZE", "2")
        monkeypatch.setenv("LOCAL_RANK", "1")
        with pytest.raises(InvalidDataError, match=r"LOCAL_RANK=1.*this machine has 1.*at most 1"):
            with process_group_from_env("nccl"):
                pass
