"""Fit seconds and scores of synthgan's defaults on each device of one machine, side by side.

    python benchmarks/bench_device.py --devices cuda cpu --tables adult --seed 0 \
        --out benchmarks/results/device_h200.json

Each (table, device) pair fits the defaults (plus ``--set key=value``), samples as many rows as
the training split has and scores them with synthgan's evaluator against the test split
(detection, utility, DCR share, exact copies): no SDMetrics, so it runs wherever synthgan does.
Fit seconds on a GPU include its warm-up (the first CUDA call is made before the clock starts).
Results are appended to ``--out`` as they come, so a run cut short keeps what it finished.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchenv  # noqa: E402
from bench_fit import parse_overrides  # noqa: E402
from bench_quality import TABLES, load_split  # noqa: E402


def device_name(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"{benchenv.machine()['cpu_model']}, {os.cpu_count()} logical CPUs"


def run_one(table: str, device: str, seed: int, overrides: dict) -> dict:
    import torch

    from synthgan import Synthesizer, evaluate

    spec = TABLES[table]
    train, test = load_split(table)
    keep = [c for c in train.columns if c not in spec.id_columns]
    if device.startswith("cuda"):
        torch.zeros(1, device=device).sum().item()  # the CUDA context, outside the clock
    model = Synthesizer(random_state=seed, verbose=False, device=device, **overrides)
    tick = time.perf_counter()
    model.fit(train)
    fit_seconds = time.perf_counter() - tick
    tick = time.perf_counter()
    synthetic = model.sample(len(train), random_state=seed)
    sample_seconds = time.perf_counter() - tick
    report = evaluate(train[keep], synthetic[keep], holdout=test[keep], target=spec.target,
                      random_state=0)  # fmt: skip
    scores = report.scores
    return {
        "table": table,
        "device": device,
        "device_name": device_name(device),
        "seed": seed,
        "settings": overrides,
        "fit_seconds": fit_seconds,
        "sample_seconds": sample_seconds,
        "epochs_trained": getattr(model, "epochs_trained_", None),
        "peak_gpu_mb": (torch.cuda.max_memory_allocated(device) / 2**20
                        if device.startswith("cuda") else None),  # fmt: skip
        "utility_synthetic": scores.get("utility_synthetic"),
        "utility_real": scores.get("utility_real"),
        "detection_auc": scores.get("detection_auc"),
        "dcr_share": scores.get("dcr_share"),
        "exact_copies": round(scores.get("exact_copy_rate", math.nan) * len(synthetic)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", nargs="+", default=["cuda", "cpu"])
    parser.add_argument("--tables", nargs="+", default=["adult"], choices=sorted(TABLES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, required=True, help="JSON file the runs go to")
    args = parser.parse_args(argv)
    overrides = parse_overrides(args.overrides)

    import torch

    header = benchenv.provenance({"torch": torch.get_num_threads()}, cuda=torch.version.cuda)
    runs = []
    for table in args.tables:
        for device in args.devices:
            record = run_one(table, device, args.seed, overrides)
            runs.append(record)
            benchenv.write_json(args.out, {**header, "runs": runs})
            print(f"{table} on {device} ({record['device_name']}): fit "
                  f"{record['fit_seconds']:.1f} s ({record['epochs_trained']} epochs), sample "
                  f"{record['sample_seconds']:.1f} s, detection {record['detection_auc']:.3f}, "
                  f"utility {record['utility_synthetic']:.3f}, DCR share "
                  f"{record['dcr_share']:.3f}, copies {record['exact_copies']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
