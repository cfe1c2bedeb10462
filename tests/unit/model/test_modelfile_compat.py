from __future__ import annotations

from pathlib import Path

import pytest

from synthgan import load

FIXTURES = sorted((Path(__file__).parents[2] / "fixtures").glob("model_format*.synthgan"))


def test_there_is_a_fixture_of_the_current_format():
    from synthgan.model.modelfile import FORMAT_VERSION

    assert any(p.name == f"model_format{FORMAT_VERSION}.synthgan" for p in FIXTURES)


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_every_committed_format_still_loads_and_samples(path):
    model = load(path, device="cpu")
    rows = model.sample(25, random_state=0)
    assert list(rows.columns) == ["amount", "colour", "when"]
    assert rows["colour"].isin(["red", "green", "blue"]).all()
    assert str(rows["when"].dtype).startswith("datetime64")
    # format 2 added condition vectors over numeric components, format 3 the critic's shared
    # row encoder; older models had neither
    version = int(path.stem.removeprefix("model_format"))
    assert model.condition_on_modes is (version >= 2)
    assert (model.discriminator_row_dim is not None) is (version >= 3)
    assert (model.critic_.row_encoder is not None) is (version >= 3)
    # format 4: quantile maps of numeric columns and rejection sampling's row critic
    assert (model.transformer_.transformers_["amount"].quantile_ is not None) is (version >= 4)
    assert (model.row_critic_ is not None) is (version >= 4)
    # format 5: equal-mass quantile bins and their scalar calibration; rules, and a plan that
    # rewrites the table around the model
    assert (model.transformer_.transformers_["amount"].n_bins_ > 0) is (version >= 5)
    assert (model.calibration_ is not None) is (version >= 5)
    assert (model.rules_ is not None) is (version >= 5)
    if version >= 5:
        assert (rows["amount"] >= 0).all()
    # format 7: the row critic reads the binned column's normal score too
    assert bool((model.selection_ or {}).get("rank_features")) is (version >= 7)
