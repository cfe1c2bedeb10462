"""Reading Parquet files and folders in record batches (synthgan.io.open_dataset, iter_frames)."""

from __future__ import annotations

import pandas as pd
import pytest

from synthgan.exceptions import InvalidDataError
from synthgan.io import iter_frames, open_dataset, read_table, source_bytes
from tests.conftest import make_mixed_frame


@pytest.fixture
def folder(tmp_path):
    df = make_mixed_frame(n=500, nulls=True)
    parts = tmp_path / "parts"
    parts.mkdir()
    df.iloc[:200].to_parquet(parts / "a.parquet")
    df.iloc[200:].reset_index(drop=True).to_parquet(parts / "b.parquet")
    return parts, df


class TestOpenDataset:
    def test_folder_reads_every_file_in_order(self, folder):
        parts, df = folder
        frames = list(iter_frames(open_dataset(parts), 128))
        assert [len(f) for f in frames] == [128, 128, 128, 116]
        back = pd.concat(frames, ignore_index=True)
        pd.testing.assert_frame_equal(back, df)

    def test_empty_folder(self, tmp_path):
        (tmp_path / "empty").mkdir()
        with pytest.raises(InvalidDataError, match=r"empty: no Parquet files in this folder"):
            open_dataset(tmp_path / "empty")

    def test_mixed_schemas_name_the_file_and_column(self, folder):
        parts, _ = folder
        pd.DataFrame({"price": ["x"], "other": [1]}).to_parquet(parts / "c.parquet")
        with pytest.raises(InvalidDataError, match=r"c\.parquet: its columns differ from .*a\."):
            open_dataset(parts)

    def test_mixed_types_name_the_column(self, folder):
        parts, df = folder
        odd = df.iloc[:5].copy()
        odd["count"] = odd["count"].astype(str)
        odd.to_parquet(parts / "c.parquet")
        with pytest.raises(InvalidDataError, match=r"column 'count' is \w*string here, int64 there"):
            open_dataset(parts)

    def test_unreadable_file(self, folder):
        parts, _ = folder
        (parts / "c.parquet").write_bytes(b"not a parquet file at all")
        with pytest.raises(InvalidDataError, match=r"c\.parquet: cannot read it as Parquet"):
            open_dataset(parts)

    def test_missing_path_and_csv(self, tmp_path):
        with pytest.raises(InvalidDataError, match="no such file or folder"):
            open_dataset(tmp_path / "nope")
        csv = tmp_path / "t.csv"
        csv.write_text("a\n1\n")
        with pytest.raises(InvalidDataError, match="reads Parquet only"):
            open_dataset(csv)


class TestAddresses:
    """A folder on another filesystem, through fsspec (its in-memory filesystem here; s3://,
    gs:// and the like take the same path with their package installed)."""

    @pytest.fixture
    def remote(self):
        import fsspec

        df = make_mixed_frame(n=300, nulls=True)
        memory = fsspec.filesystem("memory")
        df.iloc[:100].to_parquet("memory://synthgan-test/parts/a.parquet")
        df.iloc[100:].reset_index(drop=True).to_parquet("memory://synthgan-test/parts/b.parquet")
        memory.pipe("memory://synthgan-test/parts/_SUCCESS", b"")
        yield "memory://synthgan-test/parts", df
        memory.rm("memory://synthgan-test", recursive=True)

    def test_a_folder_at_an_address(self, remote):
        url, df = remote
        back = pd.concat(iter_frames(open_dataset(url + "/"), 128), ignore_index=True)
        pd.testing.assert_frame_equal(back, df)
        assert source_bytes(url) is None  # unknown size: a fit streams it

    def test_missing_and_unknown_addresses(self, remote):
        url, _ = remote
        with pytest.raises(InvalidDataError, match=r"memory://synthgan-test/nope: no such file"):
            open_dataset("memory://synthgan-test/nope")
        with pytest.raises(InvalidDataError, match=r"nosuch://x: not an address synthgan can read"):
            open_dataset("nosuch://x")


class TestIntegersKept:
    """An integer column of a file that holds nulls is read as pandas' nullable integers, not as
    float64, so that a model of it writes integers back (fuzz seed 20261205 on pandas 3.0)."""

    @pytest.mark.parametrize("suffix", ["parquet", "feather"])
    def test_nulls_written_by_arrow(self, tmp_path, suffix):
        import pyarrow as pa
        import pyarrow.feather
        import pyarrow.parquet as pq

        table = pa.table({
            "big": pa.array([2**60 + 1, None, 3], pa.int64()),
            "small": pa.array([None, 200, 7], pa.uint8()),
            "full": pa.array([1, 2, 3], pa.int32()),
            "ratio": pa.array([0.5, None, 1.5]),
        })  # fmt: skip
        path = tmp_path / f"t.{suffix}"
        (pq.write_table if suffix == "parquet" else pyarrow.feather.write_feather)(table, path)
        df = read_table(path)
        assert df["big"].dtype == "Int64" and df["big"].tolist() == [2**60 + 1, pd.NA, 3]
        assert df["small"].dtype == "UInt8" and df["small"].tolist() == [pd.NA, 200, 7]
        assert df["full"].dtype == "int32"  # no nulls: numpy's integers, as pandas reads them
        assert df["ratio"].dtype == "float64"

    def test_a_category_column_of_integers(self, tmp_path):
        # Parquet keeps it as plain int64, which pandas read back as float64 (its nulls)
        frame = pd.DataFrame({"c": pd.Categorical([0, None, 5])},
                             index=pd.Index([10, 20, 30], name="id"))  # fmt: skip
        frame.to_parquet(tmp_path / "t.parquet")
        df = read_table(tmp_path / "t.parquet")
        assert df["c"].astype("Int64").tolist() == [0, pd.NA, 5]
        assert df["c"].dtype != "float64"

    def test_frames_of_a_dataset_too(self, tmp_path):
        # Synthesizer.fit("t.parquet") reads a small file through iter_frames, not read_table
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"k": pa.array([1, None, 3, 4], pa.int16())}), tmp_path / "t.parquet")
        first, second = iter_frames(open_dataset(tmp_path / "t.parquet"), 2)
        assert first["k"].dtype == "Int16" and first["k"].tolist() == [1, pd.NA]
        assert second["k"].dtype == "int16"  # no nulls in this frame
