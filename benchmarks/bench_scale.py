"""A streamed fit and sample end to end at 1M and 10M rows: seconds and peak memory per stage.

The table: Adult's training rows resampled with replacement (fixed seed) and widened to 50
columns (jittered integer and continuous copies of the numeric columns, independently resampled
and combined copies of the categorical ones, a boolean, a datetime and two columns with nulls),
written as a folder of Parquet files of 1,000,000 rows each. Each size is measured in a fresh
subprocess: the streamed fit (``Synthesizer.fit(folder, stream=True)``) with its stages timed
and their peak resident memory sampled every 20 ms, then ``sample_to_parquet`` of
``--sample-rows`` rows. Training is capped at ``--max-minutes`` (training cost depends on steps,
not rows), so what grows with rows is the two passes over the data.

    nice -n 10 .venv/bin/python benchmarks/bench_scale.py --rows 1000000,10000000 \\
        --data-dir /tmp/synthgan-scale --output benchmarks/results/scale.json
    .venv/bin/python benchmarks/bench_scale.py --markdown   # the docs table from --output
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import benchenv

sys.path.insert(0, str(benchenv.REPO_ROOT))  # this checkout's synthgan, not an installed one
FILE_ROWS = 1_000_000


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1000000,10000000", help="comma-separated row counts")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/synthgan-scale"))
    parser.add_argument("--shard-dir", default=None, help="folder for the shards")
    parser.add_argument("--max-minutes", type=float, default=5.0, help="training time cap")
    parser.add_argument("--sample-rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/scale.json"))
    parser.add_argument("--markdown", action="store_true", help="print the docs table, run nothing")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- the table -------------------------------------------------------------------------------------
def widen(adult, n: int, seed: int):
    """``n`` rows x 50 columns from Adult's rows (resampled with replacement)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = adult.iloc[rng.integers(0, len(adult), n)].reset_index(drop=True)
    numeric = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    categorical = [c for c in adult.columns if c not in numeric]
    out = {c: frame[c] for c in adult.columns}
    for c in numeric:
        values = frame[c].to_numpy()
        out[f"{c}_jitter"] = values + rng.integers(-2, 3, n)  # integer
        out[f"{c}_noisy"] = values * rng.lognormal(0.0, 0.05, n)  # continuous, many values
    for c in categorical:
        out[f"{c}_other"] = adult[c].to_numpy()[rng.integers(0, len(adult), n)]  # independent
        partner = categorical[(categorical.index(c) + 1) % len(categorical)]
        pair = frame[c].astype(str).str[:6] + "|" + frame[partner].astype(str).str[:3]
        out[f"{c}_pair"] = pair
    out["flag"] = frame["capital-gain"].to_numpy() > 0
    out["day"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    hours = frame["hours-per-week"].astype("float64")
    out["hours_missing"] = hours.mask(rng.random(n) < 0.1)
    out["workclass_missing"] = frame["workclass"].mask(rng.random(n) < 0.05)
    out["score"] = rng.normal(size=n) + (frame["income"] == ">50K").to_numpy()
    return pd.DataFrame(out)


def build(rows: int, folder: Path, seed: int, split: str = "train") -> dict:
    """Write the table, widened from Adult's ``split`` rows, as ``folder/part-NNNNN.parquet``
    unless it is there already."""
    import pandas as pd

    done = folder / "_SUCCESS"
    if done.exists():
        return json.loads(done.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    adult = pd.read_parquet(benchenv.REPO_ROOT / f"datasets/adult/{split}.parquet")
    start = time.perf_counter()
    for part, first in enumerate(range(0, rows, FILE_ROWS)):
        frame = widen(adult, min(FILE_ROWS, rows - first), seed * 100_003 + part)
        frame.to_parquet(folder / f"part-{part:05d}.parquet", index=False, row_group_size=131_072)
    info = {"rows": rows, "columns": int(frame.shape[1]), "build_seconds": time.perf_counter() - start,
            "bytes": sum(p.stat().st_size for p in folder.glob("*.parquet"))}  # fmt: skip
    done.write_text(json.dumps(info))
    return info


# -- one measured run --------------------------------------------------------------------------------
class StageMonitor:
    """Wall seconds and peak RSS (sampled every 20 ms) of each named stage."""

    def __init__(self) -> None:
        self.stage, self.stages, self._stop = "setup", {}, False
        self._enter("setup")
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _enter(self, name: str) -> None:
        self.stage = name
        record = self.stages.setdefault(name, {"seconds": 0.0, "peak_rss_mb": 0.0})
        record["_since"] = time.perf_counter()

    def switch(self, name: str) -> None:
        record = self.stages[self.stage]
        record["seconds"] += time.perf_counter() - record.pop("_since")
        self._enter(name)

    def _watch(self) -> None:
        while not self._stop:
            rss = benchenv.rss_mb()
            record = self.stages.get(self.stage)
            if record is not None and rss > record["peak_rss_mb"]:
                record["peak_rss_mb"] = rss
            time.sleep(0.02)

    def wrap(self, owner, name: str, stage: str, after: str) -> None:
        original = getattr(owner, name)

        def wrapped(*args, **kwargs):
            self.switch(stage)
            try:
                return original(*args, **kwargs)
            finally:
                self.switch(after)

        setattr(owner, name, wrapped)

    def close(self) -> dict:
        self.switch("done")
        self._stop = True
        self._thread.join()
        self.stages.pop("done")
        return {k: {"seconds": round(v["seconds"], 2), "peak_rss_mb": round(v["peak_rss_mb"], 1)}
                for k, v in self.stages.items()}  # fmt: skip


def measure(args: argparse.Namespace, rows: int) -> dict:
    threads = benchenv.limit_threads(args.threads)
    import tempfile

    import synthgan.model.streamed as streamed
    from synthgan import Synthesizer
    from synthgan.model import shards
    from synthgan.model.synthesizer import Synthesizer as Estimator
    from synthgan.model.training import Trainer

    monitor = StageMonitor()
    monitor.wrap(streamed, "scan", "statistics", "fit transformer")
    monitor.wrap(shards.ShardWriter, "__init__", "encode", "encode")
    monitor.wrap(shards.ShardedConditionSampler, "from_shards", "category index", "other")
    monitor.wrap(Estimator, "_run_training", "train", "other")
    monitor.wrap(Estimator, "_fit_calibration", "calibration", "other")
    monitor.wrap(Estimator, "_fit_row_critic", "row critic", "other")
    steps = _count_calls(Trainer, "_generator_step")
    folder = args.data_dir / f"rows-{rows}"
    model = Synthesizer(random_state=args.seed, epochs=1, max_minutes=args.max_minutes,
                        n_threads=args.threads, verbose=False)  # fmt: skip
    stream = streamed.Streaming(shard_dir=args.shard_dir)
    start = time.perf_counter()
    model.fit(folder, stream=stream)
    fit_seconds = time.perf_counter() - start
    monitor.switch("sample")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        model.sample_to_parquet(Path(tmp) / "synthetic.parquet", args.sample_rows,
                                random_state=args.seed)  # fmt: skip
        sample_seconds = time.perf_counter() - start
    stages = monitor.close()
    layout = model.transformer_.layout_
    return {
        "rows": rows,
        "columns": len(model.transformer_.columns_),
        "encoded_dim": layout.dim,
        "shard_row_bytes": shards.ShardLayout.of(layout).row_bytes,
        "sampled_columns": model.stream_facts_["sampled_columns"],
        "fit_seconds": round(fit_seconds, 1),
        "train_steps": steps[0],
        "epochs_trained": model.epochs_trained_,
        "max_minutes": args.max_minutes,
        "sample_rows": args.sample_rows,
        "sample_seconds": round(sample_seconds, 1),
        "stages": stages,
        "peak_rss_mb": round(benchenv.peak_rss_mb(), 1),
        "threads": threads,
    }


def _count_calls(owner, name: str) -> list[int]:
    count, original = [0], getattr(owner, name)

    def counted(*args, **kwargs):
        count[0] += 1
        return original(*args, **kwargs)

    setattr(owner, name, counted)
    return count


def markdown(path: Path) -> str:
    results = json.loads(path.read_text())
    runs = results["runs"]
    stages = list(dict.fromkeys(s for r in runs for s in r["stages"]))
    lines = ["| stage | " + " | ".join(f"{r['rows']:,} rows: s / peak MiB" for r in runs) + " |",
             "|---|" + "---|" * len(runs)]  # fmt: skip
    for stage in stages:
        cells = []
        for r in runs:
            s = r["stages"].get(stage)
            cells.append("" if s is None else f"{s['seconds']:.0f} / {s['peak_rss_mb']:,.0f}")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines.append("| **whole run: peak RSS** | " + " | ".join(
        f"**{r['peak_rss_mb']:,.0f} MiB**" for r in runs) + " |")  # fmt: skip
    return "\n".join(lines)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.markdown:
        print(markdown(args.output))
        return
    benchenv.set_thread_env(args.threads)
    if args.worker is not None:
        print(json.dumps(measure(args, args.worker)))
        return
    runs, builds = [], {}
    for rows in [int(r) for r in args.rows.split(",") if r]:
        builds[rows] = build(rows, args.data_dir / f"rows-{rows}", args.seed)
        command = [sys.executable, __file__, "--worker", str(rows), *_passthrough(args)]
        done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
        if done.returncode != 0:
            sys.exit(f"run at {rows} rows failed:\n{done.stderr[-3000:]}")
        run = json.loads(done.stdout.strip().splitlines()[-1])
        run["table"] = builds[rows]
        runs.append(run)
        print(json.dumps(run), flush=True)
    payload = {"benchmark": "bench_scale", "runs": runs,
               "provenance": benchenv.provenance(runs[-1]["threads"])}  # fmt: skip
    benchenv.write_json(args.output, payload)


def _passthrough(args: argparse.Namespace) -> list[str]:
    out = ["--data-dir", str(args.data_dir), "--max-minutes", str(args.max_minutes),
           "--sample-rows", str(args.sample_rows), "--threads", str(args.threads),
           "--seed", str(args.seed)]  # fmt: skip
    if args.shard_dir:
        out += ["--shard-dir", args.shard_dir]
    return out


if __name__ == "__main__":
    main()
