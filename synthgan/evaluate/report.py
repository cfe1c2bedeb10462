"""The Report: scores with their direction, range and interval, as JSON and as one HTML page."""

from __future__ import annotations

import base64
import html
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthgan.evaluate.registry import METRICS, Score, get_metric
from synthgan.evaluate.verdicts import NO_BASELINE, judge
from synthgan.io import write_text

MIA_NOTE = (
    "mia_auc 0.5 means this attack fails, not that nothing leaks. The attack scores each record by "
    "how close the nearest synthetic row comes to it and tries to tell training rows from holdout "
    "rows; other attacks, or a few rare records, may still be exposed."
)
BASELINE_NOTE = (
    "A fidelity figure's baseline is the value a fresh sample of real rows gets: the same metric "
    "scoring the holdout against the training rows."
)


@dataclass
class Report:
    """The result of :func:`synthgan.evaluate.evaluate`.

    Attributes
    ----------
    verdicts : dict of str to dict
        Area ("fidelity", "utility", "privacy") -> ``verdict`` (e.g. "close to real data"),
        ``level`` ("good", "warn", "bad", "not measured") and ``reasons`` (one line per figure,
        worst first). Thresholds: :mod:`synthgan.evaluate.verdicts`.
    scores : dict of str to float
        Metric name -> value, flat (``column_shapes``, ``column_pairs``, ``detection_auc``,
        ``utility_real``, ``utility_synthetic``, ``dcr_share``, ``exact_copy_rate``, ``mia_auc``,
        ...). Metrics the inputs do not allow are absent (see ``skipped``).
    metrics : dict of str to dict
        Metric name -> value, ``ci`` (95% interval or None), ``direction`` ("higher", "lower",
        "target"), ``range``, ``ideal``, ``group``, ``description`` and ``details``; with a
        holdout, ``details["baseline"]`` is what a fresh real sample gets (every fidelity and
        privacy figure, and the synthetic utility figures).
    skipped : dict of str to str
        Metric name -> why it was not computed (e.g. "needs holdout").
    columns : DataFrame
        Per compared column: kind, shape, wasserstein, null_rate_difference, coverage, adherence.
    plots : dict
        The data the HTML report draws.
    meta : dict
        Row counts, target, random_state, excluded columns, seconds per metric, version.
    """

    scores: dict[str, float]
    metrics: dict[str, dict[str, Any]]
    skipped: dict[str, str] = field(default_factory=dict)
    columns: pd.DataFrame = field(default_factory=pd.DataFrame)
    plots: dict[str, Any] = field(default_factory=dict, repr=False)
    meta: dict[str, Any] = field(default_factory=dict)
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_results(
        cls, results: dict[str, Score], *, available: dict[str, bool], **kwargs: Any
    ) -> Report:
        """The report of ``results``; ``available`` says whether a holdout and a target were given."""
        scores = {name: float(score.value) for name, score in results.items()}
        metrics = {
            name: {
                "value": float(score.value),
                "ci": None if score.ci is None else [float(score.ci[0]), float(score.ci[1])],
                **METRICS[name].info(),
                "details": score.details,
            }
            for name, score in results.items()
        }
        rows = kwargs.get("meta", {}).get("rows", {})
        sizes = [rows[table] for table in ("holdout", "synthetic") if rows.get(table) is not None]
        verdicts = judge(metrics, available=available, n_rows=min(sizes) if sizes else None)
        return cls(scores=scores, metrics=metrics, verdicts=verdicts, **kwargs)

    def direction(self, name: str) -> str:
        """ "higher", "lower" or "target" (closest to the metric's ideal is best)."""
        return get_metric(name).direction

    def summary(self) -> pd.DataFrame:
        """One row per computed metric: value, 95% interval, baseline, direction, ideal.

        The baseline is what a fresh real sample gets; fidelity rows say "no holdout: no baseline"
        when there was no holdout to compute it from.
        """
        rows = []
        for name, entry in self.metrics.items():
            baseline = entry["details"].get("baseline")
            if baseline is not None:
                shown = _fmt(baseline)
            else:
                shown = NO_BASELINE if entry["group"] == "fidelity" else ""
            rows.append(
                {
                    "metric": name,
                    "value": _fmt(entry["value"]),
                    "95% CI": _fmt_ci(entry["ci"]),
                    "baseline": shown,
                    "better": _better(entry),
                }
            )
        for name, reason in self.skipped.items():
            rows.append(
                {"metric": name, "value": "-", "95% CI": "", "baseline": "", "better": reason}
            )
        return pd.DataFrame(rows, columns=["metric", "value", "95% CI", "baseline", "better"])

    # -- JSON ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        has_holdout = self.meta.get("rows", {}).get("holdout") is not None
        return _jsonable(
            {
                "verdicts": self.verdicts,
                "scores": self.scores,
                "metrics": self.metrics,
                "skipped": self.skipped,
                "columns": self.columns.to_dict(orient="records"),
                "notes": {
                    "mia_auc": MIA_NOTE,
                    "baseline": BASELINE_NOTE if has_holdout else NO_BASELINE,
                },
                "meta": self.meta,
            }
        )

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The report as JSON (NaN written as null); written atomically to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False)
        if path is not None:
            write_text(text + "\n", path)
        return text

    # -- HTML ------------------------------------------------------------------------------------
    def to_html(self, path: str | os.PathLike | None = None) -> str:
        """One self-contained HTML page (inline CSS, figures as base64 PNG, no network).

        Written atomically to ``path`` if given; the page is returned either way.
        """
        from synthgan.evaluate import _plots

        has_holdout = self.meta.get("rows", {}).get("holdout") is not None
        sections = [_sampled_html(self.meta["sampled"])] if "sampled" in self.meta else []
        sections += [
            "<h2>Verdict</h2>",
            _verdicts_html(self.verdicts),
            "<h2>Summary</h2>",
            f"<p>{html.escape(BASELINE_NOTE if has_holdout else NO_BASELINE.capitalize() + '.')}</p>",
            _table_html(self.summary()),
            f'<p class="note"><b>About mia_auc:</b> {html.escape(MIA_NOTE)}</p>',
            "<h2>Columns: real vs synthetic</h2>",
            _table_html(_rounded(self.columns)),
        ]
        distributions = self.plots.get("distributions")
        if distributions:
            sections.append(_image(_plots.distributions_png(distributions), "Per-column plots"))
        pairs = self.plots.get("pairs")
        if pairs is not None and len(pairs) > 1:
            sections.append("<h2>Column pairs: 1 - pair score (0 = same relationship)</h2>")
            sections.append(_image(_plots.pairs_png(pairs), "Pairwise differences"))
        dcr = self.plots.get("dcr")
        if dcr is not None:
            sections.append("<h2>Distance to closest record</h2>")
            sections.append(
                "<p>Synthetic rows should sit no closer to training rows than to holdout rows, "
                "and no closer to training rows than holdout rows do.</p>"
            )
            sections.append(_image(_plots.dcr_png(dcr), "DCR histograms"))
        rows = self.meta.get("rows", {})
        counts = ", ".join(f"{k}: {v:,}" for k, v in rows.items() if v is not None)
        excluded = self.meta.get("excluded_columns") or []
        if excluded:
            counts += f". Left out (id-like or ignored): {', '.join(excluded)}"
        seconds = self.meta.get("seconds", {}).get("total")
        timing = f" Evaluated in {seconds:.1f} s." if seconds is not None else ""
        page = _PAGE.format(
            counts=html.escape(counts),
            timing=html.escape(timing),
            version=html.escape(str(self.meta.get("synthgan_version", ""))),
            body="\n".join(sections),
        )
        if path is not None:
            write_text(page, path)
        return page


def _sampled_html(sampled: dict[str, Any]) -> str:
    """The note of a streamed evaluation's page: every figure on it is from uniform samples."""
    parts = ", ".join(f"{table}: {rows:,} of {sampled['table_rows'][table]:,} rows"
                      for table, rows in sampled["rows"].items())  # fmt: skip
    return (
        '<p class="note"><b>Streamed evaluation.</b> Every figure and plot on this page comes '
        f"from seeded uniform samples of the tables ({html.escape(parts)}). The fidelity "
        "figures over every row and the closest-record distances over the whole real table are "
        "in the JSON scores (docs/scale.md).</p>"
    )


def _verdicts_html(verdicts: dict[str, dict[str, Any]]) -> str:
    items = []
    for area, verdict in verdicts.items():
        reasons = "".join(f"<li>{html.escape(r['text'])}</li>" for r in verdict["reasons"])
        items.append(
            f'<div class="verdict {verdict["level"].replace(" ", "-")}">'
            f"<b>{html.escape(area.capitalize())}: {html.escape(verdict['verdict'])}</b>"
            + (f"<ul>{reasons}</ul>" if reasons else "")
            + "</div>"
        )
    return "\n".join(items)


def _better(entry: dict[str, Any]) -> str:
    if entry["direction"] == "target":
        return f"near {entry['ideal']:g}"
    return f"{entry['direction']} ({_fmt_range(entry['range'])})"


def _fmt_range(bounds: list[Any]) -> str:
    return f"{bounds[0]}..{bounds[1]}".replace("inf", "\u221e")


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.4f}" if isinstance(value, (float, np.floating)) else str(value)


def _fmt_ci(ci: list[float] | None) -> str:
    return "" if ci is None else f"[{_fmt(ci[0])}, {_fmt(ci[1])}]"


def _rounded(table: pd.DataFrame) -> pd.DataFrame:
    def rounded(value):
        return _fmt(value) if isinstance(value, (float, np.floating)) else value

    return table.apply(lambda column: column.map(rounded))  # DataFrame.map needs pandas 2.1


def _table_html(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars unwrapped, NaN and infinities as None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    return value


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>synthgan evaluation report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1300px; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 14px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; }}
th {{ background: #f0f0f0; }}
img {{ max-width: 100%; display: block; margin: 0.5em 0 1.5em; }}
.note {{ background: #fff7e0; border-left: 4px solid #e0a800; padding: 0.5em 1em; }}
.verdict {{ border-left: 6px solid #999; padding: 0.3em 1em; margin: 0.4em 0; }}
.verdict ul {{ margin: 0.2em 0; font-size: 14px; }}
.verdict.good {{ border-color: #2e8b57; }} .verdict.warn {{ border-color: #e0a800; }}
.verdict.bad {{ border-color: #c0392b; }}
</style></head>
<body>
<h1>synthgan evaluation report</h1>
<p>Rows: {counts}.{timing} synthgan {version}.</p>
{body}
</body></html>
"""
