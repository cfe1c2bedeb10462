"""``synthgan fit --nproc 2``: torchrun on the loopback, one model file from rank 0."""

from __future__ import annotations

import subprocess
import sys

import pytest

from synthgan import load
from tests.conftest import make_mixed_frame


@pytest.mark.slow  # two fresh interpreters under torchrun: about 30 s on two busy cores
def test_fit_with_two_processes_writes_one_loadable_model(tmp_path):
    data = tmp_path / "data.parquet"
    make_mixed_frame(n=300, nulls=False).to_parquet(data)
    output = tmp_path / "model.synthgan"
    result = subprocess.run(
        [sys.executable, "-m", "synthgan.cli", "fit", str(data), "-o", str(output),
         "--epochs", "1", "--batch-size", "100", "--seed", "0", "--device", "cpu", "--nproc", "2"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "in 2 processes" in result.stderr
    assert len(load(output, device="cpu").sample(20, random_state=0)) == 20
