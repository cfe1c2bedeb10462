"""A default Adult fit beside busy processes: its time as a ratio to the same fit alone.

For each thread setting (``--settings``; "2" is torch's default on a 2-core machine, what
synthgan did before ``n_threads="auto"``) the fit runs alone, then beside one and two processes
that spin a core each (``while True: pass``). The machine must be otherwise idle.

    python3 benchmarks/bench_load.py --epochs 10 --output benchmarks/results/load_adult.json

Fit seconds scale with the epochs; the ratio is what matters.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchenv  # noqa: E402

SPIN = "while True: pass"


def fit_seconds(train, n_threads, epochs: int, seed: int) -> tuple[float, list[int]]:
    from synthgan import Synthesizer

    model = Synthesizer(epochs=epochs, random_state=seed, verbose=False, n_threads=n_threads)
    start = time.perf_counter()
    model.fit(train)
    history = model.loss_history_
    threads = history["threads"].tolist() if "threads" in history else []
    return time.perf_counter() - start, threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--settings", nargs="+", default=["2", "auto"])
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "load_adult.json")
    args = parser.parse_args()

    from synthgan.datasets import load_adult

    train, _ = load_adult()
    runs = []
    for setting in args.settings:
        n_threads = setting if setting == "auto" else int(setting)
        for busy in args.busy:
            spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(busy)]
            try:
                time.sleep(1.0 if busy else 0.0)
                seconds, threads = fit_seconds(train, n_threads, args.epochs, args.seed)
            finally:
                for spinner in spinners:
                    spinner.kill()
                    spinner.wait()
            quiet = next((r["seconds"] for r in runs
                          if r["n_threads"] == setting and r["busy"] == 0), seconds)  # fmt: skip
            runs.append({"n_threads": setting, "busy": busy, "seconds": round(seconds, 2),
                         "ratio_to_quiet": round(seconds / quiet, 2),
                         "threads_per_epoch": threads})  # fmt: skip
            print(runs[-1], file=sys.stderr, flush=True)
            benchenv.write_json(args.output, {
                "provenance": benchenv.provenance({"n_threads": args.settings}),
                "epochs": args.epochs, "runs": runs})  # fmt: skip
    print("| n_threads | alone | beside 1 busy | beside 2 busy |")
    print("|---|---:|---:|---:|")
    for setting in args.settings:
        cells = {r["busy"]: r for r in runs if r["n_threads"] == setting}
        row = [f"{cells[b]['seconds']:.1f} s ({cells[b]['ratio_to_quiet']:.2f}x)"
               if b in cells else "" for b in (0, 1, 2)]  # fmt: skip
        print(f"| {setting} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
