"""Bugs the fuzz suite found, each pinned by the smallest input that showed it."""

from __future__ import annotations

import datetime
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from synthgan import InvalidDataError, TableTransformer
from synthgan.schema import infer_schema, validate_frame


def round_trip(df: pd.DataFrame) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tt = TableTransformer(random_state=0).fit(df)
        data = tt.transform(df)
        state = json.loads(json.dumps(tt.get_state(), allow_nan=True))
        again = TableTransformer.from_state(state).inverse_transform(data)
        back = tt.inverse_transform(data)
    pd.testing.assert_frame_equal(again, back)
    return back


def test_object_strings_keep_object_dtype():
    # pandas 3 inferred its "str" dtype for the decoded strings of an object column
    df = pd.DataFrame({"city": pd.Series(["a", "b", "", "a\x00"] * 3, dtype=object)})
    back = round_trip(df)
    assert back["city"].dtype == object
    assert back["city"].tolist() == df["city"].tolist()


def test_seconds_datetimes_beyond_the_nanosecond_range_round_trip():
    # datetime64[s] in year 5149 raised OutOfBoundsDatetime (a traceback) when cast to ns
    stamps = pd.Series(np.array(["5149-07-05T08:24:24", "5150-01-01", "3312-01-21"],
                                dtype="datetime64[s]"))  # fmt: skip
    df = pd.DataFrame({"when": stamps})
    back = round_trip(df)
    assert back["when"].dtype == df["when"].dtype
    assert (back["when"] == df["when"]).all()


def test_nanosecond_timestamps_round_trip_exactly():
    # epoch nanoseconds went through float64 (2**53): .000387529 came back as .000387584
    df = pd.DataFrame({"t": pd.to_datetime(["2098-01-01 00:00:00.000387529"]).as_unit("ns")})
    assert (round_trip(df)["t"] == df["t"]).all()


@pytest.mark.parametrize(
    "values,dtype",
    [
        ([-9223372036854775794], "int64"),
        ([2**63 - 1, 2**63 - 5, 2**63 - 100], "int64"),
        ([2**64 - 1, 2**64 - 3], "uint64"),
        ([1_700_000_000_000_000_001, 1_700_000_000_000_000_002, None], "Int64"),
    ],
)
def test_large_integers_round_trip_exactly(values, dtype):
    # integers went through float64: beyond 2**53 they lost their last digits
    df = pd.DataFrame({"n": pd.array(values, dtype=dtype)})
    back = round_trip(df)
    assert back["n"].dtype == df["n"].dtype
    assert back["n"].astype(object).tolist() == df["n"].astype(object).tolist()


def test_integers_spanning_int64_do_not_wrap_round():
    # the top of int64 came back as -2**63 (a float step of 2**63 cast back to int64)
    values = np.array([9223372036854775782, 0, 9223372036854775806], dtype=np.int64)
    back = round_trip(pd.DataFrame({"n": values}))["n"]
    assert back.dtype == np.int64 and (back >= 0).all()
    assert all(abs(int(b) - int(v)) <= 2e-6 * 2**63 for b, v in zip(back, values))


def test_tiny_floats_keep_their_values():
    # the mixture's moments underflowed at 1e-300: every value decoded as the mean
    values = np.random.default_rng(0).normal(0, 1, 62) * 1e-300
    back = round_trip(pd.DataFrame({"x": values}))
    span = values.max() - values.min()
    np.testing.assert_allclose(back["x"].to_numpy(), values, rtol=0, atol=2e-6 * span)


def test_floats_across_the_whole_float_range_round_trip_without_warnings():
    # x - mean and the squares overflowed (RuntimeWarnings, inf moments) near +-1.7e308
    values = np.array(
        [
            -7.827252e307,
            -1.560690e308,
            -1.643806e308,
            1.065119e308,
            1.403369e308,
            3.625616e307,
            7.802883e307,
            1.483250e307,
            1.479246e308,
            1.073902e308,
        ]
        * 3
    )
    values = values + np.arange(30) * 1e300  # fmt: skip
    back = round_trip(pd.DataFrame({"x": values}))
    assert np.isfinite(back["x"]).all()
    half_span = values.max() / 2 - values.min() / 2
    assert np.abs(back["x"].to_numpy() / 2 - values / 2).max() <= 2e-6 * half_span


def test_whole_floats_with_a_null_fit_without_a_convergence_warning():
    # k-means found fewer distinct clusters than asked: sklearn's ConvergenceWarning leaked
    values = [16, -32, 19, -30, -4, -24, 6, -30, -25, 3, 0, 11, 34, 10, -7, -22, 8, 0, -43, -43,
              19, 2, -48, -30, -16, -9, -45, -33, -46, 41, -20, 4, -31, -8, -47, 22, -13, 43, -44,
              -4, -4, 33, -28, 38, -12, -20, 8, -11, 6, -28, 6, -41, 24, -37, -35, None, -40, -21,
              45, -38, -43, -42, -47, 37, -16, 16, -32, 30, 31, -39, -2, -48, -10, 45, 42, -33, 16,
              -16, 34, 18, -35, -31, 42, -10]  # fmt: skip
    df = pd.DataFrame({"x": pd.Series(values, dtype="float64")})
    back = round_trip(df)
    np.testing.assert_array_equal(back["x"].to_numpy(), df["x"].to_numpy())


def test_duplicate_names_message_is_one_line():
    # the names were joined as str(): a name holding a newline split the CLI's one-line error
    df = pd.DataFrame([[1, 2]], columns=["a\nb", "a\nb"])
    with pytest.raises(InvalidDataError, match=r"Duplicate column names: 'a\\nb'\.") as info:
        validate_frame(df)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "values,type_name",
    [([b"x", b"\x00"], "bytes"), ([datetime.date(2020, 1, 1), datetime.date(2021, 1, 1)], "date")],
)
def test_a_column_of_one_unsupported_type_is_named_not_called_mixed(values, type_name):
    # one type (bytes; dates as Parquet date32 columns read) was reported as "mixes value types"
    df = pd.DataFrame({"col": np.array(values, dtype=object)})
    with pytest.raises(InvalidDataError, match=f"Column 'col' holds {type_name} values"):
        TableTransformer().fit(df)


def test_datetime_categories_are_refused_by_name():
    # a category dtype of Timestamps fitted, then the model file's JSON failed (TypeError)
    df = pd.DataFrame({"day": pd.Categorical(pd.to_datetime(["2020-01-01", "2020-01-02"]))})
    with pytest.raises(InvalidDataError, match="Column 'day' has categories of type Timestamp"):
        TableTransformer().fit(df)


def test_ids_at_the_top_of_int64_count_down_from_the_smallest():
    # next id = max + 1 overflowed int64: OverflowError while sampling
    top = np.iinfo(np.int64).max
    df = pd.DataFrame({"id": top - np.arange(60, dtype=np.int64), "x": np.arange(60) % 3})
    tt = TableTransformer(random_state=0).fit(df)
    assert tt.schema_.kind("id").value == "id"
    ids = tt.inverse_transform(tt.transform(df))["id"]
    assert ids.dtype == np.int64 and ids.is_unique and not set(ids) & set(df["id"])
    assert ids.max() <= top


def test_int8_ids_with_no_room_left_are_refused_by_name():
    df = pd.DataFrame({"id": np.arange(-128, 128, dtype=np.int8)[:200], "x": np.arange(200) % 3})
    # distinct, but int8 numbers only 56 new ids beside them: inferred an integer column
    assert infer_schema(df).kind("id").value == "integer"
    tt = TableTransformer(schema=infer_schema(df, kinds={"id": "id"}), random_state=0).fit(df)
    assert tt.schema_.kind("id").value == "id"  # declared ids
    tt.inverse_transform(tt.transform(df.iloc[:56]))  # 56 ids fit above and below
    with pytest.raises(InvalidDataError, match="Column 'id': its dtype int8 has no room"):
        tt.inverse_transform(tt.transform(df))


def test_one_pack_per_batch_trains_without_nan():
    # batch_size == pac: the information loss took the std of one pack (NaN, and a torch
    # UserWarning); every loss went NaN and every continuous value sampled was NaN
    from synthgan import Synthesizer

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=40), "c": rng.choice(["a", "b"], 40)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = Synthesizer(
            epochs=2, batch_size=10, pac=10, device="cpu", verbose=False, random_state=0
        ).fit(df)
        rows = model.sample(50)
    assert np.isfinite(model.loss_history_.drop(columns="epoch").to_numpy(float)).all()
    assert rows.notna().all().all()


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory):
    from synthgan import Synthesizer
    from tests.conftest import make_mixed_frame

    path = tmp_path_factory.mktemp("model") / "m.synthgan"
    Synthesizer(
        epochs=1, batch_size=20, pac=10, embedding_dim=8, generator_dims=(16,),
        discriminator_dims=(16,), device="cpu", verbose=False, random_state=0,
    ).fit(make_mixed_frame(n=60, nulls=False)).save(path)  # fmt: skip
    return path.read_bytes()


def test_a_bit_flip_in_the_compressed_metadata_is_a_model_file_error(model_bytes, tmp_path):
    # zlib.error (and, for other bits, NotImplementedError or RuntimeError from zipfile) escaped
    from synthgan import ModelFileError
    from synthgan.model import load

    damaged = bytearray(model_bytes)
    damaged[39] ^= 1 << 1  # inside meta.json's deflate stream
    path = tmp_path / "m.synthgan"
    path.write_bytes(bytes(damaged))
    with pytest.raises(ModelFileError, match="truncated or damaged"):
        load(path, device="cpu")


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda meta: {**meta, "format_version": 0}, r"damaged metadata \(format version 0\)"),
        (lambda meta: {**meta, "format_version": True}, r"format version True"),
        (lambda meta: [1, 2], "not a synthgan model file"),
        (lambda meta: {**meta, "category_counts": None}, "the model file is inconsistent"),
        (lambda meta: {**meta, "category_counts": [[1.0]]}, "the model file is inconsistent"),
    ],
)
def test_metadata_that_passes_the_checksum_but_makes_no_sense(edit, message, model_bytes, tmp_path):
    # format_version 0 raised KeyError (no upgrade from 0), a JSON list AttributeError, and
    # category_counts None loaded fine and raised TypeError at the first sample
    from synthgan import ModelFileError
    from synthgan.model import load
    from tests.fuzz.test_corrupted_inputs import rewrite_meta

    path = tmp_path / "m.synthgan"
    path.write_bytes(rewrite_meta(model_bytes, edit))
    with pytest.raises(ModelFileError, match=message):
        load(path, device="cpu")


def test_a_table_of_ids_only_is_refused_before_training():
    # every column id-like (a CSV date column of distinct days reads as text, then as ids):
    # zero-width networks, a torch warning and a RuntimeError from autograd in the first step
    from synthgan import Synthesizer

    days = pd.date_range("2000-01-01", periods=51, freq="D").strftime("%Y-%m-%d")
    df = pd.DataFrame({"c0": pd.Series(days, dtype=object)})
    model = Synthesizer(epochs=1, batch_size=10, device="cpu", verbose=False)
    with pytest.raises(
        InvalidDataError, match="Nothing to learn: every column is id-like or ignored \\('c0'\\)"
    ):
        model.fit(df)


def test_evaluate_on_floats_spanning_the_float_range():
    # found by test_cli_fuzz: `synthgan evaluate` raised ValueError("`bins` must increase
    # monotonically") from numpy.histogram for a column of values near +-1.7e308
    from synthgan.evaluate import evaluate

    values = np.array([-1.5e308, -0.5e308, 0.7e308, 1.6e308])
    real = pd.DataFrame({"x": values, "y": [1.0, 2.0, 3.0, 4.0]})
    synthetic = pd.DataFrame({"x": values[::-1].copy(), "y": [2.0, 1.0, 4.0, 3.0]})
    report = evaluate(real, synthetic)
    assert report.scores["column_shapes"] == 1.0  # the same values in another order


def test_evaluate_on_dates_beyond_the_nanosecond_range():
    # found by test_cli_fuzz: `synthgan evaluate` raised OutOfBoundsDatetime for a
    # datetime64[us] column in year 6721 (fit and sample handle it since f971a0d)
    from synthgan.evaluate import evaluate

    days = np.array(
        ["6721-01-02", "6721-01-05", "6722-01-01", "6721-03-01"], dtype="datetime64[us]"
    )
    real = pd.DataFrame({"when": days, "y": [1.0, 2.0, 3.0, 4.0]})
    report = evaluate(real, real.iloc[::-1].reset_index(drop=True))
    assert report.scores["column_shapes"] == 1.0


def test_a_bit_flip_in_parquet_pandas_metadata_is_a_clean_error(tmp_path):
    # KeyError('step') from pyarrow's pandas_compat (a damaged RangeIndex entry in the footer's
    # pandas metadata) escaped read_table: a traceback from every command reading the table
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthgan.io import read_table

    table = pa.Table.from_pandas(pd.DataFrame({"a": [1, 2, 3]}))
    pandas_meta = table.schema.metadata[b"pandas"].replace(b'"step"', b'"stap"')
    path = tmp_path / "t.parquet"
    pq.write_table(table.replace_schema_metadata({b"pandas": pandas_meta}), path)
    with pytest.raises(InvalidDataError, match=r"cannot read it as parquet: damaged metadata"):
        read_table(path)


def test_inspect_describes_a_tz_aware_date_beyond_year_9999():
    # a flipped bit in a Parquet file gave a Europe/Berlin timestamp in year 11155: the table
    # read and fitted, but `synthgan inspect` crashed printing its max (NotImplementedError)
    from synthgan.schema import describe, infer_schema

    stamps = pd.Series(np.array(["11155-01-01", "2020-01-01"], dtype="datetime64[us]"))
    df = pd.DataFrame({"t": stamps.dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin")})
    table = describe(df, infer_schema(df))
    assert table.loc[0, "kind"] == "datetime" and table.loc[0, "distinct"] == 2


def test_int64_ids_holding_both_ends_of_the_dtype_come_from_a_gap():
    # ids including -2**63 and 2**63 - 1 (sentinels) had no room above or below: sampling
    # raised "no room for new ids" though almost every int64 value was free
    info = np.iinfo(np.int64)
    ids = np.concatenate([[info.min, info.max], np.arange(-5000, -4951)]).astype(np.int64)
    df = pd.DataFrame({"id": ids, "x": np.arange(51) % 3})
    tt = TableTransformer(random_state=0).fit(df)
    assert tt.schema_.kind("id").value == "id"
    state = json.loads(json.dumps(tt.get_state()))
    new = TableTransformer.from_state(state).inverse_transform(tt.transform(df))["id"]
    assert new.dtype == np.int64 and new.is_unique and not set(new) & set(ids)


def test_a_two_row_table_fits_with_rejection_sampling():
    # the row critic's held-out fifth of 2 real + 2 generated rows held no generated row, and
    # its ceiling (a quantile of held-out generated rows) failed: torch.cat of nothing
    from synthgan import Synthesizer

    df = pd.DataFrame({"c0": np.array([3, 5], dtype=np.int64)})
    model = Synthesizer(
        epochs=1, batch_size=10, pac=5, embedding_dim=8, generator_dims=(16,),
        discriminator_dims=(16,), discriminator_row_dim=8, device="cpu", verbose=False,
        random_state=0, rejection=True,
    ).fit(df)  # fmt: skip
    rows = model.sample(23, random_state=1)
    assert rows["c0"].dtype == np.int64 and rows["c0"].between(3, 5).all()


def test_ids_in_a_small_dtype_fit_and_sample_up_to_their_room(tmp_path):
    # fuzz seed 20270330: a UInt8 id column of 53 ids (room for 203 more) could not be fitted.
    # The row critic's draws decode blocks of 4,096 rows, and every block's ids were checked
    # against the dtype's room ("no room for 4096 new ids"), as a sample of 23 rows was too.
    # Now the sample's own size is checked, and the rows past it are dropped, whatever ids
    # they were given
    from synthgan import Synthesizer
    from synthgan.model.partitions import sample_chunk

    ids = pd.array(np.r_[np.arange(40, 146, 2), [None]], dtype="UInt8")  # 53 ids, 40..144
    df = pd.DataFrame({"key": ids, "x": np.arange(54) % 5})
    model = Synthesizer(
        epochs=1, batch_size=10, pac=5, embedding_dim=8, generator_dims=(16,),
        discriminator_dims=(16,), discriminator_row_dim=8, device="cpu", verbose=False,
        random_state=0,
    ).fit(df)  # fmt: skip
    assert model.fitted_schema().kind("key").value == "id" and model.row_critic_ is not None
    room = (255 - 144) + 40 + 1  # above the largest, below the smallest, the widest gap (41)
    rows = model.sample(room, random_state=1)
    new = rows["key"].dropna()
    assert rows["key"].dtype == "UInt8" and new.is_unique and not set(new) & set(ids.dropna())
    for sample in (lambda: model.sample(room + 1),
                   lambda: model.sample_to_parquet(tmp_path / "s.parquet", room + 1),
                   lambda: sample_chunk(model, 0, n=room + 1, seed=0, chunk_rows=10)):  # fmt: skip
        with pytest.raises(InvalidDataError, match=f"'key'.*no room for {room + 1} new ids"):
            sample()
    assert not (tmp_path / "s.parquet").exists()


def test_text_that_is_not_utf8_in_a_parquet_file_is_refused_when_read(tmp_path):
    # a damaged page ("Berlin" -> b"\x80erlin") read fine into pandas 3's Arrow-backed "str"
    # column and raised ArrowException later, in `synthgan inspect` (rotating seed 20261211)
    import pyarrow as pa
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from synthgan.cli import main
    from synthgan.io import read_table

    text = pa.array([b"Paris", b"\x80erlin", b"Rome"], type=pa.binary()).view(pa.string())
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"city": text, "n": [1, 2, 3]}), path)
    with pytest.raises(InvalidDataError, match="t.parquet: cannot read it as parquet") as caught:
        read_table(path)
    assert "\n" not in str(caught.value)
    result = CliRunner().invoke(main, ["inspect", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "t.parquet: cannot read it as parquet" in result.output  # pandas 2 fails in the read


def test_text_that_is_not_utf8_in_a_parquet_folder_is_refused_naming_the_file(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthgan.io import iter_frames, open_dataset

    good = pa.array(["Paris", "Rome"])
    bad = pa.array([b"Paris", b"\x80erlin"], type=pa.binary()).view(pa.string())
    pq.write_table(pa.table({"city": good}), tmp_path / "part-0.parquet")
    pq.write_table(pa.table({"city": bad}), tmp_path / "part-1.parquet")
    with pytest.raises(InvalidDataError, match="part-1.parquet: cannot read it as Parquet"):
        list(iter_frames(open_dataset(tmp_path), 3))


def test_histograms_near_the_float_maximum_are_drawn():
    # matplotlib's tick formatting overflowed on edges of +-8e307 (`synthgan share` wrote its
    # report with a traceback; rotating seed 20261212): such edges are drawn in units of 1e307
    from synthgan.evaluate._plots import distributions_png

    huge = {"type": "histogram", "edges": [-8.02e307, 0.0, 5.36e307], "real": [1, 2],
            "synthetic": [2, 1]}  # fmt: skip
    assert distributions_png({"c": huge}).startswith(b"\x89PNG")


def test_columns_near_the_float_maximum_are_checked_for_relations_without_overflow():
    # the search for a monotone relation subtracted neighbouring values: +-1.6e308 overflowed
    # (a RuntimeWarning, an error under the suite's filters; rotating seed 20261215)
    rng = np.random.default_rng(0)
    big = rng.uniform(-1.0, 1.0, 51) * 1.7e308
    df = pd.DataFrame({"c0": big, "c1": rng.normal(size=51)})
    from synthgan.transform.derived import find_derivations

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert find_derivations(df, infer_schema(df)) == []


def test_a_carriage_return_in_a_name_or_value_survives_a_csv_round_trip(tmp_path):
    # pandas left a bare "\r" unquoted and the CSV read back with a row more or a parser error
    # (`synthgan sample -o x.csv`, rotating seed 20270104)
    from synthgan.io import read_table, write_table

    df = pd.DataFrame({"\r0": [1.5, np.nan], "a\nb": [1, 2], "x": ["p\rq", None]})
    back = read_table(write_table(df, tmp_path / "t.csv"))
    assert list(back.columns) == list(df.columns)
    assert back["x"].tolist()[0] == "p\rq" and back["x"].isna().tolist() == [False, True]
    np.testing.assert_array_equal(back["a\nb"].to_numpy(), [1, 2])
    # a category holding "\r" (its categories are checked, not each row)
    df = pd.DataFrame({"k": pd.Categorical(["u\rv", "w", "w"]), "n": [1, 2, 3]})
    back = read_table(write_table(df, tmp_path / "k.csv"))
    assert back["k"].tolist() == ["u\rv", "w", "w"] and len(back) == 3


def test_a_one_column_csv_with_whitespace_lines_keeps_every_row(tmp_path):
    # a table of one column named " " wrote the header line " ", which readers skip as blank:
    # the first row became the header and the sample read back a row short (`synthgan sample
    # -o x.csv`, rotating seed 20270215); a value of whitespace alone loses its row alike
    from synthgan.io import read_table, write_table

    df = pd.DataFrame({" ": [3, -2, 5]})
    back = read_table(write_table(df, tmp_path / "n.csv"))
    assert list(back.columns) == [" "] and back[" "].tolist() == [3, -2, 5]
    df = pd.DataFrame({"a": ["x", " ", None, "\t"]})
    back = read_table(write_table(df, tmp_path / "s.csv"))
    assert back["a"].tolist()[:2] == ["x", " "] and back["a"].isna().tolist()[2]
    assert back["a"].tolist()[3] == "\t" and len(back) == 4
    df = pd.DataFrame({"k": pd.Categorical([" ", "w", "w"])})
    assert read_table(write_table(df, tmp_path / "k.csv"))["k"].tolist() == [" ", "w", "w"]


def test_report_labels_with_dollars_and_glyphs_the_font_lacks_are_drawn_quietly():
    # matplotlib read "$a^$" as TeX and raised while drawing the report, and warned once per
    # glyph its font lacks (a Chinese column name; rotating seed 20270108): such labels are drawn
    # with "$" escaped and the missing characters as their escapes, without a warning
    from synthgan.evaluate._plots import _text, distributions_png, pairs_png

    bars = {"type": "bars", "labels": ["$a^$", "城市"], "real": [1, 2], "synthetic": [2, 1]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert distributions_png({"$\\frac{$ \x9b": bars}).startswith(b"\x89PNG")
        pairs = pd.DataFrame([[1.0, 0.9], [0.9, 1.0]], index=["城", "$^"], columns=["城", "$^"])
        assert pairs_png(pairs).startswith(b"\x89PNG")
    assert _text("城市", 14) == "\\u57ce\\u5e02" and _text("$x$", 14) == "\\$x\\$"
    assert _text("a\nb", 14) == "a\\nb" and _text("城市" * 9, 14) == "\\u57ce\\u5e02"


def test_row_embedding_of_values_near_the_float_maximum_keeps_them_apart():
    # the training standard deviation of +-1.3e300 overflowed (a RuntimeWarning in
    # `synthgan share`; rotating seed 20270111) and came out inf, so every value embedded as 0
    # and every synthetic row sat at distance 0 from the training rows
    from synthgan.evaluate.privacy import RowEmbedding

    rng = np.random.default_rng(0)
    train = pd.DataFrame({"c0": rng.uniform(-1.0, 1.0, 100) * 1.3e300})
    embedding = RowEmbedding(schema=infer_schema(train), columns=["c0"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        points = embedding.fit(train).transform(train)
    assert np.isfinite(points).all()
    assert 1.5 < np.ptp(points[:, 0]) < 4.0  # about 3.4 standard deviations of a uniform


def test_pair_bins_and_the_utility_model_take_values_near_the_float_maximum_quietly():
    # the pair trends' bin edges (high - low) and HistGradientBoosting's binning (midpoints)
    # overflowed on a column of +-1.6e308 (RuntimeWarnings shown by `synthgan share`; rotating
    # seed 20261212 under the CLI tests' check for warnings): edges are taken in halves, and the
    # utility model's numeric features are divided by a power of two, which keeps their order
    from synthgan.evaluate.fidelity import _pair_codes
    from synthgan.evaluate.utility import UtilityModel

    rng = np.random.default_rng(0)
    values = rng.uniform(-1.0, 1.0, 200) * 1.6e308
    labels = np.where(values > 0, "up", "down")
    df = pd.DataFrame({"c0": values, "y": labels})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        real_codes, _, _ = _pair_codes(values, values[:10], numeric=True)
        model = UtilityModel(task="classification").fit(df[["c0"]], df["y"])
        predicted = model.predict(df[["c0"]])
    assert len(np.unique(real_codes)) > 5
    assert (np.asarray(predicted) == labels).mean() > 0.95


def test_pair_correlations_of_values_near_the_float_maximum_are_computed_quietly():
    # np.corrcoef's sums of squares overflowed on a column of about 5e299 (RuntimeWarnings shown
    # by `synthgan evaluate`; rotating seed 20261208): each column is scaled by its largest
    # magnitude first, which leaves the correlation as it was
    from synthgan.evaluate.fidelity import _correlation

    rng = np.random.default_rng(0)
    a = rng.normal(size=50)
    b = a + rng.normal(size=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        huge = _correlation(a, b * 1e299)
    assert huge == pytest.approx(np.corrcoef(a, b)[0, 1], abs=1e-12)


def test_row_embedding_of_a_holdout_far_beyond_a_tiny_training_column_stays_finite():
    # training values near 1e-300 and a holdout value of 9e76: standardised, it overflowed to
    # inf and DCR's nearest neighbours raised ValueError in `synthgan share` (rotating seed
    # 20270112); such a value is now as far as any (FARTHEST standard deviations)
    from synthgan.evaluate.privacy import FARTHEST, RowEmbedding, nearest_distances

    rng = np.random.default_rng(0)
    train = pd.DataFrame({"c0": rng.uniform(-1.0, 1.0, 50) * 1e-300})
    holdout = pd.DataFrame({"c0": [9.1e76, -1.5e16, 3e-301]})
    embedding = RowEmbedding(schema=infer_schema(train), columns=["c0"]).fit(train)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        points = embedding.transform(holdout)
        distances = nearest_distances(embedding.transform(train), points, k=1)
    assert points[0, 0] == FARTHEST and points[1, 0] == -FARTHEST
    assert np.isfinite(distances).all() and distances[2, 0] < 5.0


def test_report_histograms_of_dates_beyond_the_nanosecond_range_are_drawn():
    # the date ticks went through pandas' nanosecond Timestamp, which ends in 2262: `synthgan
    # share` on a datetime64[us] column in year 5822 raised OutOfBoundsDatetime while writing
    # its report (rotating seed 20270128)
    from synthgan.evaluate._plots import _seconds_as_date, distributions_png

    when = {"type": "histogram", "edges": [121557369600.0, 121557369601.0, 121557369602.25],
            "real": [6, 4], "synthetic": [5, 5], "datetime": True}  # fmt: skip
    assert distributions_png({"when": when}).startswith(b"\x89PNG")
    assert _seconds_as_date(121557369600.25, 0) == "5822-01-01"
    assert _seconds_as_date(-1.0, 0) == "1969-12-31" and _seconds_as_date(0.0, 0) == "1970-01-01"
    assert _seconds_as_date(float("inf"), 0) == "" and _seconds_as_date(1e300, 0) == ""


@pytest.fixture(scope="module")
def newline_named_model():
    from synthgan import Synthesizer

    df = pd.DataFrame({"a\nb": [True, True, True, False] * 5, "x\ny": np.arange(20.0)})
    return Synthesizer(epochs=1, batch_size=20, pac=2, rejection=False, verbose=False,
                       n_threads=1, random_state=0).fit(df)  # fmt: skip


@pytest.mark.parametrize(
    "conditions",
    [
        {"a\nb": (False, True)},  # a range on a boolean column, refused (rotating seed 20270115)
        {"a\nb": pd.Interval(0, 1)},
        {"x\ny": 1e6},  # outside what the model saw
        {"x\ny": (1e6, None)},
        {"x\ny": [1e6, 2e6]},
    ],
)
def test_condition_messages_on_a_name_with_a_newline_are_one_line(newline_named_model, conditions):
    # descriptions of conditions wrote the column's name as it is, so 'a\nb' split the message
    # over two lines; a name that does not print on one line is now quoted
    with pytest.raises(InvalidDataError) as caught:
        newline_named_model.sample(10, conditions=conditions, random_state=0, max_tries=2)
    message = str(caught.value)
    assert "\n" not in message and "\\n" in message, message
