from __future__ import annotations

import base64
import json
import re

import pytest

from synthgan.evaluate import evaluate
from synthgan.evaluate.report import MIA_NOTE


class TestJson:
    def test_round_trip(self, known_reports, tmp_path):
        report = known_reports["fresh"]
        path = tmp_path / "out" / "scores.json"
        report.to_json(path)
        data = json.loads(path.read_text())
        assert data["scores"] == pytest.approx(report.scores)
        assert data["metrics"]["mia_auc"]["direction"] == "target"
        assert data["metrics"]["mia_auc"]["ideal"] == 0.5
        assert data["metrics"]["exact_copy_rate"]["range"] == [0.0, 1.0]
        assert data["metrics"]["wasserstein"]["range"] == [0.0, "inf"]
        assert len(data["metrics"]["dcr_share"]["ci"]) == 2
        assert data["notes"]["mia_auc"] == MIA_NOTE
        assert {c["column"] for c in data["columns"]} == {
            "x",
            "y",
            "count",
            "colour",
            "flag",
            "day",
        }

    def test_verdicts_and_baselines(self, known_reports):
        data = json.loads(known_reports["shuffled"].to_json())
        assert list(data)[0] == "verdicts"
        assert set(data["verdicts"]) == {"fidelity", "utility", "privacy"}
        fidelity = data["verdicts"]["fidelity"]
        assert fidelity["verdict"] == "far from real data" and fidelity["level"] == "bad"
        assert {"metric", "level", "text"} == set(fidelity["reasons"][0])
        assert data["metrics"]["column_pairs"]["details"]["baseline"] > 0.9
        assert data["notes"]["baseline"].startswith("A fidelity figure's baseline")

    def test_nan_becomes_null(self, known_tables):
        report = evaluate(
            known_tables["real"],
            known_tables["fresh"],
            holdout=known_tables["holdout"],
            target="x",
            metrics=["f1_real"],
        )
        assert json.loads(report.to_json())["scores"]["f1_real"] is None

    def test_direction(self, known_reports):
        assert known_reports["fresh"].direction("column_shapes") == "higher"
        assert known_reports["fresh"].direction("exact_copy_rate") == "lower"


class TestHtml:
    def test_self_contained_page_with_every_plot(self, known_reports, tmp_path):
        path = tmp_path / "report.html"
        page = known_reports["fresh"].to_html(path)
        assert path.read_text(encoding="utf-8") == page
        images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
        assert len(images) == 3  # per-column plots, pair heatmap, DCR histograms
        for data in images:
            assert base64.b64decode(data).startswith(b"\x89PNG")
        assert not re.search(r"(src|href)=\"https?:", page)
        assert "<script" not in page
        assert "this attack fails" in page and "not that nothing leaks" in page

    def test_opens_with_the_verdicts(self, known_reports):
        page = known_reports["copy"].to_html()
        assert page.index("<h2>Verdict</h2>") < page.index("<h2>Summary</h2>")
        assert "<b>Fidelity: close to real data</b>" in page
        assert '<div class="verdict bad"><b>Privacy: exposes training rows' in page
        assert "dcr_share 1.0000 (95% CI 1.0000-1.0000): above the share gate&#x27;s 0.55" in page

    def test_summary_shows_baselines_and_intervals(self, known_reports):
        summary = known_reports["fresh"].summary().set_index("metric")
        assert summary.loc["exact_copy_rate", "baseline"] == "0.0000"
        assert summary.loc["dcr_share", "95% CI"].startswith("[")
        assert summary.loc["mia_auc", "better"] == "near 0.5"
        report = known_reports["fresh"]
        baseline = report.metrics["detection_auc"]["details"]["baseline"]
        assert summary.loc["detection_auc", "baseline"] == f"{baseline:.4f}"

    def test_without_holdout_no_dcr_plot(self, known_tables):
        report = evaluate(known_tables["real"], known_tables["fresh"])
        page = report.to_html()
        assert page.count("data:image/png;base64") == 2
        assert "needs holdout" in page
        assert "<p>No holdout: no baseline.</p>" in page
        assert "Fidelity: not measured (needs holdout)" in page

    def test_column_names_are_escaped(self, known_tables):
        real = known_tables["real"].rename(columns={"colour": "<b>colour</b>"})
        fresh = known_tables["fresh"].rename(columns={"colour": "<b>colour</b>"})
        page = evaluate(real, fresh, metrics=["column_shapes"]).to_html()
        assert "<b>colour</b>" not in page and "&lt;b&gt;colour&lt;/b&gt;" in page


class TestPlotData:
    def test_bars_pool_only_what_is_beyond_the_top_labels(self, known_reports):
        colour = known_reports["fresh"].plots["distributions"]["colour"]
        assert sorted(colour["labels"]) == ["blue", "green", "red"]
        assert sum(colour["real"]) == pytest.approx(1.0)

    def test_many_labels_get_an_other_bar(self):
        import pandas as pd

        labels = [f"label{i}" for i in range(30)] * 4
        report = evaluate(
            pd.DataFrame({"c": labels}), pd.DataFrame({"c": labels}), metrics=["column_shapes"]
        )
        bars = report.plots["distributions"]["c"]
        assert bars["labels"][-1] == "(other)" and len(bars["labels"]) == 13
        assert bars["real"][-1] == pytest.approx(18 / 30)

    def test_datetime_histograms_are_marked(self, known_reports):
        distributions = known_reports["fresh"].plots["distributions"]
        assert distributions["day"]["datetime"] is True
        assert distributions["x"]["datetime"] is False
