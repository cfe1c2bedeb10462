"""Chunk-seeded sampling: the same seed gives the same rows however the chunks are shared out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgan.exceptions import InvalidDataError
from synthgan.model.partitions import (
    chunk_seed,
    part_path,
    sample_chunk,
    sample_to_directory,
)


@pytest.fixture(scope="module")
def model_file(mixed_model, tmp_path_factory):
    return mixed_model.save(tmp_path_factory.mktemp("parts") / "model.synthgan")


def test_chunk_seed_is_a_seed_sequence_of_seed_and_chunk():
    state = np.random.SeedSequence([7, 3]).generate_state(1, np.uint64)[0]
    assert chunk_seed(7, 3) == int(state) >> 1
    assert len({chunk_seed(7, c) for c in range(100)}) == 100


def test_chunks_cover_n_rows_with_unique_ids(mixed_model):
    parts = [sample_chunk(mixed_model, c, n=250, seed=1, chunk_rows=100) for c in range(3)]
    assert [len(p) for p in parts] == [100, 100, 50]
    rows = pd.concat(parts, ignore_index=True)
    assert rows["user_id"].is_unique and rows["code"].is_unique


def test_a_chunk_is_the_same_made_alone_or_again(mixed_model):
    first = sample_chunk(mixed_model, 2, n=250, seed=1, chunk_rows=100)
    again = sample_chunk(mixed_model, 2, n=250, seed=1, chunk_rows=100)
    pd.testing.assert_frame_equal(first, again)
    other = sample_chunk(mixed_model, 1, n=250, seed=1, chunk_rows=100)
    assert not first["price"].reset_index(drop=True).equals(other["price"].iloc[:50])


def test_the_first_chunk_spans_the_training_range_when_the_sample_does(mixed, mixed_model):
    n = mixed_model.rows_trained_
    parts = [sample_chunk(mixed_model, c, n=n, seed=1, chunk_rows=100) for c in range(3)]
    rows = pd.concat(parts, ignore_index=True)
    assert (rows["price"].min(), rows["price"].max()) == (mixed["price"].min(), mixed["price"].max())
    plain = mixed_model.sample(100, random_state=chunk_seed(1, 0), reach_bounds=False)
    assert not parts[0]["price"].equals(plain["price"])
    smaller = sample_chunk(mixed_model, 0, n=n - 1, seed=1, chunk_rows=100)
    assert smaller["price"].equals(plain["price"])


def test_one_process_and_two_write_the_same_files(model_file, tmp_path):
    one = sample_to_directory(model_file, tmp_path / "one", 250, random_state=5,
                              chunk_rows=100, processes=1)  # fmt: skip
    two = sample_to_directory(model_file, tmp_path / "two", 250, random_state=5,
                              chunk_rows=100, processes=2)  # fmt: skip
    names = sorted(p.name for p in one.iterdir())
    assert names == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert names == sorted(p.name for p in two.iterdir())
    pd.testing.assert_frame_equal(pd.read_parquet(one), pd.read_parquet(two))
    assert len(pd.read_parquet(one)) == 250


def test_refuses_a_directory_with_part_files(model_file, tmp_path):
    part_path(tmp_path, 0).write_bytes(b"")
    with pytest.raises(InvalidDataError, match="already holds 1 part file"):
        sample_to_directory(model_file, tmp_path, 10, random_state=0, processes=1)


def test_chunk_rows_must_be_positive(model_file, tmp_path):
    with pytest.raises(InvalidDataError, match="chunk_rows must be a positive integer"):
        sample_to_directory(model_file, tmp_path, 10, chunk_rows=0)


def test_reach_bounds_under_conditions_is_refused_before_writing(model_file, tmp_path):
    with pytest.raises(InvalidDataError, match="reach_bounds=True cannot be combined with con"):
        sample_to_directory(model_file, tmp_path / "out", 300, chunk_rows=100, processes=1,
                            conditions={"city": "Rome"}, reach_bounds=True)  # fmt: skip
    assert not (tmp_path / "out").exists()
