"""The command line at scale: `fit --nproc N` (torchrun) and `sample -o dir/` (partitioned Parquet)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from synthgan import load
from tests.conftest import make_mixed_frame


@pytest.mark.slow  # two fresh interpreters under torchrun: about 30 s on two busy cores
@pytest.mark.parametrize("streamed", [False, True])
def test_fit_with_two_processes_writes_one_loadable_model(tmp_path, streamed):
    table = make_mixed_frame(n=300, nulls=False)
    data = tmp_path / "data.parquet"
    if streamed:  # a folder read in record batches, each process encoding its own rows
        data = tmp_path / "parts"
        data.mkdir()
        table.iloc[:100].to_parquet(data / "a.parquet")
        table.iloc[100:].reset_index(drop=True).to_parquet(data / "b.parquet")
    else:
        table.to_parquet(data)
    output = tmp_path / "model.synthgan"
    result = subprocess.run(
        [sys.executable, "-m", "synthgan.cli", "fit", str(data), "-o", str(output),
         "--epochs", "1", "--batch-size", "100", "--seed", "0", "--device", "cpu", "--nproc", "2",
         *(["--stream", "--shard-dir", str(tmp_path)] if streamed else [])],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "in 2 processes" in result.stderr
    assert len(load(output, device="cpu").sample(20, random_state=0)) == 20


def test_sample_to_a_directory_writes_one_part_per_chunk(tmp_path):
    from click.testing import CliRunner

    from synthgan import Synthesizer
    from synthgan.cli import main

    model_file = tmp_path / "model.synthgan"
    Synthesizer(epochs=1, batch_size=100, random_state=0, verbose=False, device="cpu").fit(
        make_mixed_frame(n=200, nulls=False)
    ).save(model_file)
    out = tmp_path / "rows"
    result = CliRunner().invoke(main, ["sample", str(model_file), "-n", "250", "-o", f"{out}/",
                                       "--seed", "1", "--processes", "1", "--chunk-rows", "100"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [f"part-0000{i}.parquet" for i in range(3)]
    assert "Wrote 250 rows" in result.stderr
    import pandas as pd

    assert len(pd.read_parquet(out)) == 250
