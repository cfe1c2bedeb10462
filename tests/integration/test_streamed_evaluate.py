"""``synthgan evaluate --stream`` on Parquet folders: the in-memory scores, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synthgan.cli import main
from synthgan.evaluate import evaluate
from tests.conftest import make_mixed_frame


def test_streamed_evaluate_gives_the_in_memory_fidelity(runner, tmp_path):
    real = make_mixed_frame(n=800, nulls=True, seed=1)
    synthetic = make_mixed_frame(n=500, nulls=True, seed=2)
    folder = tmp_path / "real"
    folder.mkdir()
    real.iloc[:300].to_parquet(folder / "a.parquet")
    real.iloc[300:].reset_index(drop=True).to_parquet(folder / "b.parquet")
    synthetic.to_parquet(tmp_path / "synthetic.parquet")
    out = tmp_path / "scores.json"
    result = runner.invoke(main, ["evaluate", str(folder), str(tmp_path / "synthetic.parquet"),
                                  "--stream", "--json", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    names = ["column_shapes", "wasserstein", "null_rate_difference", "coverage", "adherence",
             "column_pairs"]  # fmt: skip
    expected = evaluate(real, synthetic, metrics=names).scores
    for name in names:
        assert np.isclose(scores[name], expected[name], rtol=1e-9, atol=1e-12), name
    closest = scores["closest_record"]
    assert closest["exact_copy_rate"] == 0.0 and closest["dcr_p5"] > 0
    assert "dcr_share" not in scores  # needs a holdout


def test_streamed_evaluate_with_holdout_and_target_gives_every_in_memory_score(runner, tmp_path):
    real = make_mixed_frame(n=600, nulls=True, seed=1)
    synthetic = make_mixed_frame(n=400, nulls=True, seed=2)
    holdout = make_mixed_frame(n=300, nulls=True, seed=3)
    for name, frame in (("real", real), ("synthetic", synthetic), ("holdout", holdout)):
        folder = tmp_path / name
        folder.mkdir()
        frame.iloc[:250].to_parquet(folder / "a.parquet")
        frame.iloc[250:].reset_index(drop=True).to_parquet(folder / "b.parquet")
    out = tmp_path / "scores.json"
    result = runner.invoke(main, ["evaluate", str(tmp_path / "real"), str(tmp_path / "synthetic"),
                                  "--holdout", str(tmp_path / "holdout"), "--target", "flag",
                                  "--json", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    report = evaluate(real, synthetic, holdout, "flag")
    for name in ("utility_synthetic", "dcr_share", "mia_auc", "exact_copy_rate", "nndr",
                 "detection_auc", "column_pairs"):  # fmt: skip
        assert name in scores, name
    for name, value in scores.items():
        if not isinstance(value, dict):
            assert np.isclose(value, report.scores[name], rtol=1e-9, atol=1e-12), name
    for name, value in scores["baselines"].items():
        expected = report.metrics[name]["details"]["baseline"]
        assert np.isclose(value, expected, rtol=1e-9, atol=1e-12), name
    assert scores["rows"] == {"real": 600, "synthetic": 400, "holdout": 300}
    assert scores["sampled"]["rows"] == {"real": 600, "synthetic": 400, "holdout": 300}


def test_streamed_evaluate_samples_only_the_sampled_metrics(tmp_path):
    from synthgan.evaluate.streamed import evaluate_sources

    real = make_mixed_frame(n=500, nulls=False, seed=1)
    synthetic = make_mixed_frame(n=300, nulls=False, seed=2)
    real.to_parquet(tmp_path / "real.parquet")
    synthetic.to_parquet(tmp_path / "synthetic.parquet")
    scores = evaluate_sources(tmp_path / "real.parquet", tmp_path / "synthetic.parquet",
                              sample_rows=200, chunk_rows=64)  # fmt: skip
    assert scores["sampled"] == {"metrics": ["detection_auc"],
                                 "rows": {"real": 200, "synthetic": 200}}  # fmt: skip
    assert scores["rows"] == {"real": 500, "synthetic": 300}  # fidelity saw every row
    assert scores["closest_record"]["real_rows"] == 500
    expected = evaluate(real, synthetic, metrics=["column_shapes"]).scores["column_shapes"]
    assert np.isclose(scores["column_shapes"], expected, rtol=1e-9)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target", "flag"], "Error: --target needs --holdout (the real rows the utility model "
         "is tested on). Add --holdout, or drop --target."),
    ],
)
def test_streamed_evaluate_refusals_are_one_line(runner, tmp_path, extra, message):
    table = make_mixed_frame(n=100, nulls=False)
    path = tmp_path / "t.parquet"
    table.to_parquet(path)
    result = runner.invoke(main, ["evaluate", str(path), str(path), "--stream", *extra])
    assert result.exit_code == 1
    assert result.output.strip() == message


def test_streamed_report_is_the_samples_report_marked_as_such(runner, tmp_path):
    real = make_mixed_frame(n=400, nulls=True, seed=1)
    synthetic = make_mixed_frame(n=300, nulls=True, seed=2)
    holdout = make_mixed_frame(n=200, nulls=True, seed=3)
    paths = {}
    for name, frame in (("real", real), ("synthetic", synthetic), ("holdout", holdout)):
        paths[name] = tmp_path / f"{name}.parquet"
        frame.to_parquet(paths[name])
    page, scores_path = tmp_path / "report.html", tmp_path / "scores.json"
    result = runner.invoke(main, ["evaluate", str(paths["real"]), str(paths["synthetic"]),
                                  "--holdout", str(paths["holdout"]), "--target", "flag",
                                  "--stream", "--sample-rows", "250", "--report", str(page),
                                  "--json", str(scores_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert "Streamed evaluation." in text
    assert "real: 250 of 400 rows, synthetic: 250 of 300 rows, holdout: 200 of 200 rows" in text
    assert "<h2>Distance to closest record</h2>" in text
    scores = json.loads(scores_path.read_text())  # the same sampled figures as without --report
    without = tmp_path / "without.json"
    runner.invoke(main, ["evaluate", str(paths["real"]), str(paths["synthetic"]), "--holdout",
                         str(paths["holdout"]), "--target", "flag", "--stream", "--sample-rows",
                         "250", "--json", str(without)])  # fmt: skip
    assert scores == json.loads(without.read_text())


def test_sample_rows_without_stream_is_refused(runner, tmp_path):
    path = tmp_path / "t.parquet"
    make_mixed_frame(n=100, nulls=False).to_parquet(path)
    result = runner.invoke(main, ["evaluate", str(path), str(path), "--sample-rows", "10"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: --sample-rows goes with --stream. Add --stream, or drop it."
    )


def test_an_address_is_evaluated_as_the_local_file(runner, tmp_path):
    import fsspec

    real = make_mixed_frame(n=300, nulls=True, seed=1)
    synthetic = make_mixed_frame(n=200, nulls=True, seed=2)
    real.to_parquet("memory://synthgan-evaluate/real/part-0.parquet")
    synthetic.to_parquet(tmp_path / "synthetic.parquet")
    try:
        scores = []
        for source in ("memory://synthgan-evaluate/real/", str(tmp_path / "real.parquet")):
            real.to_parquet(tmp_path / "real.parquet")
            out = tmp_path / "scores.json"
            result = runner.invoke(main, ["evaluate", source, str(tmp_path / "synthetic.parquet"),
                                          "--stream", "--json", str(out)])  # fmt: skip
            assert result.exit_code == 0, result.output
            scores.append(json.loads(out.read_text()))
    finally:
        fsspec.filesystem("memory").rm("memory://synthgan-evaluate", recursive=True)
    assert scores[0] == scores[1]


def test_a_missing_local_table_is_one_line(runner, tmp_path):
    result = runner.invoke(main, ["evaluate", str(tmp_path / "nope.parquet"), str(tmp_path)])
    assert result.exit_code != 0
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_an_empty_table_is_one_line(runner, tmp_path):
    table = make_mixed_frame(n=50, nulls=False)
    table.to_parquet(tmp_path / "real.parquet")
    table.iloc[:0].to_parquet(tmp_path / "synthetic.parquet")
    result = runner.invoke(main, ["evaluate", str(tmp_path / "real.parquet"),
                                  str(tmp_path / "synthetic.parquet"), "--stream"])  # fmt: skip
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: The synthetic table (")
    assert result.output.strip().endswith("has no rows; evaluation needs rows in every table.")
