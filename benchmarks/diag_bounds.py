"""One lever on bench_quality's cached synthetic tables, without refitting: each numeric column's
smallest and largest synthetic value moved onto the training minimum and maximum, as
``Synthesizer.sample`` now does by default (docs/transform.md, "Bounds"). The same code moves
them (``TableTransformer.reach_bounds``, from a transformer fitted on the training split: the
bounds are the training minimum and maximum either way); both tables are scored by bench_quality's
one code path. One JSON line per table and seed.

    /work/peers-venv/bin/python benchmarks/diag_bounds.py --tables diamonds adult --seeds 0 1 2
    /work/peers-venv/bin/python benchmarks/diag_bounds.py --tables diamonds --tag synthgan_refine5
    /work/peers-venv/bin/python benchmarks/diag_bounds.py --tables diamonds --tag mostlyai-engine
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_quality  # noqa: E402
import pandas as pd  # noqa: E402

FIGURES = bench_quality.FIGURES


def main(argv: list[str] | None = None) -> int:
    from synthgan import TableTransformer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(bench_quality.SUITE),
                        choices=list(bench_quality.TABLES))  # fmt: skip
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tag", default="synthgan", help="results folder of the cached tables")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    for table in args.tables:
        spec = bench_quality.TABLES[table]
        train, test = bench_quality.load_split(table)
        keep = [c for c in train.columns if c not in spec.id_columns]  # the engine's lack them
        train, test = train[keep], test[keep]
        transformer = TableTransformer(random_state=0, derive_columns=True).fit(train)
        for seed in args.seeds:
            cached = bench_quality.RESULTS / args.tag / f"{table}_seed{seed}.parquet"
            synthetic, _ = bench_quality.aligned(pd.read_parquet(cached), train)
            line = {"table": table, "seed": seed, "tables": str(cached)}
            for variant, rows in (("as sampled", synthetic),
                                  ("bounds reached", transformer.reach_bounds(synthetic))):
                figures = bench_quality.score(rows, train, test, spec, threads=args.threads)
                line[variant] = {k: figures[k] for k in FIGURES}
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
