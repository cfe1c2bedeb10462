"""Encoded rows in memory-mapped shards: round trip, the writer's memory bound, the index."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
import torch

from synthgan.exceptions import InvalidDataError
from synthgan.model.sampler import ConditionSampler
from synthgan.model.shards import (
    ShardedConditionSampler,
    ShardedRows,
    ShardLayout,
    ShardWriter,
)
from synthgan.transform import TableTransformer
from tests.conftest import make_mixed_frame


@pytest.fixture(scope="module")
def encoded():
    df = make_mixed_frame(n=3000, nulls=True)
    transformer = TableTransformer(quantile_knots=100, quantile_bins=8, random_state=0).fit(df)
    return transformer, transformer.transform(df)


def write(directory, layout, dense, *, block=500, shard_rows=700):
    writer = ShardWriter(directory, layout, len(dense), shard_rows)
    for first in range(0, len(dense), block):
        writer.write(dense[first : first + block])
    return writer, writer.close()


class TestShards:
    def test_round_trip_of_split_and_dense(self, encoded):
        transformer, dense = encoded
        layout = ShardLayout.of(transformer.layout_)
        np.testing.assert_array_equal(layout.dense(*layout.split(dense)), dense)

    def test_gather_across_shards_gives_the_dense_rows(self, encoded, tmp_path):
        transformer, dense = encoded
        _, shards = write(tmp_path, ShardLayout.of(transformer.layout_), dense)
        assert shards.n_shards == 5
        rows = ShardedRows(shards, torch.device("cpu"))
        index = torch.tensor([2999, 0, 701, 700, 1400, 5, 5])
        np.testing.assert_array_equal(rows[index].numpy(), dense[index.numpy()])
        np.testing.assert_array_equal(rows.dense_rows(10_000, seed=0).numpy(), dense)
        assert len(rows.dense_rows(100, seed=0)) == 100
        shards.release()
        shards.close()

    def test_writer_refuses_more_or_fewer_rows_than_counted(self, encoded, tmp_path):
        transformer, dense = encoded
        layout = ShardLayout.of(transformer.layout_)
        writer = ShardWriter(tmp_path, layout, 10)
        with pytest.raises(InvalidDataError, match="grew while it was read"):
            writer.write(dense[:11])
        writer.write(dense[:4])
        with pytest.raises(InvalidDataError, match="4 rows in the second pass, 10 in the first"):
            writer.close()

    def test_writer_memory_does_not_grow_with_rows(self, encoded, tmp_path):
        """The writer holds one block: its peak allocation is the same for 4x the rows."""
        transformer, dense = encoded
        layout = ShardLayout.of(transformer.layout_)
        block = dense[:256]
        peaks = []
        for n_blocks in (8, 32):
            directory = tmp_path / str(n_blocks)
            directory.mkdir()
            tracemalloc.start()
            writer = ShardWriter(directory, layout, 256 * n_blocks, shard_rows=10_000)
            for _ in range(n_blocks):
                writer.write(block)
            writer.close()
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            assert writer.max_block_rows == 256
        bound = 4 * block.nbytes  # the block's split copies, with room for Python's own
        assert peaks[0] < bound and peaks[1] < bound
        assert peaks[1] < 1.5 * peaks[0]


class TestShardedConditionSampler:
    def test_index_and_draws_equal_the_in_memory_sampler(self, encoded, tmp_path):
        transformer, dense = encoded
        spans = transformer.layout_.condition_spans(modes=True)
        _, shards = write(tmp_path, ShardLayout.of(transformer.layout_), dense, block=333)
        on_disk = ShardedConditionSampler.from_shards(spans, shards, torch.device("cpu"),
                                                      block_rows=450)  # fmt: skip
        in_memory = ConditionSampler.from_data(spans, dense, torch.device("cpu"))
        np.testing.assert_array_equal(
            on_disk._index.array, in_memory.rows_by_category.numpy()
        )
        assert torch.equal(on_disk.category_count, in_memory.category_count)
        g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
        span, category = in_memory.draw_conditions(200, g1)
        span2, category2 = on_disk.draw_conditions(200, g2)
        assert torch.equal(span, span2)
        assert torch.equal(
            in_memory.real_rows(span, category, g1), on_disk.real_rows(span2, category2, g2)
        )
        on_disk.close()
        shards.close()


def test_shard_layout_uses_int32_for_a_wide_span():
    wide = pd.DataFrame({"c": [f"v{i}" for i in range(40_000)], "x": np.arange(40_000) % 3})
    transformer = TableTransformer(schema=None, random_state=0)
    transformer.schema = transformer.schema  # kinds inferred: 'c' is id-like, so make it discrete
    from synthgan.schema import Schema

    transformer.schema = Schema.from_dict(
        {"columns": [{"name": "c", "kind": "discrete"}, {"name": "x", "kind": "discrete"}]}
    )
    transformer.fit(wide)
    assert ShardLayout.of(transformer.layout_).code_dtype == np.int32
