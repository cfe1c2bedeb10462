"""synthgan vs ctgan/TVAE on Adult: speed at equal settings, and quality/time with defaults.

Run with the peers' interpreter (it has ctgan and sdmetrics; synthgan is installed there too):

    /opt/peers/bin/python benchmarks/bench_fit.py --threads 1 --seeds 0 1 2

Parts:
  (a) equal settings: batch 500, pac 10, one critic step; seconds per 1,000 real rows seen by the
      critic, excluding the transformer fit, synthgan and ctgan in the same process.
  sampling: rows per second, synthgan and ctgan side by side in this process.
  (b) defaults: fit seconds, sampling rows/s, peak RSS, and quality on the Adult test split:
      train-on-synthetic ROC AUC / F1 of the fixed model in synthgan.evaluate, detection AUC and
      column shapes/pairs from synthgan.evaluate, SDMetrics' QualityReport score. ctgan and TVAE
      synthetic tables cached by run_ctgan_adult.py are scored here with the same code.

`--set key=value` overrides Synthesizer parameters (for tuning); `--quick` skips SDMetrics and the
sampling/memory figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def set_threads(threads: int) -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:
        pass


def parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
        if isinstance(out[key], list):
            out[key] = tuple(out[key])
    return out


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def versions() -> dict:
    import numpy
    import pandas
    import sklearn
    import torch

    import synthgan

    out = {"synthgan": synthgan.__version__, "torch": torch.__version__, "numpy": numpy.__version__,
           "pandas": pandas.__version__, "scikit-learn": sklearn.__version__}  # fmt: skip
    for name in ("ctgan", "sdmetrics"):
        try:
            out[name] = __import__(name).__version__
        except ImportError:
            pass
    return out


def git_commit() -> str:
    import subprocess

    try:
        return subprocess.check_output(["git", "rev-parse", "HEAD"], cwd=HERE, text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def score(synthetic, train, test, *, quick: bool) -> dict:
    """Quality figures of one synthetic table, the same for every model."""
    from synthgan.evaluate import evaluate, utility_scores

    figures = {}
    utility = utility_scores(synthetic, test, "income")
    figures["utility_roc_auc"] = utility["roc_auc"]
    figures["utility_f1"] = utility["f1"]
    report = evaluate(
        train, synthetic, holdout=None if quick else test, target=None, random_state=0
    )
    for key in ("column_shapes", "column_pairs", "detection_auc", "dcr_share", "mia_auc"):
        if key in report.scores:
            figures[key] = report.scores[key]
    if not quick:
        try:
            from sdmetrics.reports.single_table import QualityReport
        except ImportError:
            return figures
        from synthgan.schema import ColumnKind, infer_schema

        schema = infer_schema(train)
        metadata = {"columns": {
            c.name: {"sdtype": "numerical" if c.kind in (ColumnKind.CONTINUOUS, ColumnKind.INTEGER)
                     else "categorical"} for c in schema.columns
        }}  # fmt: skip
        quality = QualityReport()
        quality.generate(train, synthetic[train.columns], metadata, verbose=False)
        figures["sdmetrics_quality"] = quality.get_score()
        props = quality.get_properties().set_index("Property")["Score"]
        figures["sdmetrics_column_shapes"] = float(props["Column Shapes"])
        figures["sdmetrics_column_pair_trends"] = float(props["Column Pair Trends"])
    return figures


def run_synthgan(seed: int, overrides: dict, train, test, *, quick: bool, tag: str = "") -> dict:
    from synthgan import Synthesizer

    model = Synthesizer(random_state=seed, verbose=False, device="cpu", **overrides)
    start = time.perf_counter()
    model.fit(train)
    fit_seconds = time.perf_counter() - start
    figures = {"seed": seed, "fit_seconds": fit_seconds, "epochs": model.epochs_trained_}
    start = time.perf_counter()
    synthetic = model.sample(len(train), random_state=seed)
    figures["sample_rows_per_second"] = len(train) / (time.perf_counter() - start)
    if not quick:
        start = time.perf_counter()
        model.sample(100_000, random_state=seed + 1)
        figures["sample_100k_rows_per_second"] = 100_000 / (time.perf_counter() - start)
        figures["peak_rss_mb"] = peak_rss_mb()
        name = "_".join(part for part in ("synthgan", tag.strip("_")) if part)
        out = RESULTS / "synthgan" / f"{name}_seed{seed}.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        synthetic.to_parquet(out)
    figures.update(score(synthetic, train, test, quick=quick))
    return figures


def equal_settings(train, *, epochs: int = 4) -> dict:
    """Seconds per 1,000 real rows seen by the critic, for synthgan and ctgan, side by side.

    Batch 500, pac 10, one critic step, in this process. Only training epochs are timed: synthgan
    is fitted for one epoch, then resumed for ``epochs`` timed epochs (no transformer fit);
    ctgan's epochs are timed by the epoch clock of benchmarks/peers/run_ctgan_adult.py (its
    training loop unchanged), its first epoch left out as warm-up. synthgan is timed before and
    after ctgan and averaged, so drifting load hits both. Wall and CPU (process) seconds.
    """
    from synthgan import Synthesizer

    rows_per_epoch = max(len(train) // 500, 1) * 500
    model = Synthesizer(batch_size=500, pac=10, discriminator_steps=1, epochs=1, random_state=0,
                        verbose=False, device="cpu").fit(train)  # fmt: skip
    model.epochs = epochs

    def time_synthgan() -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        model.fit(train, resume=True)
        return (time.perf_counter() - wall) / epochs, (time.process_time() - cpu) / epochs

    per_epoch = {"synthgan": [time_synthgan()]}
    try:
        import ctgan
    except ImportError:
        ctgan = None
    if ctgan is not None:
        sys.path.insert(0, str(HERE / "peers"))
        import run_ctgan_adult as peer_script

        peer_script._install_epoch_clock()
        discrete = [
            c for c in train.columns if not str(train[c].dtype).startswith(("int", "float"))
        ]
        ctgan.CTGAN(batch_size=500, pac=10, discriminator_steps=1, epochs=1 + epochs,
                    verbose=True).fit(train, discrete)  # fmt: skip
        walls = peer_script.EpochClock.epoch_seconds()[1:]
        cpus = peer_script.EpochClock.epoch_cpu_seconds()[1:]
        per_epoch["ctgan"] = [(sum(walls) / len(walls), sum(cpus) / len(cpus))]
        per_epoch["synthgan"].append(time_synthgan())
    out = {"epochs_timed": epochs, "critic_rows_per_epoch": rows_per_epoch,
           "method": " ".join(equal_settings.__doc__.split())}  # fmt: skip
    for name, timings in per_epoch.items():
        wall = sum(t[0] for t in timings) / len(timings)
        cpu = sum(t[1] for t in timings) / len(timings)
        out[name] = {"epoch_seconds": wall, "seconds_per_1000_rows": 1000 * wall / rows_per_epoch,
                     "cpu_seconds_per_1000_rows": 1000 * cpu / rows_per_epoch}  # fmt: skip
    if "ctgan" in out:
        for key in ("seconds_per_1000_rows", "cpu_seconds_per_1000_rows"):
            out[f"ratio_{key}"] = out["synthgan"][key] / out["ctgan"][key]
    return out


def sampling_speed(train, *, repeats: int = 3) -> dict:
    """Rows per second sampling 32,561 and 100,000 rows, synthgan and ctgan in this process.

    Both models are fitted for one epoch (sampling cost does not depend on how long a model
    trained; sizes are each library's defaults); the libraries alternate, best of ``repeats``.
    synthgan runs with its default ``sample_precision="auto"`` (bfloat16 on CPUs with native
    bfloat16, as this machine's) and with float32.
    """
    from synthgan import Synthesizer

    ours = Synthesizer(epochs=1, random_state=0, verbose=False, device="cpu").fit(train)

    def sample_at(precision: str):
        def sample(n: int):
            ours.set_params(sample_precision=precision)  # the same fitted model, both ways
            return ours.sample(n, random_state=1)

        return sample

    samplers = {"synthgan": sample_at("auto"), "synthgan-float32": sample_at("float32")}
    try:
        from ctgan import CTGAN

        discrete = [
            c for c in train.columns if not str(train[c].dtype).startswith(("int", "float"))
        ]
        peer = CTGAN(epochs=1)
        peer.fit(train, discrete)
        samplers["ctgan"] = peer.sample
    except ImportError:
        pass
    out: dict = {"method": " ".join(sampling_speed.__doc__.split())}
    for n in (32_561, 100_000):
        best = {name: float("inf") for name in samplers}
        for _ in range(repeats):
            for name, sample in samplers.items():
                start = time.perf_counter()
                sample(n)
                best[name] = min(best[name], time.perf_counter() - start)
        for name, seconds in best.items():
            out.setdefault(name, {})[f"rows_per_second_{n}"] = n / seconds
        if "ctgan" in best:
            out[f"ratio_{n}"] = best["ctgan"] / best["synthgan"]
            out[f"ratio_float32_{n}"] = best["ctgan"] / best["synthgan-float32"]
    return out


def mean_spread(runs: list[dict]) -> dict:
    import numpy as np

    keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float)) and k != "seed"]
    return {k: {"mean": float(np.mean([r[k] for r in runs])), "std": float(np.std([r[k] for r in runs])),
                "n": len(runs)} for k in keys}  # fmt: skip


def score_peers(train, test) -> dict:
    import pandas as pd

    out = {}
    for path in sorted((RESULTS / "peers").glob("*_seed*.parquet")):
        meta_path = path.with_suffix(".json")
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        figures = {k: meta[k] for k in ("fit_seconds", "sample_rows_per_second", "peak_rss_mb")
                   if k in meta}  # fmt: skip
        figures.update(score(pd.read_parquet(path), train, test, quick=False))
        model = path.stem.split("_seed")[0]
        out.setdefault(model, []).append({"seed": int(path.stem.split("_seed")[1]), **figures})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--parts", nargs="+", default=["equal", "sampling", "defaults", "peers"],
                        choices=["equal", "sampling", "defaults", "peers"])  # fmt: skip
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tag", default="",
                        help="name of a variant: its synthetic tables are synthgan_TAG_seedN.parquet")  # fmt: skip
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    set_threads(args.threads)

    from synthgan.datasets import load_adult

    train, test = load_adult()
    overrides = parse_overrides(args.overrides)
    result = {"versions": versions(), "commit": git_commit(), "threads": args.threads,
              "cpus": os.cpu_count(), "overrides": {k: list(v) if isinstance(v, tuple) else v
                                                    for k, v in overrides.items()}}  # fmt: skip

    def save() -> None:
        if args.output:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(json.dumps(result, indent=1) + "\n")

    if "equal" in args.parts:
        result["equal_settings"] = equal_settings(train)
        print("equal settings:", json.dumps(result["equal_settings"]), flush=True)
        save()
    if "sampling" in args.parts:
        result["sampling"] = sampling_speed(train)
        print("sampling:", json.dumps(result["sampling"]), flush=True)
        save()
    if "defaults" in args.parts:
        runs = []
        for seed in args.seeds:
            runs.append(run_synthgan(seed, overrides, train, test, quick=args.quick, tag=args.tag))
            print("synthgan:", json.dumps(runs[-1]), flush=True)
            result["synthgan"] = {"runs": runs, "summary": mean_spread(runs)}
            save()
    if "peers" in args.parts:
        peers = score_peers(train, test)
        result["peers"] = {m: {"runs": r, "summary": mean_spread(r)} for m, r in peers.items()}
        for model, runs in peers.items():
            print(f"{model}:", json.dumps(runs), flush=True)
    save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
