"""Does sampling in bfloat16 change quality? One fitted model on Adult, sampled both ways.

``sample_precision="auto"`` runs the generator in bfloat16 on CPUs with native bfloat16 matrix
units. This fits one model (``--epochs``, default 30) and samples the same seeded rows with
``"float32"`` and ``"bfloat16"``, then scores both with the same code as bench_fit.py: utility
(train-on-synthetic ROC AUC on Adult test), column shapes and pairs, detection AUC; and the
rows per second of each (200,000 rows, best of 3).

    OMP_NUM_THREADS=1 python3 benchmarks/bench_sample_precision.py \\
        --output benchmarks/results/sample_precision_adult.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchenv  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--output", type=Path, default=HERE / "results" / "sample_precision_adult.json"
    )
    args = parser.parse_args()
    benchenv.set_thread_env(args.threads)
    threads = benchenv.limit_threads(args.threads)

    import torch

    from synthgan import Synthesizer, evaluate
    from synthgan.datasets import load_adult
    from synthgan.evaluate import utility_scores
    from synthgan.model.runtime import native_bfloat16

    train, test = load_adult()
    model = Synthesizer(epochs=args.epochs, random_state=0, verbose=False, device="cpu").fit(train)
    result = {"benchmark": "sample_precision_adult", **benchenv.provenance(threads),
              "epochs": args.epochs, "native_bfloat16": native_bfloat16(torch.device("cpu")),
              "results": {}}  # fmt: skip
    for precision in ("float32", "bfloat16"):
        model.set_params(sample_precision=precision)
        model.sample(5000, random_state=9)  # warm-up
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            rows = model.sample(200_000, random_state=3)
            best = min(best, time.perf_counter() - start)
        synthetic = rows.iloc[: len(train)]
        scores = evaluate(train, synthetic, holdout=None, target=None, random_state=0).scores
        result["results"][precision] = {
            "rows_per_second": 200_000 / best,
            "utility_roc_auc": utility_scores(synthetic, test, "income")["roc_auc"],
            **{k: scores[k] for k in ("column_shapes", "column_pairs", "detection_auc")},
        }
        print(precision, result["results"][precision], flush=True)
    benchenv.write_json(args.output, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
