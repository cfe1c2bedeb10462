"""The engine adapters are extras: without their engine they say how to install it."""

from __future__ import annotations

import sys

import pytest

from synthgan.exceptions import InvalidDataError


@pytest.mark.parametrize("engine, package", [("spark", "pyspark"), ("ray", "ray")])
def test_missing_engine_says_which_extra_to_install(engine, package, monkeypatch):
    monkeypatch.setitem(sys.modules, package, None)  # import fails as if not installed
    import importlib

    adapter = importlib.import_module(f"synthgan.{engine}")
    with pytest.raises(InvalidDataError, match=rf"pip install 'synthgan\[{engine}\]'"):
        adapter.fit("data.parquet", "model.synthgan")


def test_the_core_imports_no_engine():
    import subprocess

    code = ("import sys, synthgan, synthgan.cli; "
            "print(any(m in sys.modules for m in ('pyspark', 'ray')))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_spark_rows_hold_no_chunked_string_column():
    # a sample kept from many rejection-sampled blocks: its Arrow-backed strings in many chunks
    import pandas as pd
    import pyarrow as pa

    from synthgan.spark import spark_frame

    blocks = [pd.DataFrame({"s": pd.Series(["a", None, "b"], dtype="string[pyarrow]"),
                            "c": pd.Categorical(["x", "y", "x"]), "n": [1, 2, 3]})
              for _ in range(50)]  # fmt: skip
    frame = pd.concat(blocks, ignore_index=True)
    out = spark_frame(frame)
    for name in out.columns:
        assert isinstance(pa.Array.from_pandas(out[name]), pa.Array), name
    assert out["s"].tolist()[:3] == ["a", None, "b"] and out["c"].tolist()[:2] == ["x", "y"]
