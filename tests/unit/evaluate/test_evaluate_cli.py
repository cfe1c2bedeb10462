from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from synthgan.evaluate.cli import evaluate_command
from synthgan.io import write_table


@pytest.fixture()
def files(known_tables, tmp_path):
    paths = {}
    for name in ("real", "fresh", "holdout"):
        paths[name] = write_table(known_tables[name], tmp_path / f"{name}.parquet")
    paths["renamed"] = write_table(
        known_tables["fresh"].rename(columns={"colour": "color"}), tmp_path / "renamed.parquet"
    )
    return paths


def run(*args: str):
    group = click.Group("synthgan")
    group.add_command(evaluate_command)
    return CliRunner().invoke(group, ["evaluate", *map(str, args)])


def test_summary_json_and_report(files, tmp_path):
    result = run(
        files["real"],
        files["fresh"],
        "--holdout",
        files["holdout"],
        "--target",
        "flag",
        "--json",
        tmp_path / "scores.json",
        "--report",
        tmp_path / "report.html",
    )
    assert result.exit_code == 0, result.output
    assert "column_shapes" in result.output and "mia_auc" in result.output
    assert "this attack fails, not that nothing leaks" in result.output
    lines = result.output.splitlines()
    assert lines[:4] == [
        "Verdicts (thresholds: docs/metrics.md, 'Verdicts'):",
        "  Fidelity: close to real data",
        "    - small tables (400 rows): 'close' widened to within 0.050, the sampling noise "
        "between two fresh samples",
        "  Utility: as useful as real data",
    ]
    table_header = next(
        i for i, line in enumerate(lines) if line.split()[:2] == ["metric", "value"]
    )
    assert "  Privacy: no sign of exposed training rows" in lines[:table_header]
    verdicts = json.loads((tmp_path / "scores.json").read_text())["verdicts"]
    assert verdicts["privacy"]["verdict"] == "no sign of exposed training rows"
    scores = json.loads((tmp_path / "scores.json").read_text())["scores"]
    assert 0.5 < scores["column_shapes"] <= 1.0
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_without_holdout_privacy_is_skipped(files):
    result = run(files["real"], files["fresh"])
    assert result.exit_code == 0, result.output
    assert "needs holdout" in result.output
    assert (
        "  Fidelity: not measured (needs holdout)\n    - no holdout: no baseline" in result.output
    )
    assert "  Utility: not measured (needs holdout and target)" in result.output


def test_mismatched_columns_one_line_error(files):
    result = run(files["real"], files["renamed"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: The synthetic table lacks the real table's column(s) 'colour' and has column(s) "
        "'color' the real table lacks. Give both tables the same columns."
    ]


def test_misspelt_target(files):
    result = run(files["real"], files["fresh"], "--holdout", files["holdout"], "--target", "flg")
    assert result.exit_code == 1
    assert "Error: Column 'flg' is not in the real table. Did you mean 'flag'?" in result.output
    assert "Traceback" not in result.output


def test_unreadable_table(files, tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    result = run(files["real"], bad)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {bad}: cannot read it as parquet")


def test_help_has_an_example():
    result = run("--help")
    assert result.exit_code == 0 and "synthgan evaluate train.parquet" in result.output
