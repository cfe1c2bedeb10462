"""Two ways of sampling one fitted model, without refitting it, scored by bench_quality's code.

* ``--temperatures``: each one-hot span's logits divided by ``T`` before the draw (``T < 1``
  sharpens every column's draw given the generator's noise, so columns drawn from one noise vector
  agree more; ``T = 1`` is ``sample()`` as shipped). The selection's factors were fitted at
  ``T = 1`` and are not refitted. synthgan has no temperature parameter: the draw is patched here
  (``OutputActivation.draw``) for this diagnostic only.
* ``--by-class``: the target's classes in their training shares, each class's rows sampled with
  the target conditioned on it (``sample(n, conditions={target: value})``), shuffled together:
  features given the label, which training-by-sampling trains directly, instead of the label
  drawn beside the features.

The model is fitted once per table and seed with the defaults (as bench_quality fits it) and
kept in ``--models``; one JSON line per sampling is printed and appended to ``--output``.

    /work/peers-venv/bin/python benchmarks/diag_sampling.py --tables caravan --seeds 0 \\
        --temperatures 1 0.8 0.6 0.4 1.25 1.5 --by-class
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_quality  # noqa: E402

FIGURES = bench_quality.FIGURES


def fitted(table: str, seed: int, train, folder: Path):
    from synthgan import Synthesizer

    path = folder / f"{table}_seed{seed}.synthgan"
    if path.is_file():
        return Synthesizer.load(path), None
    tick = time.perf_counter()
    model = Synthesizer(random_state=seed, verbose=False).fit(train)
    seconds = time.perf_counter() - tick
    model.save(path)
    return model, seconds


def at_temperature(model, n: int, seed: int, temperature: float):
    from synthgan.model import networks

    shipped = networks.OutputActivation.draw

    def draw(self, raw, generator):
        for start, stop in self.span_index.softmax_bounds:
            raw[start:stop].mul_(1.0 / temperature)
        return shipped(self, raw, generator)

    networks.OutputActivation.draw = draw
    try:
        return model.sample(n, random_state=seed)
    finally:
        networks.OutputActivation.draw = shipped


def by_class(model, train, target: str, seed: int):
    import pandas as pd

    parts = [
        model.sample(round(share * len(train)), conditions={target: value},
                     random_state=seed * 100 + i)  # fmt: skip
        for i, (value, share) in enumerate(train[target].value_counts(normalize=True).items())
    ]
    return pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=seed)


def samplings(model, train, spec, seed: int, args):
    """(name, synthetic table) for each sampling asked for, drawn one at a time."""
    for temperature in args.temperatures:
        yield f"T={temperature:g}", at_temperature(model, len(train), seed, temperature)
    if args.by_class and spec.task == "classification":
        yield "by class", by_class(model, train, spec.target, seed)


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=["caravan"],
                        choices=list(bench_quality.TABLES))  # fmt: skip
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--temperatures", type=float, nargs="*", default=[1.0])
    parser.add_argument("--by-class", action="store_true",
                        help="also sample class by class (classification targets)")  # fmt: skip
    parser.add_argument("--models", type=Path, default=Path("diag_sampling_models"))
    parser.add_argument("--output", type=Path, default=Path("diag_sampling.jsonl"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.models.mkdir(parents=True, exist_ok=True)
    for table in args.tables:
        spec = bench_quality.TABLES[table]
        train, test = bench_quality.load_split(table)
        for seed in args.seeds:
            model, fit_seconds = fitted(table, seed, train, args.models)
            for name, drawn in samplings(model, train, spec, seed, args):
                synthetic, _ = bench_quality.aligned(drawn, train, spec.id_columns)
                scores = bench_quality.score(synthetic, train, test, spec, threads=args.threads)
                row = {"table": table, "seed": seed, "sampling": name, "fit_seconds": fit_seconds,
                       **{k: scores.get(k) for k in FIGURES}}  # fmt: skip
                print(json.dumps(row), flush=True)
                with args.output.open("a") as out:
                    out.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
