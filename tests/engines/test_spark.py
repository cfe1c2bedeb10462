"""Spark local[2]: training through TorchDistributor(local_mode=True), sampling through
mapInPandas, the same rows on 1 and on 3 partitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgan import load
from synthgan.model.partitions import sample_chunk
from tests.conftest import make_mixed_frame

pyspark = pytest.importorskip("pyspark")
pytestmark = pytest.mark.engines


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("synthgan-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def model_file(spark, tmp_path_factory):
    from synthgan import spark as synthgan_spark

    out = tmp_path_factory.mktemp("spark")
    data = out / "data.parquet"
    make_mixed_frame(n=300, nulls=True).to_parquet(data)
    summary = synthgan_spark.fit(
        data, out / "model.synthgan", num_processes=2, local_mode=True,
        epochs=1, batch_size=100, random_state=0, device="cpu", verbose=False,
    )  # fmt: skip
    assert summary["world_size"] == 2  # the summary of one of the ranks (all agree)
    return out / "model.synthgan"


def test_torch_distributor_fit_writes_one_loadable_model(model_file):
    model = load(model_file, device="cpu")
    assert model.rows_trained_ == 300 and model.epochs_trained_ == 1


def test_same_seed_same_rows_on_one_and_three_partitions(spark, model_file):
    from synthgan import spark as synthgan_spark

    def rows(partitions):
        frame = synthgan_spark.sample(spark, model_file, 250, random_state=4, chunk_rows=100,
                                      partitions=partitions)  # fmt: skip
        return frame.toPandas()

    one, three = rows(1), rows(3)
    assert len(one) == 250
    pd.testing.assert_frame_equal(one, three)
    # and the rows are those of the local chunk-seeded sampler
    model = load(model_file, device="cpu")
    model.verbose = False
    local = pd.concat(
        [synthgan_spark.spark_frame(sample_chunk(model, c, n=250, seed=4, chunk_rows=100))
         for c in range(3)], ignore_index=True,
    )  # fmt: skip
    assert one["user_id"].tolist() == local["user_id"].tolist()
    np.testing.assert_array_equal(one["price"].to_numpy(float), local["price"].to_numpy(float))


def test_reach_bounds_as_sample_takes_it(spark, model_file):
    from synthgan import spark as synthgan_spark
    from synthgan.exceptions import InvalidDataError

    model = load(model_file, device="cpu")
    price = model.transformer_.transformers_["price"]

    def rows(**kwargs):
        return synthgan_spark.sample(spark, model_file, 300, random_state=4, chunk_rows=100,
                                     **kwargs).toPandas()  # fmt: skip

    spanning = rows()  # as many rows as trained on: the training range, by default
    assert (spanning["price"].min(), spanning["price"].max()) == (price.min_, price.max_)
    plain = rows(reach_bounds=False)
    assert plain["price"].min() > price.min_  # else the test shows nothing
    with pytest.raises(InvalidDataError, match="reach_bounds=True cannot be combined with con"):
        synthgan_spark.sample(spark, model_file, 300, conditions={"city": "Rome"}, reach_bounds=True)
