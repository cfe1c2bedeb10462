"""A streamed fit (Parquet file or folder, read in record batches) end to end and from the CLI."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from synthgan import InvalidDataError, Synthesizer
from synthgan.cli import main
from synthgan.model.streamed import Streaming
from tests.conftest import make_mixed_frame

FAST = {"epochs": 1, "batch_size": 100, "verbose": False, "device": "cpu", "n_threads": 1}
CLI_FAST = ["--epochs", "1", "--batch-size", "100", "--seed", "0", "--device", "cpu", "--quiet"]


@pytest.fixture(scope="module")
def table():
    return make_mixed_frame(n=600, nulls=True)


@pytest.fixture(scope="module")
def folder(table, tmp_path_factory):
    parts = tmp_path_factory.mktemp("parts")
    table.iloc[:250].to_parquet(parts / "part-0.parquet")
    table.iloc[250:].reset_index(drop=True).to_parquet(parts / "part-1.parquet")
    return parts


@pytest.fixture(scope="module")
def streamed(folder):
    return Synthesizer(random_state=0, **FAST).fit(folder, stream=True)


def test_streamed_fit_equals_the_in_memory_fit(table, streamed):
    """Every row in the sample and every column's values counted: the same model for a seed."""
    in_memory = Synthesizer(random_state=0, **FAST).fit(table)
    for ours, theirs in zip(streamed.generator_.parameters(), in_memory.generator_.parameters()):
        assert torch.equal(ours, theirs)
    pd.testing.assert_frame_equal(
        streamed.sample(300, random_state=1), in_memory.sample(300, random_state=1)
    )
    assert streamed.rows_trained_ == len(table)


def test_save_and_load_a_streamed_fit(streamed, tmp_path):
    path = streamed.save(tmp_path / "m.synthgan")
    loaded = Synthesizer.load(path, device="cpu")  # the fit's device: its random streams
    pd.testing.assert_frame_equal(
        loaded.sample(200, random_state=3), streamed.sample(200, random_state=3)
    )


def test_sampled_statistics_still_fit_and_sample(table, folder, tmp_path):
    options = Streaming(sample_rows=100, max_distinct=40, shard_rows=128, shard_dir=str(tmp_path))
    model = Synthesizer(random_state=0, **FAST).fit(folder, stream=options)
    assert "price" in model.stream_facts_["sampled_columns"]
    assert model.stream_facts_["sample_rows"] == 100
    rows = model.sample(100, random_state=0)
    assert list(rows.columns) == list(table.columns)
    assert list(tmp_path.iterdir()) == []  # the shards' folder is removed


def test_small_file_without_stream_is_read_whole(table, folder):
    model = Synthesizer(random_state=0, **FAST).fit(folder / "part-0.parquet")
    assert not hasattr(model, "stream_facts_") and model.rows_trained_ == 250


@pytest.mark.parametrize(
    ("params", "message"),
    [({"epsilon": 1.0}, "private fit .* cannot be streamed"),
     ({"rules": [{"rule": "inequality", "columns": ["count", "price"]}]}, "rules cannot be combined")],
)  # fmt: skip
def test_refused_combinations(folder, params, message):
    with pytest.raises(InvalidDataError, match=message):
        Synthesizer(random_state=0, **FAST, **params).fit(folder, stream=True)


def test_bad_streaming_bounds(folder):
    with pytest.raises(InvalidDataError, match="chunk_rows=1000 must be a positive multiple"):
        Synthesizer(**FAST).fit(folder, stream=Streaming(chunk_rows=1000))


@pytest.fixture
def address(table):
    """The table as a folder on an fsspec filesystem (in memory: what s3:// would be)."""
    import fsspec

    table.iloc[:250].to_parquet("memory://synthgan-fit/t/part-0.parquet")
    table.iloc[250:].reset_index(drop=True).to_parquet("memory://synthgan-fit/t/part-1.parquet")
    yield "memory://synthgan-fit/t/"
    fsspec.filesystem("memory").rm("memory://synthgan-fit", recursive=True)


def test_a_folder_at_an_address_fits_as_the_local_folder(address, streamed):
    remote = Synthesizer(random_state=0, **FAST).fit(address)  # streamed: its size is unknown
    pd.testing.assert_frame_equal(remote.sample(300, random_state=1),
                                  streamed.sample(300, random_state=1))  # fmt: skip


class TestCli:
    def test_fit_an_address(self, runner, address, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        result = runner.invoke(main, ["fit", address, *CLI_FAST])
        assert result.exit_code == 0, result.output
        assert Synthesizer.load(tmp_path / "t.synthgan").sample(5, random_state=0).shape == (5, 13)
        result = runner.invoke(main, ["fit", address, "--in-memory", *CLI_FAST])
        assert result.exit_code == 1 and "is read in record batches. Drop --in-memory" in result.output

    def test_fit_a_folder(self, runner, folder, tmp_path):
        out = tmp_path / "m.synthgan"
        result = runner.invoke(main, ["fit", str(folder), "-o", str(out), *CLI_FAST])
        assert result.exit_code == 0, result.output
        assert Synthesizer.load(out).sample(10, random_state=0).shape == (10, 13)

    @pytest.mark.parametrize("problem", ["empty", "mixed", "unreadable"])
    def test_bad_inputs_are_one_line_and_write_nothing(self, runner, table, tmp_path, problem):
        parts = tmp_path / "parts"
        parts.mkdir()
        if problem != "empty":
            table.to_parquet(parts / "a.parquet")
        if problem == "mixed":
            table.drop(columns=["price"]).to_parquet(parts / "b.parquet")
        if problem == "unreadable":
            (parts / "b.parquet").write_bytes(b"PAR1 garbage")
        out = tmp_path / "m.synthgan"
        result = runner.invoke(main, ["fit", str(parts), "-o", str(out), *CLI_FAST])
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
        assert "Traceback" not in result.output
        expected = {"empty": "no Parquet files in this folder",
                    "mixed": "b.parquet: its columns differ",
                    "unreadable": "b.parquet: cannot read it as Parquet"}[problem]  # fmt: skip
        assert expected in lines[0]
        assert not out.exists() and list(tmp_path.glob(".m.synthgan*")) == []

    def test_stream_flag_on_csv(self, runner, table, tmp_path):
        csv = tmp_path / "t.csv"
        table.to_csv(csv, index=False)
        result = runner.invoke(main, ["fit", str(csv), "--stream", *CLI_FAST])
        assert result.exit_code == 1 and "reads Parquet only" in result.output
