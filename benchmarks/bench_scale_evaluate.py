"""``synthgan evaluate --stream`` with a holdout and a target at 1M and 10M real rows: seconds
and peak memory per stage.

The tables are bench_scale.py's 50-column widening of Adult: the real table from Adult's
training rows (the fit benchmark's folder, reused), the synthetic table and the holdout
(1,000,000 rows each) from Adult's test rows with two other seeds, so the "synthetic" rows are a
stand-in for a perfect generator's: fresh rows of the same population. They time the stages;
their scores are no quality reading (the three tables resample a few thousand source rows, so
synthetic and holdout rows share sources, and a widened pair column spells out the target). Each size runs in a fresh
subprocess; ``evaluate_sources(real, synthetic, holdout=..., target="income")`` is timed by
stage (reading the samples, streamed fidelity, its holdout baselines, closest records over the
whole real table, the sampled metrics) with peak resident memory sampled every 20 ms.

    nice -n 10 .venv/bin/python benchmarks/bench_scale_evaluate.py --rows 1000000,10000000 \\
        --data-dir /tmp/synthgan-scale --output benchmarks/results/scale_evaluate.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import bench_scale
import benchenv

sys.path.insert(0, str(benchenv.REPO_ROOT))  # this checkout's synthgan, not an installed one
OTHER_ROWS = 1_000_000


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1000000,10000000", help="comma-separated real rows")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/synthgan-scale"))
    parser.add_argument("--sample-rows", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path,
                        default=Path("benchmarks/results/scale_evaluate.json"))  # fmt: skip
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def measure(args: argparse.Namespace, rows: int) -> dict:
    threads = benchenv.limit_threads(args.threads)
    import importlib

    evaluator = importlib.import_module("synthgan.evaluate.evaluator")
    streamed = importlib.import_module("synthgan.evaluate.streamed")

    monitor = bench_scale.StageMonitor()
    monitor.switch("read samples")
    monitor.wrap(streamed, "fidelity_scores", "fidelity (every row)", "other")
    monitor.wrap(streamed, "closest_record_distances", "closest records (every real row)",
                 "other")  # fmt: skip
    monitor.wrap(evaluator, "evaluate", "sampled metrics", "other")
    start = time.perf_counter()
    scores = streamed.evaluate_sources(
        args.data_dir / f"rows-{rows}", args.data_dir / "synthetic", holdout=args.data_dir / "holdout",
        target="income", sample_rows=args.sample_rows, random_state=args.seed,
    )
    seconds = time.perf_counter() - start
    stages = monitor.close()
    stages.pop("setup", None)
    return {
        "rows": scores["rows"],
        "sample_rows": args.sample_rows,
        "seconds": round(seconds, 1),
        "stages": stages,
        "peak_rss_mb": round(benchenv.peak_rss_mb(), 1),
        "scores": {k: v for k, v in scores.items() if k not in ("rows",)},
        "threads": threads,
    }


def main(argv=None) -> None:
    args = parse_args(argv)
    benchenv.set_thread_env(args.threads)
    if args.worker is not None:
        print(json.dumps(measure(args, args.worker)))
        return
    for name, seed in (("synthetic", args.seed + 1), ("holdout", args.seed + 2)):
        bench_scale.build(OTHER_ROWS, args.data_dir / name, seed, split="test")
    runs = []
    for rows in [int(r) for r in args.rows.split(",") if r]:
        bench_scale.build(rows, args.data_dir / f"rows-{rows}", args.seed)
        command = [sys.executable, __file__, "--worker", str(rows), "--data-dir",
                   str(args.data_dir), "--sample-rows", str(args.sample_rows), "--threads",
                   str(args.threads), "--seed", str(args.seed)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
        if done.returncode != 0:
            sys.exit(f"run at {rows} rows failed:\n{done.stderr[-3000:]}")
        run = json.loads(done.stdout.strip().splitlines()[-1])
        runs.append(run)
        print(json.dumps({k: v for k, v in run.items() if k != "scores"}), flush=True)
        payload = {"benchmark": "bench_scale_evaluate", "runs": runs,
                   "provenance": benchenv.provenance(runs[-1]["threads"])}  # fmt: skip
        benchenv.write_json(args.output, payload)  # after each size: a long run keeps its parts


if __name__ == "__main__":
    main()
