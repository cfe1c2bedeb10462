"""synthgan's evaluator against SDMetrics on Adult: the same column-shape figure, and the time.

Inputs: Adult train (32,561 rows) as the real table, Adult test (16,281 rows) as the holdout, and
as the synthetic table a stand-in of 32,561 rows in which every column is resampled with
replacement from train on its own (seed 0): the marginals are right, the relationships between
columns are gone. It is not a generator's output; it only gives both libraries the same inputs.

Measured:

* synthgan's ``column_shapes`` against the mean over columns of SDMetrics' KSComplement
  (numeric columns) / TVComplement (categorical columns) on the same inputs and the same column
  typing (must agree within 0.02), and against QualityReport's "Column Shapes" property;
* the wall time of the whole ``synthgan.evaluate.evaluate`` (fidelity, detection, utility and
  privacy, with the holdout and target ``income``) next to SDMetrics' ``QualityReport.generate``
  (column shapes and column pair trends only) on the same real and synthetic tables.

SDMetrics is a benchmark-only dependency; run with the interpreter that has it:

    /opt/peers/bin/python benchmarks/bench_evaluate.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import benchenv

AGREEMENT_TOLERANCE = 0.02
TIME_BUDGET_S = 60.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for every library")
    parser.add_argument("--seed", type=int, default=0, help="stand-in and evaluation seed")
    parser.add_argument("--repeats", type=int, default=1, help="synthgan runs (best is kept)")
    parser.add_argument(
        "--output", type=Path, default=Path("benchmarks/results/evaluate_adult.json")
    )
    parser.add_argument("--report", type=Path, help="also write synthgan's HTML report here")
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="print the docs/benchmarks.md 'Evaluator' section from --output, run nothing",
    )
    return parser.parse_args(argv)


def markdown(result: dict) -> str:
    """The 'Evaluator' section of docs/benchmarks.md, from a results file."""
    shapes, pairs, seconds = result["column_shapes"], result["column_pairs"], result["seconds"]
    distorted = shapes["distorted_stand_in"]
    versions, machine = result["versions"], result["machine"]
    per_metric = seconds["synthgan_per_metric"]
    privacy = sum(
        per_metric.get(name, 0.0)
        for name in ("dcr_share", "dcr_p5", "nndr", "exact_copy_rate", "mia_auc")
    )
    utility = sum(per_metric.get(name, 0.0) for name in ("utility_real", "utility_synthetic"))
    ratio = seconds["synthgan_evaluate_total"] / seconds["sdmetrics_quality_report"]
    lines = [
        "## Evaluator",
        "",
        "synthgan's evaluator against SDMetrics "
        f"{versions['sdmetrics']} on Adult: train (32,561 rows) as the real table, test (16,281) "
        "as the holdout, target `income`, and as the synthetic table a stand-in of 32,561 rows "
        "with every column resampled from train on its own (seed 0; right marginals, no "
        "relationships). It is not a generator's output; it gives both libraries the same inputs.",
        "",
        "```bash",
        "/opt/peers/bin/python benchmarks/bench_evaluate.py",
        "```",
        "",
        f"Machine: {machine['nproc']} shared cores ({machine['cpu_model']}), load average "
        f"{machine['load_average_at_start'][0]:.2f} at the start and "
        f"{machine['load_average_at_end'][0]:.2f} at the end (other people's jobs). Threads: "
        f"{result['threads']}. Versions: synthgan {versions['synthgan']}, sdmetrics "
        f"{versions['sdmetrics']}, pandas {versions['pandas']}, scikit-learn "
        f"{versions['scikit-learn']}, numpy {versions['numpy']}; commit "
        f"`{result['git']['commit'][:12]}`. Results: `benchmarks/results/evaluate_adult.json`.",
        "",
        "| | synthgan | SDMetrics | abs. difference |",
        "|---|---:|---:|---:|",
        f"| column shapes, stand-in (mean of KS/TV complements) | {shapes['synthgan']:.4f} | "
        f"{shapes['sdmetrics_ks_tv_mean']:.4f} | {shapes['abs_difference']:.4f} |",
        f"| column shapes, distorted stand-in | {distorted['synthgan']:.4f} | "
        f"{distorted['sdmetrics_ks_tv_mean']:.4f} | {distorted['abs_difference']:.4f} |",
        f"| column pairs, every pair | {pairs['synthgan']:.4f} | "
        f"{pairs['sdmetrics_every_pair_mean']:.4f} | "
        f"{abs(pairs['synthgan'] - pairs['sdmetrics_every_pair_mean']):.4f} |",
        "",
        f"Column shapes agree within the 0.02 target: "
        f"{'met' if shapes['agree'] and distorted['agree'] else 'NOT met'}. The distorted "
        "stand-in (numbers scaled by 1.1 plus noise, 20% of categories redrawn) checks the "
        "agreement away from 1. SDMetrics' per-pair figures are CorrelationSimilarity / "
        "ContingencySimilarity over all 105 pairs; its QualityReport's Column Pair Trends "
        f"({pairs['sdmetrics_quality_report_column_pair_trends']:.4f}) scored only "
        f"{pairs['sdmetrics_quality_report_scored_pairs']} of {pairs['pairs']} pairs here, so it "
        "is not comparable.",
        "",
        "| seconds | synthgan `evaluate` | SDMetrics `QualityReport.generate` |",
        "|---|---:|---:|",
        f"| whole run | {seconds['synthgan_evaluate_total']:.1f} | "
        f"{seconds['sdmetrics_quality_report']:.1f} |",
        f"| column shapes + pairs only | {seconds['synthgan_column_shapes_and_pairs']:.1f} | "
        f"{seconds['sdmetrics_quality_report']:.1f} |",
        "",
        f"The whole synthgan evaluation takes {ratio:.1f}x the time of SDMetrics' QualityReport "
        f"(target: under {seconds['budget']:.0f} s; "
        f"{'met' if seconds['within_budget'] else 'NOT met'}), but does more: the "
        "QualityReport computes column shapes and pair trends only, while `evaluate` adds "
        f"detection ({per_metric['detection_auc']:.1f} s), utility trained on real and on "
        f"synthetic rows ({utility:.1f} s) and the privacy figures with bootstrap intervals "
        f"({privacy:.1f} s, nearly all of it nearest-neighbour search on 16,281 holdout, "
        "16,281 training and 32,561 synthetic rows). On the figures both compute, synthgan "
        f"takes {seconds['synthgan_column_shapes_and_pairs']:.1f} s.",
        "",
    ]
    return "\n".join(lines)


def resample_columns(train, seed: int):
    """Every column drawn with replacement from ``train`` on its own: the stand-in synthetic table."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            name: train[name].iloc[rng.integers(0, len(train), len(train))].to_numpy()
            for name in train.columns
        }
    ).astype(train.dtypes.to_dict())


def distort(synthetic, seed: int):
    """A second stand-in with visibly wrong marginals, so that the shapes comparison is not only
    checked near 1: numbers scaled by 1.1 plus noise, 20% of the categories redrawn uniformly."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    out = synthetic.copy()
    for name in out.columns:
        column = out[name]
        if column.dtype.kind in "if":
            noise = rng.normal(0, 0.1 * column.std(), len(column))
            out[name] = np.round(1.1 * column + noise).astype(column.dtype)
        else:
            labels = column.dropna().unique()
            redraw = rng.random(len(column)) < 0.2
            values = column.to_numpy(dtype=object, na_value=None).copy()
            values[redraw] = rng.choice(labels, redraw.sum())
            out[name] = pd.Series(values, index=column.index).astype(column.dtype)
    return out


def sdmetrics_metadata(schema) -> dict:
    """SDMetrics' single-table metadata with the column typing synthgan inferred."""
    sdtypes = {
        "continuous": "numerical",
        "integer": "numerical",
        "datetime": "datetime",
        "discrete": "categorical",
        "boolean": "boolean",
        "id": "id",
    }
    return {"columns": {c.name: {"sdtype": sdtypes[c.kind.value]} for c in schema.columns}}


def sdmetrics_column_shapes(real, synthetic, schema) -> dict[str, float]:
    from sdmetrics.single_column import KSComplement, TVComplement

    scores = {}
    for spec in schema.columns:
        if spec.kind.value in ("continuous", "integer", "datetime"):
            scores[spec.name] = KSComplement.compute(real[spec.name], synthetic[spec.name])
        elif spec.kind.value in ("discrete", "boolean"):
            scores[spec.name] = TVComplement.compute(real[spec.name], synthetic[spec.name])
    return {name: float(value) for name, value in scores.items()}


def sdmetrics_column_pairs(real, synthetic, schema) -> float:
    """Mean over every pair of SDMetrics' CorrelationSimilarity (two numeric columns) or
    ContingencySimilarity (the others), the definition synthgan's column_pairs follows."""
    from itertools import combinations

    from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity

    numeric = {c.name for c in schema.columns if c.kind.value in ("continuous", "integer")}
    names = [c.name for c in schema.columns if c.kind.value != "id"]
    scores = []
    for a, b in combinations(names, 2):
        if a in numeric and b in numeric:
            scores.append(CorrelationSimilarity.compute(real[[a, b]], synthetic[[a, b]]))
        else:
            scores.append(
                ContingencySimilarity.compute(
                    real[[a, b]],
                    synthetic[[a, b]],
                    continuous_column_names=sorted(numeric & {a, b}),
                )
            )
    return float(sum(scores) / len(scores))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.markdown:
        import json

        print(markdown(json.loads(args.output.read_text())))
        return 0
    benchenv.set_thread_env(args.threads)
    from threadpoolctl import threadpool_limits

    from synthgan.datasets import load_adult
    from synthgan.evaluate import evaluate
    from synthgan.schema import infer_schema

    threadpool_limits(limits=args.threads)
    started_machine = benchenv.machine()
    train, test = load_adult()
    synthetic = resample_columns(train, args.seed)
    schema = infer_schema(train)

    runs = []
    for _ in range(args.repeats):
        tick = time.perf_counter()
        report = evaluate(
            train,
            synthetic,
            holdout=test,
            target="income",
            random_state=args.seed,
            n_threads=args.threads,
        )
        runs.append(time.perf_counter() - tick)
    ours_s = min(runs)
    if args.report is not None:
        report.to_html(args.report)

    tick = time.perf_counter()
    theirs = sdmetrics_column_shapes(train, synthetic, schema)
    sdmetrics_shapes_s = time.perf_counter() - tick
    theirs_mean = sum(theirs.values()) / len(theirs)

    from sdmetrics.reports.single_table import QualityReport

    quality = QualityReport()
    tick = time.perf_counter()
    quality.generate(train, synthetic, sdmetrics_metadata(schema), verbose=False)
    quality_s = time.perf_counter() - tick
    properties = quality.get_properties().set_index("Property")["Score"]
    pair_details = quality.get_details("Column Pair Trends")
    scored_pairs = int(pair_details["Score"].notna().sum())

    distorted = distort(synthetic, args.seed + 1)
    distorted_ours = evaluate(train, distorted, metrics=["column_shapes"]).scores["column_shapes"]
    distorted_theirs_columns = sdmetrics_column_shapes(train, distorted, schema)
    distorted_theirs = sum(distorted_theirs_columns.values()) / len(distorted_theirs_columns)

    tick = time.perf_counter()
    theirs_pairs = sdmetrics_column_pairs(train, synthetic, schema)
    sdmetrics_pairs_s = time.perf_counter() - tick

    ours_per_column = dict(zip(report.columns["column"], report.columns["shape"].astype(float)))
    difference = abs(report.scores["column_shapes"] - theirs_mean)
    distorted_difference = abs(distorted_ours - distorted_theirs)
    result = {
        "inputs": {
            "real": f"Adult train, {len(train):,} rows",
            "holdout": f"Adult test, {len(test):,} rows",
            "synthetic": f"every column of train resampled independently (seed {args.seed}), "
            f"{len(synthetic):,} rows",
            "target": "income",
        },
        "column_shapes": {
            "synthgan": report.scores["column_shapes"],
            "sdmetrics_ks_tv_mean": theirs_mean,
            "sdmetrics_quality_report_column_shapes": float(properties["Column Shapes"]),
            "abs_difference": difference,
            "tolerance": AGREEMENT_TOLERANCE,
            "agree": difference <= AGREEMENT_TOLERANCE,
            "distorted_stand_in": {
                "description": "the stand-in with numbers scaled by 1.1 plus noise and 20% of "
                "categories redrawn uniformly",
                "synthgan": distorted_ours,
                "sdmetrics_ks_tv_mean": distorted_theirs,
                "abs_difference": distorted_difference,
                "agree": distorted_difference <= AGREEMENT_TOLERANCE,
            },
            "per_column": {
                name: {"synthgan": ours_per_column[name], "sdmetrics": theirs[name]}
                for name in theirs
            },
        },
        "column_pairs": {
            "synthgan": report.scores["column_pairs"],
            "sdmetrics_every_pair_mean": theirs_pairs,
            "sdmetrics_quality_report_column_pair_trends": float(properties["Column Pair Trends"]),
            "sdmetrics_quality_report_scored_pairs": scored_pairs,
            "pairs": len(pair_details),
            "note": "SDMetrics' QualityReport left most pairs without a score here (see "
            "sdmetrics_quality_report_scored_pairs), so its Column Pair Trends is not comparable; "
            "sdmetrics_every_pair_mean averages CorrelationSimilarity / ContingencySimilarity over "
            "every pair, as synthgan does (synthgan on a 20,000-row subsample of each table).",
        },
        "seconds": {
            "synthgan_evaluate_total": ours_s,
            "synthgan_evaluate_runs": runs,
            "synthgan_per_metric": report.meta["seconds"],
            "sdmetrics_quality_report": quality_s,
            "sdmetrics_ks_tv_only": sdmetrics_shapes_s,
            "sdmetrics_every_pair": sdmetrics_pairs_s,
            "synthgan_column_shapes_and_pairs": report.meta["seconds"]["column_shapes"]
            + report.meta["seconds"]["column_pairs"],
            "ratio_sdmetrics_over_synthgan": quality_s / ours_s,
            "budget": TIME_BUDGET_S,
            "within_budget": ours_s < TIME_BUDGET_S,
        },
        "synthgan_scores": report.scores,
        "threads": args.threads,
        "versions": benchenv.versions(),
        "git": benchenv.git_commit(),
        "machine": {**started_machine, "load_average_at_end": list(os.getloadavg())},
    }
    benchenv.write_json(args.output, result)

    print(f"{'':38} {'synthgan':>10} {'SDMetrics':>10}")
    print(
        f"{'column shapes (KS/TV complement mean)':38} {report.scores['column_shapes']:10.4f} "
        f"{theirs_mean:10.4f}   |diff| {difference:.4f} (tolerance {AGREEMENT_TOLERANCE})"
    )
    print(
        f"{'  same, distorted stand-in':38} {distorted_ours:10.4f} {distorted_theirs:10.4f}"
        f"   |diff| {distorted_difference:.4f}"
    )
    print(
        f"{'column pairs (every pair)':38} {report.scores['column_pairs']:10.4f} "
        f"{theirs_pairs:10.4f}   (QualityReport: {properties['Column Pair Trends']:.4f} "
        f"on {scored_pairs} of {len(pair_details)} pairs)"
    )
    print(
        f"{'seconds (whole evaluate / QualityReport)':38} {ours_s:10.1f} {quality_s:10.1f}   "
        f"ratio {quality_s / ours_s:.1f}x, budget {TIME_BUDGET_S:.0f} s"
    )
    print(f"Wrote {args.output}")
    agree = max(difference, distorted_difference) <= AGREEMENT_TOLERANCE
    return 0 if agree and ours_s < TIME_BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
