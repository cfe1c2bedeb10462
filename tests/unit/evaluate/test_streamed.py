"""Nearest distances over chunks of training rows equal those over the whole table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthgan.evaluate.privacy import RowEmbedding, nearest_distances
from synthgan.evaluate.streamed import nearest_over_chunks
from synthgan.schema import infer_schema
from tests.conftest import make_mixed_frame


def test_chunks_give_the_exact_nearest_distances():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(1000, 6))
    queries = np.concatenate([rng.normal(size=(200, 6)), reference[[3, 999]]])  # two copies
    whole = nearest_distances(reference, queries, 2)
    chunks = [reference[i : i + 137] for i in range(0, 1000, 137)]
    np.testing.assert_array_equal(nearest_over_chunks(chunks, queries, 2), whole)
    assert np.all(whole[-2:, 0] == 0)


def test_embedded_table_in_chunks_equals_in_memory():
    train = make_mixed_frame(n=500, nulls=True, seed=1)
    synthetic = make_mixed_frame(n=120, nulls=True, seed=2)
    schema = infer_schema(train)
    columns = [c.name for c in schema.modelled]
    embedding = RowEmbedding(schema=schema, columns=columns).fit(train)
    queries = embedding.transform(synthetic)
    whole = nearest_distances(embedding.transform(train), queries, 2)
    chunks = (embedding.transform(train.iloc[i : i + 64]) for i in range(0, 500, 64))
    np.testing.assert_array_equal(nearest_over_chunks(chunks, queries, 2), whole)


def test_fewer_reference_rows_than_k():
    queries = np.zeros((3, 2))
    out = nearest_over_chunks([np.ones((1, 2))], queries, 2)
    assert np.allclose(out[:, 0], np.sqrt(2)) and np.all(np.isnan(out[:, 1]))


def test_streamed_fidelity_equals_the_in_memory_scores():
    from synthgan.evaluate import evaluate
    from synthgan.evaluate.streamed import fidelity_scores

    real = make_mixed_frame(n=900, nulls=True, seed=1)
    synthetic = make_mixed_frame(n=700, nulls=True, seed=2)
    synthetic["price"] = synthetic["price"] * 1.1  # some distance to measure
    names = ["column_shapes", "wasserstein", "null_rate_difference", "coverage", "adherence",
             "column_pairs"]  # fmt: skip
    report = evaluate(real, synthetic, metrics=names)
    schema = infer_schema(real)

    def chunks(df, rows):
        return lambda: (df.iloc[i : i + rows] for i in range(0, len(df), rows))

    streamed = fidelity_scores(chunks(real, 128), chunks(synthetic, 97), schema)
    for name in names:
        assert np.isclose(streamed[name], report.scores[name], rtol=1e-9, atol=1e-12), name
    assert streamed["rows"] == {"real": 900, "synthetic": 700}


def test_closest_record_distances_over_chunks_equal_the_whole_table():
    from synthgan.evaluate.streamed import closest_record_distances

    real = make_mixed_frame(n=600, nulls=True, seed=1)
    synthetic = pd.concat([make_mixed_frame(n=80, nulls=True, seed=2), real.iloc[[7, 99]]],
                          ignore_index=True)  # fmt: skip
    schema = infer_schema(real)
    columns = [c.name for c in schema.modelled]
    embedding = RowEmbedding(schema=schema, columns=columns).fit(real)
    whole = nearest_distances(embedding.transform(real), embedding.transform(synthetic), 2)
    chunked = closest_record_distances(
        lambda: (real.iloc[i : i + 111] for i in range(0, 600, 111)), synthetic, schema, k=2
    )
    np.testing.assert_allclose(chunked, whole, rtol=1e-9, atol=1e-12)
    assert np.all(chunked[-2:, 0] == 0)  # the two copied rows are found, exactly
