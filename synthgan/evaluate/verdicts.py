"""Verdicts: one plain line per area (fidelity, utility, privacy), read off documented thresholds.

A figure alone says little (is column_shapes 0.94 good?). Each one is read against what a fresh
sample of real rows gets on the same metric, its baseline: for fidelity the holdout scored
against the training rows by the same code, for utility the model trained on real rows, for
privacy the holdout's own distances and copies (and 0.5 for the two rates). An area's verdict is
that of its worst figure; its reasons give every figure's reading, worst first. All thresholds are the
constants below, shown in docs/metrics.md ("Verdicts"). Privacy uses the share gate's own
thresholds (:mod:`synthgan.share`): a table whose privacy verdict is "bad" is one
``synthgan share`` would not release.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from synthgan.share import MAX_COPY_EXCESS, MAX_DCR_SHARE, MAX_MIA_AUC

Level = Literal["good", "warn", "bad", "not measured"]
AREAS = ("fidelity", "utility", "privacy")
_RANK = {"good": 0, "warn": 1, "bad": 2}
Finding = tuple[str, str, str]
"""(level, metric name, text) of one figure."""


@dataclass(frozen=True)
class Tolerance:
    """How far a figure may fall behind its baseline, in the metric's own units and its worse
    direction: up to ``close`` reads as good, beyond ``far`` as bad, in between as a warning."""

    close: float
    far: float

    def for_rows(self, n_rows: int | None) -> Tolerance:
        """This tolerance with "close" widened to the sampling noise of ``n_rows`` rows,
        :data:`NOISE_ALLOWANCE` / sqrt(n_rows), where that is wider."""
        if not n_rows:
            return self
        close = max(self.close, NOISE_ALLOWANCE / math.sqrt(n_rows))
        return Tolerance(close=close, far=max(self.far, close))


FIDELITY_TOLERANCES: dict[str, Tolerance] = {
    "column_shapes": Tolerance(close=0.02, far=0.10),
    "column_pairs": Tolerance(close=0.02, far=0.10),
    "detection_auc": Tolerance(close=0.05, far=0.40),
    "wasserstein": Tolerance(close=0.05, far=0.25),
    "null_rate_difference": Tolerance(close=0.02, far=0.10),
    "coverage": Tolerance(close=0.10, far=0.30),
    "adherence": Tolerance(close=0.02, far=0.10),
}
"""Per fidelity metric, how far it may fall behind the holdout's value (its baseline).

The shortfall is ``baseline - value`` for a higher-is-better metric, ``value - baseline`` for a
lower-is-better one, and ``|value - 0.5| - |baseline - 0.5|`` for detection_auc. Shapes, pairs,
null rates and adherence are shares (0.02: two points); wasserstein is in real standard
deviations; detection_auc far at 0.40 means an AUC of 0.90 against a fresh sample's 0.50,
"outstanding discrimination" on Hosmer and Lemeshow's scale. Coverage gets a wide margin because a
small sample's range and rare categories vary a lot from draw to draw."""

UTILITY_TOLERANCE = Tolerance(close=0.02, far=0.10)
"""How far utility_synthetic may fall behind utility_real (the same model trained on real rows;
ROC AUC for a categorical target, R^2 for a numeric one), i.e. utility_gap."""

PRIVACY_MAX_DCR_SHARE = MAX_DCR_SHARE
"""dcr_share above this is "bad" (the share gate's threshold); an interval wholly above 0.5 below
it is a warning (synthetic rows lean towards the training rows more than chance allows)."""
PRIVACY_MAX_MIA_AUC = MAX_MIA_AUC
"""mia_auc above this is "bad" (the share gate's threshold); an interval wholly above 0.5 below it
is a warning."""
PRIVACY_MAX_COPY_EXCESS = MAX_COPY_EXCESS
"""exact_copy_rate is "bad" when its interval lies wholly above the upper end of the holdout's
rate interval plus this (the share gate's rule), a warning when it lies wholly above the holdout's
rate itself. dcr_p5 is a warning when its interval lies wholly below its baseline's."""

NOISE_ALLOWANCE = 1.0
"""A fidelity or utility figure is "close" within max(tolerance, NOISE_ALLOWANCE / sqrt(n)), n the
rows of the smaller of the holdout and synthetic tables. Two fresh samples of n rows differ by
chance: the difference of two shares of n rows has a standard deviation up to 0.71 / sqrt(n), of
two AUCs near 0.5 about 0.58 / sqrt(n), so 1 / sqrt(n) is about two standard deviations. It
matters below about 2,500 rows (0.05 at 400 rows, 0.01 at 10,000)."""

VERDICTS: dict[str, dict[str, str]] = {
    "fidelity": {
        "good": "close to real data",
        "warn": "noticeably different",
        "bad": "far from real data",
    },
    "utility": {
        "good": "as useful as real data",
        "warn": "noticeably less useful than real data",
        "bad": "far less useful than real data",
    },
    "privacy": {
        "good": "no sign of exposed training rows",
        "warn": "closer to the training rows than a fresh sample",
        "bad": "exposes training rows (the share gate would block it)",
    },
}
"""The verdict's words per area and level."""

NO_BASELINE = "no holdout: no baseline"
"""What the report says where a fidelity figure has no baseline to be read against."""

NEEDS = {"fidelity": ("holdout",), "utility": ("holdout", "target"), "privacy": ("holdout",)}
"""The inputs an area's verdict needs beyond the real and synthetic tables."""


def judge(
    metrics: dict[str, dict[str, Any]],
    *,
    available: dict[str, bool],
    n_rows: int | None = None,
) -> dict[str, dict[str, Any]]:
    """The verdict of each area from a report's metric entries.

    Parameters
    ----------
    metrics : dict
        ``Report.metrics``: metric name -> value, ci, direction, ideal, group, details.
    available : dict
        Which of "holdout" and "target" were given.
    n_rows : int, optional
        Rows of the smaller of the holdout and synthetic tables: widens "close" on small tables
        (:data:`NOISE_ALLOWANCE`).

    Returns
    -------
    dict
        Area ("fidelity", "utility", "privacy") -> ``{"verdict", "level", "reasons"}``; level is
        "good", "warn", "bad" or "not measured"; each reason is ``{"metric", "level", "text"}``
        (metric None and level "note" for remarks), worst first.
    """
    judges = {"fidelity": _fidelity, "utility": _utility, "privacy": _privacy}
    result = {}
    for area in AREAS:
        missing = [need for need in NEEDS[area] if not available.get(need, False)]
        if missing:
            reason = NO_BASELINE if area == "fidelity" else None
            result[area] = _not_measured(f"needs {' and '.join(missing)}", reason)
            continue
        findings = judges[area](metrics, n_rows)
        if not findings:
            result[area] = _not_measured(f"no {area} metric was computed", None)
            continue
        findings.sort(key=lambda finding: -_RANK[finding[0]])  # stable: registry order within
        level = findings[0][0]
        reasons = [{"metric": name, "level": lvl, "text": text} for lvl, name, text in findings]
        allowance = NOISE_ALLOWANCE / math.sqrt(n_rows) if n_rows else 0.0
        fixed = FIDELITY_TOLERANCES.values() if area == "fidelity" else [UTILITY_TOLERANCE]
        if area != "privacy" and any(allowance > tolerance.close for tolerance in fixed):
            reasons.append(_note(
                f"small tables ({n_rows:,} rows): 'close' widened to within {allowance:.3f}, "
                "the sampling noise between two fresh samples"
            ))  # fmt: skip
        result[area] = {"verdict": VERDICTS[area][level], "level": level, "reasons": reasons}
    return result


def _not_measured(why: str, reason: str | None) -> dict[str, Any]:
    return {
        "verdict": f"not measured ({why})",
        "level": "not measured",
        "reasons": [_note(reason)] if reason else [],
    }


def _note(text: str) -> dict[str, Any]:
    return {"metric": None, "level": "note", "text": text}


def format_verdicts(verdicts: dict[str, dict[str, Any]]) -> str:
    """The verdict block the CLI prints: one line per area, then the figures that pulled it
    below "good" (and any note)."""
    lines = ["Verdicts (thresholds: docs/metrics.md, 'Verdicts'):"]
    for area, verdict in verdicts.items():
        lines.append(f"  {area.capitalize()}: {verdict['verdict']}")
        lines.extend(
            f"    - {reason['text']}" for reason in verdict["reasons"] if reason["level"] != "good"
        )
    return "\n".join(lines)


def _finite(*values: Any) -> bool:
    return all(v is not None and math.isfinite(float(v)) for v in values)


def _shortfall(entry: dict[str, Any], value: float, baseline: float) -> float:
    """How much worse than its baseline a figure is, in its worse direction (negative: better)."""
    if entry["direction"] == "higher":
        return baseline - value
    if entry["direction"] == "lower":
        return value - baseline
    return abs(value - entry["ideal"]) - abs(baseline - entry["ideal"])


def _level(shortfall: float, tolerance: Tolerance) -> str:
    if shortfall > tolerance.far:
        return "bad"
    return "warn" if shortfall > tolerance.close else "good"


def _compared(shown: str, baseline: str, shortfall: float, level: str, tol: Tolerance) -> str:
    """E.g. "column_shapes 0.9400 against the holdout's 0.9900: 0.0500 worse (noticeable: ...)"."""
    gap = "no worse" if shortfall <= 0 else f"{shortfall:.4f} worse"
    rule = {
        "good": f"close: within {tol.close:g}",
        "warn": f"noticeable: beyond {tol.close:g}",
        "bad": f"far: beyond {tol.far:g}",
    }[level]
    return f"{shown} against {baseline}: {gap} ({rule})"


def _fidelity(metrics: dict[str, dict[str, Any]], n_rows: int | None) -> list[Finding]:
    findings = []
    for name, fixed in FIDELITY_TOLERANCES.items():
        tolerance = fixed.for_rows(n_rows)
        entry = metrics.get(name)
        if entry is None:
            continue
        value, baseline = entry["value"], entry["details"].get("baseline")
        if not _finite(value, baseline):
            continue  # e.g. column_pairs of a one-column table, wasserstein without numbers
        shortfall = _shortfall(entry, value, baseline)
        level = _level(shortfall, tolerance)
        text = _compared(
            f"{name} {value:.4f}", f"the holdout's {baseline:.4f}", shortfall, level, tolerance
        )
        findings.append((level, name, text))
    return findings


def _utility(metrics: dict[str, dict[str, Any]], n_rows: int | None) -> list[Finding]:
    entry = metrics.get("utility_synthetic")
    if entry is None:
        return []
    value, baseline = entry["value"], entry["details"].get("baseline")
    if not _finite(value, baseline):
        return []
    shortfall = baseline - value
    tolerance = UTILITY_TOLERANCE.for_rows(n_rows)
    level = _level(shortfall, tolerance)
    score = entry["details"].get("score", "score")
    text = _compared(
        f"utility_synthetic {value:.4f} ({score})",
        f"utility_real {baseline:.4f}",
        shortfall,
        level,
        tolerance,
    )
    return [(level, "utility_synthetic", text)]


def _privacy(metrics: dict[str, dict[str, Any]], n_rows: int | None) -> list[Finding]:
    """(level, metric, text) per privacy figure; "bad" exactly where the share gate fails. The
    intervals carry the sampling noise, so ``n_rows`` widens nothing here."""
    findings = [
        _rate_finding(metrics.get("dcr_share"), PRIVACY_MAX_DCR_SHARE, "dcr_share"),
        _rate_finding(metrics.get("mia_auc"), PRIVACY_MAX_MIA_AUC, "mia_auc"),
        _copies_finding(metrics.get("exact_copy_rate")),
        _dcr_p5_finding(metrics.get("dcr_p5")),
    ]
    return [finding for finding in findings if finding is not None]


def _rate_finding(entry: dict[str, Any] | None, threshold: float, name: str) -> Finding | None:
    """dcr_share or mia_auc: 0.5 is what a fresh sample gets."""
    if entry is None or not _finite(entry["value"]):
        return None
    value, ci = entry["value"], entry["ci"]
    shown = f"{name} {value:.4f}" + (f" (95% CI {ci[0]:.4f}-{ci[1]:.4f})" if ci else "")
    if value > threshold:
        return ("bad", name, f"{shown}: above the share gate's {threshold:g}")
    if ci is not None and _finite(ci[0]) and ci[0] > 0.5:
        return ("warn", name, f"{shown}: interval wholly above a fresh sample's 0.5")
    return ("good", name, f"{shown}: a fresh sample gets 0.5; fails above {threshold:g}")


def _copies_finding(entry: dict[str, Any] | None) -> Finding | None:
    name = "exact_copy_rate"
    if entry is None or not _finite(entry["value"], entry["details"].get("baseline")):
        return None
    low, baseline = entry["ci"][0], entry["details"]["baseline"]
    limit = entry["details"]["baseline_ci"][1] + PRIVACY_MAX_COPY_EXCESS
    shown = f"{name} {entry['value']:.4f} against the holdout's {baseline:.4f}"
    if low > limit:
        return ("bad", name, f"{shown}: interval wholly above the holdout's (up to {limit:.4f})")
    if low > baseline:
        return ("warn", name, f"{shown}: interval wholly above the holdout's rate")
    return ("good", name, f"{shown}: no more copies than real data repeats")


def _dcr_p5_finding(entry: dict[str, Any] | None) -> Finding | None:
    name = "dcr_p5"
    if entry is None or not _finite(entry["value"], entry["details"].get("baseline")):
        return None
    baseline = entry["details"]["baseline"]
    shown = f"{name} {entry['value']:.4f} against the holdout's {baseline:.4f}"
    if entry["ci"][1] < entry["details"]["baseline_ci"][0]:
        return ("warn", name, f"{shown}: interval wholly below the holdout's")
    return ("good", name, f"{shown}: synthetic rows no closer to training rows than fresh ones")
