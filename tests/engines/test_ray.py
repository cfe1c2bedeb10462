"""Ray on this machine: training through Ray Train's TorchTrainer, sampling through Ray Data's
map_batches, the same rows on 1 and on 3 blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgan import load
from tests.conftest import make_mixed_frame

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.engines


@pytest.fixture(scope="module")
def ray_local():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def model_file(ray_local, tmp_path_factory):
    from synthgan import ray as synthgan_ray

    out = tmp_path_factory.mktemp("ray")
    data = out / "data.parquet"
    make_mixed_frame(n=300, nulls=True).to_parquet(data)
    synthgan_ray.fit(data, out / "model.synthgan", num_workers=2,
                     epochs=1, batch_size=100, random_state=0, device="cpu", verbose=False)  # fmt: skip
    return out / "model.synthgan"


def test_torch_trainer_fit_writes_one_loadable_model(model_file):
    model = load(model_file, device="cpu")
    assert model.rows_trained_ == 300 and model.epochs_trained_ == 1


def test_same_seed_same_rows_on_one_and_three_blocks(model_file):
    from synthgan import ray as synthgan_ray

    def rows(blocks):
        data = synthgan_ray.sample(model_file, 250, random_state=4, chunk_rows=100, blocks=blocks)
        return data.to_pandas().sort_values("user_id", ignore_index=True)

    one, three = rows(1), rows(3)
    assert len(one) == 250 and one["user_id"].is_unique
    np.testing.assert_array_equal(one["price"].to_numpy(float), three["price"].to_numpy(float))
    pd.testing.assert_series_equal(one["city"], three["city"])


def test_reach_bounds_as_sample_takes_it(model_file):
    from synthgan import ray as synthgan_ray
    from synthgan.exceptions import InvalidDataError

    price = load(model_file, device="cpu").transformer_.transformers_["price"]

    def rows(**kwargs):
        return synthgan_ray.sample(model_file, 300, random_state=4, chunk_rows=100, **kwargs).to_pandas()

    spanning = rows()  # as many rows as trained on: the training range, by default
    assert (spanning["price"].min(), spanning["price"].max()) == (price.min_, price.max_)
    assert rows(reach_bounds=False)["price"].min() > price.min_  # else the test shows nothing
    with pytest.raises(InvalidDataError, match="reach_bounds=True cannot be combined with con"):
        synthgan_ray.sample(model_file, 300, conditions={"city": "Rome"}, reach_bounds=True)
