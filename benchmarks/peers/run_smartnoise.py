"""Cached synthetic tables of smartnoise-synth's private synthesizers, for bench_privacy.py to score.

For each synthesizer, epsilon, table and seed: fit on the training split of bench_quality.py
(Adult's own train file; the other tables' fixed 70/30 split), time the fit, sample as many rows
as the training split, and save the table as Parquet with a JSON of the settings, versions and
seconds. Scoring happens later, in bench_privacy.py, by the same code as every other system.

Settings a user of smartnoise would pick: delta = min(1e-5, 1/(10 n)), synthgan's default;
numeric columns with more than 20 distinct values are ``continuous_columns`` (binned by
smartnoise's own transformer, whose bounds cost ``preprocessor_eps`` = 10% of epsilon, taken out
of the total), the rest ``categorical_columns``; ``nullable=True`` when the table has nulls.

smartnoise-synth pins opacus 0.14 while synthgan needs opacus >= 1.4, so this runs in its own
environment (made by ``setup_smartnoise_venv.sh`` beside this file):

    /work/sn-venv/bin/python benchmarks/peers/run_smartnoise.py --synths mst --epsilons 0.5 1 3 10
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/

import benchenv  # noqa: E402
from bench_privacy import column_roles, load_split, spec_of  # noqa: E402
from bench_quality import TABLES  # noqa: E402

RESULTS = benchenv.REPO_ROOT / "benchmarks" / "results" / "privacy"
PREPROCESSOR_SHARE = 0.1
SYNTHS = ("mst", "aim", "dpctgan", "patectgan")


def default_delta(n_rows: int) -> float:
    return min(1e-5, 1.0 / (10.0 * n_rows))


def run_one(synth: str, epsilon: float, table: str, seed: int, out_dir: Path) -> dict:
    import numpy as np
    import pandas as pd
    import torch
    from snsynth import Synthesizer

    spec = spec_of(table)
    train, _ = load_split(table)
    categorical, continuous = column_roles(train, spec.id_columns)
    data = train[categorical + continuous].copy()
    for column in categorical:  # smartnoise's label encoder wants plain values
        data[column] = data[column].astype(object).where(data[column].notna(), None)
    np.random.seed(seed)
    torch.manual_seed(seed)
    delta = default_delta(len(train))
    kwargs = {"epsilon": float(epsilon), "delta": delta}
    model = Synthesizer.create(synth, **kwargs)
    tick = time.perf_counter()
    model.fit(
        data,
        categorical_columns=categorical,
        continuous_columns=continuous,
        preprocessor_eps=PREPROCESSOR_SHARE * epsilon if continuous else 0.0,
        nullable=bool(data.isna().any().any()),
    )
    fit_seconds = time.perf_counter() - tick
    tick = time.perf_counter()
    synthetic = model.sample(len(train))
    sample_seconds = time.perf_counter() - tick
    synthetic = pd.DataFrame(synthetic, columns=categorical + continuous)
    out_dir.mkdir(parents=True, exist_ok=True)
    synthetic.to_parquet(out_dir / f"{table}_seed{seed}.parquet")
    record = {
        "system": f"smartnoise-{synth}",
        "table": table,
        "seed": seed,
        "epsilon": epsilon,
        "delta": delta,
        "preprocessor_eps": PREPROCESSOR_SHARE * epsilon if continuous else 0.0,
        "categorical_columns": categorical,
        "continuous_columns": continuous,
        "fit_seconds": fit_seconds,
        "sample_seconds": sample_seconds,
        "provenance": benchenv.provenance(
            {}, **{"smartnoise-synth": benchenv.version("smartnoise-synth")}
        ),
    }
    benchenv.write_json(out_dir / f"{table}_seed{seed}.fit.json", record)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synths", nargs="+", choices=SYNTHS, default=["mst"])
    parser.add_argument("--epsilons", nargs="+", type=float, default=[0.5, 1.0, 3.0, 10.0])
    parser.add_argument("--tables", nargs="+", choices=sorted([*TABLES, "adult8k"]), default=["adult"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--refit", action="store_true", help="Redo tables that exist.")
    args = parser.parse_args(argv)
    for synth in args.synths:
        for epsilon in args.epsilons:
            for table in args.tables:
                for seed in args.seeds:
                    out_dir = RESULTS / f"smartnoise-{synth}_eps{epsilon:g}"
                    if (out_dir / f"{table}_seed{seed}.parquet").exists() and not args.refit:
                        continue
                    try:
                        record = run_one(synth, epsilon, table, seed, out_dir)
                    except Exception as error:  # a peer failing is a result too
                        print(f"{synth} eps {epsilon:g} {table} seed {seed}: FAILED {error!r}")
                        failure = {"system": f"smartnoise-{synth}", "error": repr(error)}
                        out_dir.mkdir(parents=True, exist_ok=True)
                        (out_dir / f"{table}_seed{seed}.failed.json").write_text(
                            json.dumps(failure, indent=1)
                        )
                        continue
                    print(f"{synth} eps {epsilon:g} {table} seed {seed}: "
                          f"fit {record['fit_seconds']:.0f} s", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
