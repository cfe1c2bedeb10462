"""Issue 13's benchmarks (b) and (c) on this machine's CPUs; results JSON under benchmarks/results/.

(b) Training steps per second on Adult: one process (1 thread, and 2 threads) against two gloo
    processes of one thread each under torchrun (``synthgan fit --nproc 2``'s launch), the same
    global batch (500) and epochs. Steps are global steps (one optimiser update of every process).
(c) Sampling rows per second: one process (``sample_to_directory`` with 1 process), two local
    processes, and Spark ``local[2]`` (``synthgan.spark.sample`` written as Parquet), the same
    chunks and seed; wall time includes starting the workers.

The machine is shared: each result records the load average before and after; a load above
the core count means other sessions' processes ran beside the benchmark, and its figures are
then slower than the machine alone would give.

    python benchmarks/bench_scale_parallel.py --epochs 3 --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchenv  # noqa: E402

sys.path.insert(0, str(benchenv.REPO_ROOT))  # this checkout's synthgan, not an installed one

RESULTS = benchenv.REPO_ROOT / "benchmarks" / "results" / "scale_parallel.json"


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _fit_worker(args) -> None:
    """Under torchrun (or alone): one fit; rank 0 prints its facts as JSON."""
    benchenv.set_thread_env(1 if args.threads is None else args.threads)
    from synthgan.datasets import load_adult
    from synthgan.model.distributed import fit_in_group

    train, _ = load_adult()
    params = {"epochs": args.epochs, "random_state": 0, "device": "cpu", "verbose": False,
              "rejection": False, "n_threads": args.threads or 1}  # fmt: skip
    summary = fit_in_group(train, None, params)
    if summary["rank"] == 0:
        print("RESULT " + json.dumps(summary), flush=True)


def run_fit(epochs: int, processes: int, threads: int) -> dict:
    script = [str(Path(__file__).resolve()), "--fit-worker", "--epochs", str(epochs),
              "--threads", str(threads)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(benchenv.REPO_ROOT)}
    if processes == 1:
        command = [sys.executable, *script]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   f"--nproc-per-node={processes}", *script]  # fmt: skip
    before, start = load(), time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    wall = time.perf_counter() - start
    summary = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    steps = epochs * (summary["rows"] // 500)  # global batch 500: the same steps either way
    return {"processes": processes, "threads_per_process": threads, "epochs": epochs,
            "global_steps": steps, "fit_seconds": round(summary["fit_seconds"], 2),
            "steps_per_second": round(steps / summary["fit_seconds"], 2),
            "wall_seconds_with_start": round(wall, 1), "load_before": before,
            "load_after": load()}  # fmt: skip


def sampling(rows: int, chunk_rows: int, with_spark: bool) -> list[dict]:
    from synthgan import Synthesizer
    from synthgan.datasets import load_adult
    from synthgan.model.partitions import sample_to_directory

    train, _ = load_adult()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(tmp) / "adult.synthgan"
        Synthesizer(epochs=1, random_state=0, device="cpu", verbose=False).fit(train).save(model_path)

        def timed(name, make):
            before, start = load(), time.perf_counter()
            make()
            seconds = time.perf_counter() - start
            results.append({"how": name, "rows": rows, "chunk_rows": chunk_rows,
                            "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds),
                            "load_before": before, "load_after": load()})  # fmt: skip
            print(results[-1], flush=True)

        for processes in (1, 2):
            timed(f"local, {processes} process(es)", lambda p=processes: sample_to_directory(
                model_path, Path(tmp) / f"local{p}", rows, random_state=0,
                chunk_rows=chunk_rows, processes=p))  # fmt: skip
        if with_spark:
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ["PYTHONPATH"] = str(benchenv.REPO_ROOT)
            from pyspark.sql import SparkSession

            from synthgan import spark as synthgan_spark

            spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
                     .config("spark.driver.host", "127.0.0.1").getOrCreate())  # fmt: skip
            try:
                timed("Spark local[2] (mapInPandas, written as Parquet)", lambda: (
                    synthgan_spark.sample(spark, model_path, rows, random_state=0,
                                          chunk_rows=chunk_rows)
                    .write.parquet(str(Path(tmp) / "spark"))))  # fmt: skip
            finally:
                spark.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--fit-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit_worker:
        _fit_worker(args)
        return
    benchenv.set_thread_env(1)
    threads = benchenv.limit_threads(1)
    training = [run_fit(args.epochs, 1, 1), run_fit(args.epochs, 1, 2),
                run_fit(args.epochs, 2, 1)]  # fmt: skip
    for row in training:
        print(row, flush=True)
    sampled = sampling(args.rows, args.chunk_rows, not args.no_spark)
    busy = max(max(r["load_before"][0], r["load_after"][0]) for r in training + sampled)
    payload = {
        **benchenv.provenance(threads),
        "training_adult": training,
        "sampling_adult": sampled,
        "machine_busy": busy > benchenv.machine()["nproc"],
        "note": "load averages above the core count: other sessions' processes shared the "
        "cores, so every figure here is slower than the machine alone would give",
    }
    benchenv.write_json(RESULTS, payload)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
