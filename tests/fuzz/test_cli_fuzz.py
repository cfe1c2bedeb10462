"""Every CLI command on generated tables: exit 0 with a correct result, or exit 1 with one line
"Error: ..." and no output file; never a traceback."""

from __future__ import annotations

import warnings

import pandas as pd
from hypothesis import assume, given, seed, settings
from hypothesis import strategies as st

from synthgan.io import read_table
from tests.fuzz.checks import assert_sample_matches
from tests.fuzz.cli import FAST_FIT, invoke
from tests.fuzz.outcomes import counting_failures
from tests.fuzz.strategies import tables

SAMPLE_ROWS = 17


def budget(examples: int) -> int:
    return examples * settings.default.max_examples // 100


def arrow_kind(arrow_type):
    """A Parquet column's type up to the offsets' width (pandas 3 writes text as large_string)."""
    import pyarrow as pa

    return {pa.large_string(): pa.string(), pa.large_binary(): pa.binary()}.get(
        arrow_type, arrow_type
    )


def write_input(df: pd.DataFrame, directory, fmt: str):
    """The table as a file a user would hand over; None where pandas itself cannot write it."""
    path = directory / f"data.{fmt}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas on odd column names: the harness's business
            if fmt == "parquet":
                df.to_parquet(path)
            else:
                df.to_csv(path, index=False)
    except Exception:  # e.g. pyarrow refuses a mixed object column: not synthgan's input
        path.unlink(missing_ok=True)
        return None
    return path


def test_commands_on_any_table(fuzz_seed, outcome, tmp_path_factory):
    @seed(fuzz_seed)
    @settings(max_examples=budget(25))
    @given(
        case=tables(max_columns=4, shapes=("tiny", "small", "ids")),
        fmt=st.sampled_from(["parquet", "csv"]),
        out_fmt=st.sampled_from(["parquet", "csv"]),
    )
    def check(case, fmt, out_fmt):
        directory = tmp_path_factory.mktemp("cli")
        data = write_input(case.df, directory, fmt)
        assume(data is not None)
        model = directory / "model.synthgan"
        sample = directory / f"sample.{out_fmt}"
        with counting_failures(outcome.test):
            status, result = invoke(["inspect", data])
            if status == "ok":
                assert f"{data}: " in result.output and " rows, " in result.output
            status, _ = invoke(["fit", data, "-o", model, *FAST_FIT], [model])
            if status == "error":
                outcome("cli_error")
                return
            assert model.is_file()
            real = read_table(data)
            status, _ = invoke(
                ["sample", model, "-n", SAMPLE_ROWS, "-o", sample, "--seed", "1", "-q"], [sample]
            )
            assert status == "ok", "a model synthgan wrote could not sample"
            rows = read_table(sample)
            if fmt == "csv" or out_fmt == "parquet":  # csv renames '' to 'Unnamed: 0'
                assert list(rows.columns) == list(real.columns)
            assert len(rows) == SAMPLE_ROWS
            if fmt == out_fmt == "parquet":  # csv loses dtypes on the way; parquet keeps them
                import pyarrow.parquet as pq

                from synthgan.schema import resolve_schema

                in_types, out_types = pq.read_schema(data), pq.read_schema(sample)
                for spec in resolve_schema(real, None).output:
                    before = arrow_kind(in_types.field(spec.name).type)
                    after = arrow_kind(out_types.field(spec.name).type)
                    assert after == before, f"{spec.name!r}: {before} written as {after}"
                    sampled = rows[spec.name]
                    if real[spec.name].dtype == object and sampled.dtype == bool:
                        # pandas reads an Arrow bool column as object only when it holds a
                        # null; the file's type is the input's (checked above)
                        sampled = sampled.astype(object)
                    assert_sample_matches(spec.name, spec.kind, real[spec.name], sampled)
            # across formats the dtypes differ (csv dates are text)
            if fmt == out_fmt:
                status, result = invoke(["evaluate", data, sample])
                assert status == "ok", f"evaluate failed on a fit's own sample: {result.output}"
            outcome("correct")

    check()


def test_share_on_any_table(fuzz_seed, outcome, tmp_path_factory):
    @seed(fuzz_seed)
    @settings(max_examples=budget(6))
    @given(case=tables(max_columns=3, shapes=("medium", "small"), table_problems=False))
    def check(case):
        directory = tmp_path_factory.mktemp("share")
        data = write_input(case.df, directory, "parquet")
        assume(data is not None)
        release = directory / "release"
        args = ["share", data, "-o", release, "--no-dp", "--epochs", "1", "--batch-size", "10",
                "--device", "cpu", "--quiet", "--force"]  # fmt: skip
        with counting_failures(outcome.test):
            status, _ = invoke(args, [release / "synthetic.parquet", release / "MODEL_CARD.md"])
            if status == "error":
                assert not release.exists() or not any(release.iterdir())
                outcome("cli_error")
                return
            released = read_table(release / "synthetic.parquet")
            from synthgan.schema import ColumnKind, infer_schema

            kept = [c.name for c in infer_schema(read_table(data)).columns
                    if c.kind not in (ColumnKind.ID, ColumnKind.IGNORED)]  # fmt: skip
            assert list(released.columns) == kept, "share releases every column but the ids"
            assert (release / "MODEL_CARD.md").is_file()
            outcome("correct")

    check()
