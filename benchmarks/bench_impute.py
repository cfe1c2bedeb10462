"""How fast ``Synthesizer.impute`` fills a frame, and how close its values come to the truth.

Rows of a table's test split get a share of their cells blanked at random (each cell with
probability ``--share``, at least one per row); the model (synthgan's defaults, seed 0, one
thread, fitted on the training split and cached under /tmp, or ``--epochs`` for a weaker one)
fills them. Recorded per table: the seconds ``impute`` took, and for the blanked cells the share
equal to the truth (categorical columns; beside it the share a draw from the column's training
frequencies would match, sum p^2) and the Spearman correlation with the truth (numeric columns).

Run it at two commits to compare them: the record holds the commit.

    .venv/bin/python benchmarks/bench_impute.py adult wage default --rows 3000 --share 0.5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import benchenv

benchenv.set_thread_env(1)

import bench_quality  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(benchenv.REPO_ROOT))  # this checkout's synthgan, not an installed one


def blanked(rows: pd.DataFrame, share: float, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """``rows`` with each cell nulled with probability ``share`` (at least one a row)."""
    rng = np.random.default_rng(seed)
    mask = rng.random(rows.shape) < share
    none = ~mask.any(axis=1)
    mask[np.flatnonzero(none), rng.integers(0, rows.shape[1], none.sum())] = True
    return rows.mask(mask), mask


def closeness(truth: pd.DataFrame, filled: pd.DataFrame, mask: np.ndarray, train) -> dict:
    """Per blanked column: share equal to the truth and its chance level, or Spearman rho."""
    out = {}
    for j, column in enumerate(truth.columns):
        at = mask[:, j] & truth[column].notna().to_numpy()
        if at.sum() < 20:
            continue
        real, drawn = truth[column][at], filled[column][at]
        numeric = pd.api.types.is_numeric_dtype(truth[column])
        if numeric:  # a blanked integer column comes back as floats: compare values, not text
            real, drawn = real.to_numpy(float), pd.to_numeric(drawn).to_numpy(float)
        if numeric and len(np.unique(real)) > 20:
            rho = pd.Series(real).corr(pd.Series(drawn), method="spearman")
            out[column] = {"spearman": round(float(rho), 4)}
        else:
            real = real if numeric else real.astype(str).to_numpy()
            drawn = drawn if numeric else drawn.astype(str).to_numpy()
            equal = (real == drawn).mean()
            chance = (train[column].astype(str).value_counts(normalize=True) ** 2).sum()
            out[column] = {"equal": round(float(equal), 4), "chance": round(float(chance), 4)}
    return out


def run_table(table: str, args) -> dict:
    from synthgan import Synthesizer, load

    spec = bench_quality.TABLES[table]
    train, test = bench_quality.load_split(table)
    train = train.drop(columns=list(spec.id_columns))
    test = test.drop(columns=list(spec.id_columns))
    path = Path(f"/tmp/synthgan-impute-{table}-seed0-{args.epochs}.synthgan")
    if not path.exists():
        epochs = args.epochs if args.epochs == "auto" else int(args.epochs)
        model = Synthesizer(epochs=epochs, random_state=0, n_threads=1, verbose=False)
        model.fit(train).save(path)
    model = load(path)
    truth = test.sample(min(args.rows, len(test)), random_state=args.seed).reset_index(drop=True)
    holes, mask = blanked(truth, args.share, args.seed)
    start = time.perf_counter()
    filled = model.impute(holes, random_state=args.seed)
    seconds = time.perf_counter() - start
    scores = closeness(truth, filled, mask, train)
    equal = [s["equal"] - s["chance"] for s in scores.values() if "equal" in s]
    rho = [s["spearman"] for s in scores.values() if "spearman" in s]
    mean_equal = float(np.mean(equal)) if equal else None
    mean_rho = float(np.mean(rho)) if rho else None
    print(
        f"{table}: {len(truth)} rows, {mask.sum()} cells, {seconds:.1f} s; equal above chance "
        f"{_rounded(mean_equal)} (mean of {len(equal)}), Spearman {_rounded(mean_rho)} "
        f"(mean of {len(rho)})",
        flush=True,
    )
    return {
        "table": table, "rows": len(truth), "cells": int(mask.sum()),
        "seconds": round(seconds, 2), "mean_equal_above_chance": mean_equal,
        "mean_spearman": mean_rho, "columns": scores,
    }  # fmt: skip


def _rounded(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="+", choices=sorted(bench_quality.TABLES))
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--share", type=float, default=0.5, help="share of cells blanked")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", default="auto", help="'auto' (the default fit) or a number")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    threads = benchenv.limit_threads(1)
    results = [run_table(table, args) for table in args.tables]
    payload = {"benchmark": "bench_impute", "rows": args.rows, "share": args.share,
               "seed": args.seed, "epochs": args.epochs, "results": results,
               "provenance": benchenv.provenance(threads)}  # fmt: skip
    output = args.output or benchenv.REPO_ROOT / "benchmarks/results/impute.json"
    benchenv.write_json(output, payload)


if __name__ == "__main__":
    main()
