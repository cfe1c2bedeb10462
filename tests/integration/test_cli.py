from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgan.cli import main
from tests.conftest import make_mixed_frame

FAST = ["--epochs", "1", "--batch-size", "100", "--seed", "0", "--device", "cpu", "--quiet"]


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "data.parquet"
    make_mixed_frame(n=200, nulls=True).to_parquet(path)
    return path


@pytest.fixture
def model_file(runner, table, tmp_path):
    out = tmp_path / "m.synthgan"
    result = runner.invoke(main, ["fit", str(table), "-o", str(out), *FAST])
    assert result.exit_code == 0, result.output
    return out


def test_version_and_help(runner):
    assert runner.invoke(main, ["--version"]).output.startswith("synthgan, version")
    result = runner.invoke(main, ["-h"])
    assert result.exit_code == 0 and "inspect" in result.output and "fit" in result.output


def test_inspect(runner, table):
    result = runner.invoke(main, ["inspect", str(table)])
    assert result.exit_code == 0
    assert "price" in result.output and "continuous" in result.output and "id" in result.output


def test_inspect_lists_exact_relations(runner, tmp_path):
    rng = np.random.default_rng(0)
    grade = rng.choice(["low", "mid", "high"], 300)
    frame = pd.DataFrame({"grade": grade,
                          "grade_num": pd.Series(grade).map({"low": 1, "mid": 2, "high": 3}),
                          "part_a": rng.integers(0, 50, 300), "part_b": rng.integers(0, 50, 300)})
    frame["total"] = frame["part_a"] + frame["part_b"]  # fmt: skip
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    result = runner.invoke(main, ["inspect", str(path)])
    assert result.exit_code == 0
    assert "grade_num is fixed by grade" in result.output
    assert "total = part_a + part_b" in result.output


def test_inspect_lists_parts_of_a_whole(runner, tmp_path):
    rng = np.random.default_rng(0)
    rent = rng.integers(0, 10, 300)
    frame = pd.DataFrame({"rent": rent, "own": 9 - rent + (rng.random(300) < 0.05),
                          "age": rng.integers(18, 90, 300)})  # fmt: skip
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    result = runner.invoke(main, ["inspect", str(path)])
    assert result.exit_code == 0
    assert "Parts of a whole" in result.output
    assert "rent + own lies between 9 and 10" in result.output or (
        "own + rent lies between 9 and 10" in result.output
    )


def test_inspect_json_round_trips_through_schema_option(runner, table, tmp_path):
    result = runner.invoke(main, ["inspect", str(table), "--json"])
    schema_path = tmp_path / "schema.json"
    schema_path.write_text(result.output.replace('"kind": "integer"', '"kind": "discrete"', 1))
    again = runner.invoke(main, ["inspect", str(table), "--schema", str(schema_path)])
    assert again.exit_code == 0
    assert " count discrete" in " ".join(again.output.split())


def test_fit_then_sample_parquet_and_csv(runner, model_file, tmp_path):
    out = tmp_path / "s.parquet"
    result = runner.invoke(
        main, ["sample", str(model_file), "-n", "123", "-o", str(out), "--seed", "1", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert len(pd.read_parquet(out)) == 123
    csv = tmp_path / "s.csv"
    result = runner.invoke(
        main, ["sample", str(model_file), "-n", "50", "-o", str(csv), "--where", "city=Paris", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert (pd.read_csv(csv)["city"] == "Paris").all()


def test_sample_reaches_the_training_bounds_unless_told_not_to(runner, table, model_file, tmp_path):
    real = pd.read_parquet(table)
    bounds = (real["price"].min(), real["price"].max())

    def price_range(name: str, *options: str) -> tuple[float, float]:
        out = tmp_path / name
        args = ["sample", str(model_file), "-n", str(len(real)), "-o", str(out), "--seed", "1"]
        result = runner.invoke(main, [*args, "-q", *options])
        assert result.exit_code == 0, result.output
        rows = pd.read_csv(out) if out.suffix == ".csv" else pd.read_parquet(out)
        return rows["price"].min(), rows["price"].max()

    assert price_range("a.parquet") == pytest.approx(bounds)
    assert price_range("b.csv") == pytest.approx(bounds)
    assert price_range("parts", "--chunk-rows", "80", "--processes", "1") == pytest.approx(bounds)
    low, high = price_range("c.parquet", "--no-reach-bounds")
    assert low > bounds[0] or high < bounds[1]
    refused = runner.invoke(main, ["sample", str(model_file), "-n", "200", "-o",
                                   str(tmp_path / "w.csv"), "--where", "city=Paris",
                                   "--reach-bounds"])  # fmt: skip
    assert refused.exit_code != 0 and "cannot be combined with conditions" in refused.output
    assert not (tmp_path / "w.csv").exists()


def test_fit_names_the_columns_it_regenerates_as_ids(runner, table, tmp_path):
    loud = [option for option in FAST if option != "--quiet"]
    result = runner.invoke(main, ["fit", str(table), "-o", str(tmp_path / "m.synthgan"), *loud])
    assert result.exit_code == 0, result.output
    assert "Read as ids, regenerated as new values rather than learnt: user_id, code." in (
        result.output
    )


def test_fit_default_output_is_beside_the_input(runner, table):
    result = runner.invoke(main, ["fit", str(table), *FAST])
    assert result.exit_code == 0, result.output
    assert table.with_suffix(".synthgan").is_file()


def one_line_error(result, pattern: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert pattern in lines[0], lines[0]


class TestErrors:
    def test_missing_input(self, runner, tmp_path):
        result = runner.invoke(main, ["fit", str(tmp_path / "nope.parquet")])
        one_line_error(result, "does not exist")

    def test_bad_table_leaves_no_model(self, runner, tmp_path):
        path = tmp_path / "bad.csv"
        pd.DataFrame({"a": [1, 2, 3], "b": [np.nan] * 3}).to_csv(path, index=False)
        result = runner.invoke(main, ["fit", str(path), *FAST])
        one_line_error(result, "Column 'b' has only null values")
        assert not path.with_suffix(".synthgan").exists()

    def test_unknown_output_format(self, runner, model_file, tmp_path):
        out = tmp_path / "s.txt"
        result = runner.invoke(main, ["sample", str(model_file), "-n", "5", "-o", str(out)])
        one_line_error(result, "unknown table format '.txt'")
        assert not out.exists()

    @pytest.mark.parametrize("command", ["fit", "sample"])
    def test_output_under_a_file_is_refused_before_any_work(self, runner, model_file, tmp_path,
                                                            command, monkeypatch):  # fmt: skip
        blocker = tmp_path / "a_file"
        blocker.write_text("not a folder")
        out = blocker / "sub" / ("m.synthgan" if command == "fit" else "s.parquet")
        data = tmp_path / "data.csv"
        pd.DataFrame({"a": np.arange(50.0), "b": ["x", "y"] * 25}).to_csv(data, index=False)
        from synthgan.model import Synthesizer

        monkeypatch.setattr(Synthesizer, "fit", lambda *a, **k: pytest.fail("trained anyway"))
        args = [str(data), *FAST] if command == "fit" else [str(model_file), "-n", "5"]
        result = runner.invoke(main, [command, *args, "-o", str(out)])
        one_line_error(result, "a_file is a file, not a folder")

    def test_a_full_disk_is_one_line_and_leaves_the_old_file(self, runner, model_file, tmp_path,
                                                             monkeypatch):  # fmt: skip
        import errno

        out = tmp_path / "s.csv"
        out.write_text("previous")

        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(pd.DataFrame, "to_csv", full)
        result = runner.invoke(main, ["sample", str(model_file), "-n", "5", "-o", str(out)])
        one_line_error(result, "No space left on device")
        assert out.read_text() == "previous" and list(tmp_path.glob(".s.csv*")) == []

    def test_bad_where(self, runner, model_file, tmp_path):
        out = tmp_path / "s.parquet"
        result = runner.invoke(
            main, ["sample", str(model_file), "-n", "5", "-o", str(out), "--where", "city"]
        )
        one_line_error(result, "write it as column=value")
        result = runner.invoke(
            main, ["sample", str(model_file), "-n", "5", "-o", str(out), "--where", "city=Pariss"]
        )
        one_line_error(result, "closest known category is 'Paris'")
        assert not out.exists()

    def test_damaged_model(self, runner, model_file, tmp_path):
        model_file.write_bytes(model_file.read_bytes()[:100])
        result = runner.invoke(
            main, ["sample", str(model_file), "-n", "5", "-o", str(tmp_path / "s.parquet")]
        )
        one_line_error(result, "truncated or damaged")

    def test_batch_size_not_multiple_of_pac(self, runner, table):
        result = runner.invoke(main, ["fit", str(table), "--batch-size", "95", "--quiet"])
        one_line_error(result, "batch_size=95 is not a multiple of pac=10")


def test_ctrl_c_saves_the_model_and_exits_130(runner, table, tmp_path, interrupt_second_epoch):
    out = tmp_path / "m.synthgan"
    args = [
        "fit",
        str(table),
        "-o",
        str(out),
        "--epochs",
        "5",
        "--batch-size",
        "100",
        "--device",
        "cpu",
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 130
    assert "Interrupted after 1 epoch(s); saved the model trained so far" in result.output
    assert out.is_file()


class TestConditionsAndImpute:
    def test_where_forms(self, runner, model_file, tmp_path):
        out = tmp_path / "s.csv"
        result = runner.invoke(main, [
            "sample", str(model_file), "-n", "80", "-o", str(out), "-q", "--seed", "0",
            "--where", "city=Paris,Rome", "--where", "1<=count<5", "--where", "day>=2020-06-01",
            "--where", "price=..50",
        ])  # fmt: skip
        assert result.exit_code == 0, result.output
        rows = pd.read_csv(out, parse_dates=["day"])
        assert len(rows) == 80 and rows["city"].isin(["Paris", "Rome"]).all()
        assert rows["count"].between(1, 4).all() and (rows["day"] >= "2020-06-01").all()
        assert (rows["price"] <= 50).all()

    def test_conditions_table_and_distribution(self, runner, model_file, tmp_path):
        seeds = tmp_path / "seeds.csv"
        pd.DataFrame({"city": ["Rome", "Paris", None], "count": [2, None, 5]}).to_csv(
            seeds, index=False
        )
        out = tmp_path / "s.csv"
        result = runner.invoke(main, ["sample", str(model_file), "-o", str(out), "-q",
                                      "--conditions", str(seeds)])  # fmt: skip
        assert result.exit_code == 0, result.output
        rows = pd.read_csv(out)
        assert rows["city"].tolist()[:2] == ["Rome", "Paris"] and rows["count"][[0, 2]].tolist() == [2, 5]
        result = runner.invoke(main, ["sample", str(model_file), "-n", "10", "-o", str(out), "-q",
                                      "--distribution", "city=Rome:0.3,Berlin:0.7"])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert pd.read_csv(out)["city"].value_counts().to_dict() == {"Berlin": 7, "Rome": 3}

    def test_impute(self, runner, model_file, tmp_path):
        partial = tmp_path / "partial.parquet"
        frame = make_mixed_frame(n=40, nulls=True, seed=3)
        frame.to_parquet(partial)
        out = tmp_path / "done.parquet"
        result = runner.invoke(main, ["impute", str(model_file), str(partial), "-o", str(out),
                                      "--seed", "0"])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "empty cells" in result.output
        done = pd.read_parquet(out)
        assert done["city"].notna().all() and done["price"].notna().all()
        known = frame["city"].notna()
        assert (done["city"][known] == frame["city"][known]).all()

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--where", "=3"], "write it as column=value"),
            (["--where", "count>=3", "--where", "count<9"], "'count' is given twice"),
            (["--distribution", "city=Rome"], "write it as column=value:share"),
            (["--where", "count=999"], "Cannot meet count=999: the model saw 'count' only"),
        ],
    )
    def test_errors(self, runner, model_file, tmp_path, args, message):
        out = tmp_path / "s.csv"
        result = runner.invoke(main, ["sample", str(model_file), "-n", "5", "-o", str(out), *args])
        one_line_error(result, message)
        assert not out.exists()
