"""Damaged and misplaced inputs: truncated or bit-flipped Parquet, CSV and model files, model files
of a future or impossible format, folders where files belong. Each command either works on what
is left or says in one line what is wrong; never a traceback or a crash."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pandas as pd
import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from synthgan import ModelFileError, Synthesizer, SynthganError
from synthgan.io import read_table
from synthgan.model import load, modelfile
from tests.conftest import make_mixed_frame
from tests.fuzz.cli import invoke
from tests.fuzz.outcomes import TracebackFound, counting_failures


def budget(examples: int) -> int:
    return examples * settings.default.max_examples // 100


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """A good Parquet file, CSV file and model file, as bytes."""
    directory = tmp_path_factory.mktemp("originals")
    df = make_mixed_frame(n=120, nulls=True)
    df.to_parquet(directory / "t.parquet")
    df.to_csv(directory / "t.csv", index=False)
    model = Synthesizer(
        epochs=1, batch_size=20, pac=10, embedding_dim=8, generator_dims=(16,),
        discriminator_dims=(16,), device="cpu", verbose=False, random_state=0,
    ).fit(df)  # fmt: skip
    model.save(directory / "m.synthgan")
    return {name: (directory / name).read_bytes() for name in ("t.parquet", "t.csv", "m.synthgan")}


class Damaged(tuple):
    """(description, bytes), shown by its description alone when hypothesis prints a case."""

    def __repr__(self) -> str:
        return f"Damaged({self[0]})"

    _repr_pretty_ = lambda self, printer, cycle: printer.text(repr(self))  # noqa: E731


@st.composite
def damage(draw, data: bytes) -> tuple[str, bytes]:
    """A truncation, some flipped bits, or a run of overwritten bytes."""
    how = draw(st.sampled_from(["truncate", "flip", "overwrite"]))
    if how == "truncate":
        cut = draw(st.integers(0, len(data) - 1))
        return Damaged((f"truncated to {cut} bytes", data[:cut]))
    damaged = bytearray(data)
    if how == "flip":
        flips = draw(st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 7)),
                              min_size=1, max_size=8))  # fmt: skip
        for position, bit in flips:
            damaged[position] ^= 1 << bit
        return Damaged((f"bits flipped at {flips}", bytes(damaged)))
    start = draw(st.integers(0, len(data) - 1))
    junk = draw(st.binary(min_size=1, max_size=64))
    damaged[start : start + len(junk)] = junk
    return Damaged((f"{junk!r} written at {start}", bytes(damaged[: len(data)])))


@pytest.mark.parametrize("name", ["t.parquet", "t.csv"])
def test_damaged_tables(name, originals, fuzz_seed, outcome, tmp_path_factory):
    original = originals[name]

    @seed(fuzz_seed)
    @settings(max_examples=budget(40))
    @given(change=damage(original))
    def check(change):
        what, data = change
        path = tmp_path_factory.mktemp("damaged") / name
        path.write_bytes(data)
        with counting_failures(outcome.test):
            try:
                df = read_table(path)
            except SynthganError as exc:
                assert str(path) in str(exc), f"{what}: the error does not name the file: {exc}"
                status, _ = invoke(["inspect", path])
                assert status == "error", f"{what}: read_table refused it but inspect did not"
                outcome("cli_error")
                return
            assert isinstance(df, pd.DataFrame)
            status, _ = invoke(["inspect", path])
            outcome("correct" if status == "ok" else "cli_error")

    check()


def test_damaged_model_files(originals, fuzz_seed, outcome, tmp_path_factory):
    original = originals["m.synthgan"]

    @seed(fuzz_seed)
    @settings(max_examples=budget(40))
    @given(change=damage(original))
    def check(change):
        what, data = change
        directory = tmp_path_factory.mktemp("damaged")
        path, out = directory / "m.synthgan", directory / "s.parquet"
        path.write_bytes(data)
        with counting_failures(outcome.test):
            try:
                load(path, device="cpu")
            except ModelFileError as exc:
                assert str(path) in str(exc), f"{what}: the error does not name the file: {exc}"
            status, _ = invoke(["sample", path, "-n", 5, "-o", out, "--device", "cpu", "-q"], [out])
            if status == "ok":  # damage the checksum cannot see (e.g. in the zip's padding)
                assert len(pd.read_parquet(out)) == 5
                outcome("correct")
            else:
                outcome("cli_error")

    check()


def rewrite_meta(data: bytes, change) -> bytes:
    """The model file with its metadata changed and the checksum made to match again."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        meta = json.loads(archive.read("meta.json"))
        weights = archive.read("weights.pt")
    meta_bytes = json.dumps(change(meta)).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("meta.json", meta_bytes)
        archive.writestr("weights.pt", weights)
        archive.writestr("checksum.sha256", modelfile._digest(meta_bytes, weights))
    return buffer.getvalue()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)  # fmt: skip


@st.composite
def meta_changes(draw):
    """A future format version, a nonsense one, a missing or retyped key, a non-object."""
    how = draw(st.sampled_from(["version", "drop", "retype", "replace"]))
    if how == "version":
        version = draw(st.integers(-3, 1000) | JSON_VALUES)
        return f"format_version={version!r}", lambda meta: {**meta, "format_version": version}
    if how == "replace":
        value = draw(JSON_VALUES)
        return f"metadata replaced by {value!r}", lambda meta: value
    key = draw(st.sampled_from(["format", "params", "transformer", "training", "category_counts",
                                "loss_history", "estimator"]))  # fmt: skip
    if how == "drop":
        return f"without {key!r}", lambda meta: {k: v for k, v in meta.items() if k != key}
    value = draw(JSON_VALUES)
    return f"{key}={value!r}", lambda meta: {**meta, key: value}


def test_model_files_of_other_formats(originals, fuzz_seed, outcome, tmp_path_factory):
    @seed(fuzz_seed)
    @settings(max_examples=budget(40))
    @given(change=meta_changes())
    def check(change):
        what, edit = change
        directory = tmp_path_factory.mktemp("format")
        path, out = directory / "m.synthgan", directory / "s.csv"
        path.write_bytes(rewrite_meta(originals["m.synthgan"], edit))
        with counting_failures(outcome.test):
            try:
                load(path, device="cpu")
            except ModelFileError as exc:
                assert str(path) in str(exc), f"{what}: the error does not name the file: {exc}"
            status, result = invoke(["sample", path, "-n", 5, "-o", out, "-q"], [out])
            if status == "ok":
                assert len(pd.read_csv(out)) == 5
                outcome("correct")
            else:
                outcome("cli_error")

    check()


@pytest.mark.parametrize("history", [[[], None], {"a": [1.0], "b": []}, {"a": 1.0}])
def test_a_loss_history_of_another_shape_is_an_inconsistent_model_file(originals, tmp_path, history):
    # [[], None] made pandas warn (an error under the suite's filters) and build a padded table;
    # rotating seed 20261213
    path = tmp_path / "m.synthgan"
    path.write_bytes(rewrite_meta(originals["m.synthgan"], lambda m: {**m, "loss_history": history}))
    with pytest.raises(ModelFileError, match="the model file is inconsistent") as caught:
        load(path, device="cpu")
    assert str(path) in str(caught.value)


def test_a_model_file_from_a_future_version_says_upgrade(originals, tmp_path, outcome):
    path = tmp_path / "future.synthgan"
    future = modelfile.FORMAT_VERSION + 1
    path.write_bytes(
        rewrite_meta(originals["m.synthgan"], lambda m: {**m, "format_version": future})
    )
    with counting_failures(outcome.test):
        status, result = invoke(["sample", path, "-n", 5, "-o", tmp_path / "s.csv"])
        assert status == "error"
        assert f"model format {future} is newer than this synthgan" in result.stderr
        assert "pip install -U synthgan" in result.stderr
        outcome("cli_error")


FOLDER_CASES = {
    "inspect DIR": ["inspect", "{dir}"],
    "fit DIR": ["fit", "{dir}", "-o", "{tmp}/m.synthgan"],
    "fit -o DIR": ["fit", "{table}", "-o", "{dir}"],
    "fit --schema DIR": ["fit", "{table}", "--schema", "{dir}"],
    "sample DIR": ["sample", "{dir}", "-n", "3", "-o", "{tmp}/s.parquet"],
    # "sample -o DIR" (no suffix) writes partitioned Parquet into DIR: not an error
    "sample -o DIR.parquet": ["sample", "{model}", "-n", "3", "-o", "{dir_parquet}"],
    "evaluate DIR DIR": ["evaluate", "{dir}", "{dir}"],
    "evaluate --json DIR": ["evaluate", "{table}", "{table}", "--json", "{dir}"],
    "evaluate --report DIR": ["evaluate", "{table}", "{table}", "--report", "{dir}"],
    "share DIR": ["share", "{dir}", "-o", "{tmp}/release", "--no-dp"],
    "share -o FILE": ["share", "{table}", "-o", "{table}", "--no-dp"],
    "share --report-dir FILE": [
        "share",
        "{table}",
        "-o",
        "{tmp}/r",
        "--no-dp",
        "--report-dir",
        "{table}",
    ],  # fmt: skip
}


@pytest.mark.parametrize("case", list(FOLDER_CASES))
def test_a_folder_where_a_file_belongs(case, originals, tmp_path, outcome):
    (tmp_path / "d").mkdir()
    (tmp_path / "d.parquet").mkdir()
    (tmp_path / "t.parquet").write_bytes(originals["t.parquet"])
    (tmp_path / "m.synthgan").write_bytes(originals["m.synthgan"])
    fields = {"dir": tmp_path / "d", "dir_parquet": tmp_path / "d.parquet", "tmp": tmp_path,
              "table": tmp_path / "t.parquet", "model": tmp_path / "m.synthgan"}  # fmt: skip
    args = [a.format(**fields) for a in FOLDER_CASES[case]]
    watched = [tmp_path / "t.parquet", tmp_path / "m.synthgan"]
    with counting_failures(outcome.test):
        status, result = invoke(args, watched)
        assert status == "error", f"{case}: {result.output}"
        outcome("cli_error")


@pytest.mark.parametrize("length", [0, 100, 2000, 5000])
def test_truncated_parquet_in_a_real_process_exits_1(length, originals, tmp_path, outcome):
    """In a real process (CliRunner cannot see an abort at exit): one error line, exit code 1."""
    path = tmp_path / "t.parquet"
    path.write_bytes(originals["t.parquet"][:length])
    with counting_failures(outcome.test):
        run = subprocess.run(
            [sys.executable, "-m", "synthgan.cli", "inspect", str(path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        lines = run.stderr.strip().splitlines()
        if run.returncode not in (0, 1) or "Traceback" in run.stderr or len(lines) > 1:
            raise TracebackFound(f"exit {run.returncode}: {run.stderr!r}")
        assert run.returncode == 1 and lines[0].startswith(f"Error: {path}"), run.stderr
        outcome("cli_error")
