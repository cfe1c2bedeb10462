"""Quality against training length: one synthgan fit, scored after each stretch of epochs.

Fits ``--start`` epochs, samples as many rows as the training table and scores them as
bench_quality.py does (synthgan's evaluator and SDMetrics' QualityReport), then trains on with
``partial_fit`` to each later checkpoint and scores again. The rejection sampler's classifier is
refitted at every checkpoint, as a fit of that length would; its held-out loss (what a stopping
rule inside the fit could read) is recorded beside the scores. Fit seconds are cumulative (a
model fitted for N epochs in one go takes about what the checkpoint at N shows).

    /work/peers-venv/bin/python benchmarks/bench_epochs.py --table adult --seed 0 \\
        --checkpoints 30 40 50 60 80 > benchmarks/results/epochs_adult_seed0.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchenv  # noqa: E402
from bench_fit import parse_overrides  # noqa: E402
from bench_quality import TABLES, aligned, load_split, score  # noqa: E402

KEYS = ("sdmetrics_quality", "sdmetrics_column_shapes", "sdmetrics_column_pair_trends",
        "utility_synthetic", "detection_auc", "dcr_share", "exact_copies")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="adult", choices=sorted(TABLES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[30, 40, 50, 60, 80])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    threads = benchenv.limit_threads(args.threads)
    benchenv.set_thread_env(args.threads)
    from synthgan import Synthesizer

    spec = TABLES[args.table]
    train, test = load_split(args.table)
    overrides = parse_overrides(args.overrides)
    checkpoints = sorted(args.checkpoints)
    model = Synthesizer(random_state=args.seed, verbose=False, epochs=checkpoints[0],
                        n_threads=args.threads, **overrides)  # fmt: skip
    rows, fit_seconds, done = [], 0.0, 0
    for epochs in checkpoints:
        model.epochs = epochs - done
        tick = time.perf_counter()
        model.fit(train) if done == 0 else model.partial_fit(train)
        fit_seconds += time.perf_counter() - tick
        done = epochs
        synthetic, _ = aligned(model.sample(len(train), random_state=args.seed), train,
                               spec.id_columns)  # fmt: skip
        figures = score(synthetic, train, test, spec, threads=args.threads)
        selection = model.selection_ or {}
        # what the fit itself sees at this length: the rejection sampler's first critic on the
        # training rows against the generator's (held-out fifth; log 2 = cannot tell them apart)
        row = {"epochs": epochs, "fit_seconds": round(fit_seconds, 1),
               **{k: figures[k] for k in KEYS},
               "critic_held_out_loss": selection.get("held_out_loss"),
               "acceptance": selection.get("acceptance")}  # fmt: skip
        print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in row.items()), file=sys.stderr, flush=True)  # fmt: skip
        rows.append(row)
    json.dump({"table": args.table, "seed": args.seed, "overrides": args.overrides,
               "provenance": benchenv.provenance(threads), "checkpoints": rows},
              sys.stdout, indent=1)  # fmt: skip
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
