"""The report's figures, drawn with matplotlib's object API (no pyplot state) into PNG bytes."""

from __future__ import annotations

import functools
import io
import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import FuncFormatter

REAL_COLOUR = "#1f77b4"
SYNTHETIC_COLOUR = "#ff7f0e"
PANELS_PER_ROW = 4
HUGE = 1e300
"""Histogram edges beyond this in size are drawn in units of a power of ten: near the float
maximum, matplotlib's axis margins and tick labels overflow."""
MAX_DATE_SECONDS = 2.0**62
"""Ticks beyond this many seconds from 1970 (about 1.5e11 years) are left unlabelled: NumPy's
datetime64[s] holds int64 seconds."""


@functools.cache
def _font_characters() -> frozenset[int]:
    """The code points matplotlib's text font (rcParams' first family found) can draw."""
    return frozenset(FT2Font(font_manager.findfont(font_manager.FontProperties())).get_charmap())


def _text(value: Any, limit: int) -> str:
    """A column name or category as a figure's label, at most ``limit`` characters: a character
    the font cannot draw, or one that is not printable (a line break), written as its escape
    (``\\u57ce``: matplotlib would draw a box and warn per glyph, or a label taller than the
    figure), and ``$`` escaped (matplotlib reads text between two as TeX, raising on bad TeX)."""
    drawable = _font_characters()
    text = ""
    for ch in str(value):
        piece = ch if ch.isprintable() and ord(ch) in drawable else ascii(ch)[1:-1]
        if len(text) + len(piece) > limit:
            break
        text += piece
    return text.replace("$", r"\$")


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    return buffer.getvalue()


def _seconds_as_date(value: float, _position: int) -> str:
    """A tick at ``value`` seconds since 1970 as its date. NumPy's seconds reach far beyond
    pandas' nanosecond Timestamp (years 1677-2262), which a datetime64[us] column leaves."""
    if not abs(value) < MAX_DATE_SECONDS:
        return ""
    return str(np.datetime64(math.floor(value), "s").astype("datetime64[D]"))


def _drawable(edges: np.ndarray) -> tuple[np.ndarray, int]:
    """``edges`` as drawn, and the power of ten they are drawn in (0: as they are)."""
    largest = float(np.max(np.abs(edges))) if len(edges) else 0.0
    if not largest > HUGE:
        return edges, 0
    power = math.floor(math.log10(largest))
    return edges / 10.0**power, power


def distributions_png(distributions: dict[str, dict[str, Any]]) -> bytes:
    """Real vs synthetic per column: step histograms for numbers, side-by-side bars for categories."""
    names = list(distributions)
    n_rows = math.ceil(len(names) / PANELS_PER_ROW)
    figure = Figure(figsize=(4 * PANELS_PER_ROW, 3.2 * n_rows))
    axes = figure.subplots(n_rows, PANELS_PER_ROW, squeeze=False).ravel()
    for ax, name in zip(axes, names):
        data = distributions[name]
        if data["type"] == "histogram":
            edges, power = _drawable(np.asarray(data["edges"], dtype=float))
            if power:
                ax.set_xlabel(f"x 1e{power}", fontsize=7)
            ax.stairs(data["real"], edges, color=REAL_COLOUR, label="real", linewidth=2.5)
            # dashed, so that a perfect match still shows both lines
            ax.stairs(
                data["synthetic"],
                edges,
                color=SYNTHETIC_COLOUR,
                label="synthetic",
                linewidth=1.5,
                linestyle="--",
            )
            if data.get("datetime"):
                ax.xaxis.set_major_formatter(FuncFormatter(_seconds_as_date))
                ax.tick_params(axis="x", labelrotation=30)
        else:
            positions = np.arange(len(data["labels"]))
            ax.bar(positions - 0.2, data["real"], 0.4, color=REAL_COLOUR, label="real")
            ax.bar(
                positions + 0.2, data["synthetic"], 0.4, color=SYNTHETIC_COLOUR, label="synthetic"
            )
            ax.set_xticks(positions)
            ax.set_xticklabels(
                [_text(label, 14) for label in data["labels"]], rotation=60, ha="right", fontsize=7
            )
        ax.set_title(_text(name, 60), fontsize=10)
        ax.tick_params(labelsize=7)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    if names:
        axes[0].legend(fontsize=8)
    figure.tight_layout()
    return _png(figure)


def pairs_png(pairs: pd.DataFrame) -> bytes:
    """Heatmap of 1 - pair score for every two columns (0: the pair looks the same)."""
    difference = 1.0 - pairs.to_numpy(dtype=float)
    size = max(5.0, 0.45 * len(pairs) + 2)
    figure = Figure(figsize=(size + 1.5, size))
    ax = figure.subplots()
    image = ax.imshow(
        difference, cmap="Reds", vmin=0.0, vmax=max(0.05, float(np.nanmax(difference)))
    )
    labels = [_text(c, 18) for c in pairs.columns]
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=8)
    figure.colorbar(image, ax=ax, label="1 - pair score")
    figure.tight_layout()
    return _png(figure)


def dcr_png(dcr: dict[str, Any]) -> bytes:
    """Histograms of distances to the closest record (shares of rows per bin)."""
    edges = np.asarray(dcr["edges"])
    figure = Figure(figsize=(9, 4))
    ax = figure.subplots()
    colours = {
        "synthetic to training": SYNTHETIC_COLOUR,
        "synthetic to holdout": "#2ca02c",
        "holdout to training": REAL_COLOUR,
    }
    for label, shares in dcr["series"].items():
        ax.stairs(shares, edges, label=label, color=colours.get(label), linewidth=1.5)
    ax.set_xlabel("distance to the closest record (embedded rows)")
    ax.set_ylabel("share of rows")
    ax.legend()
    figure.tight_layout()
    return _png(figure)
