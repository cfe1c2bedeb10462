"""Conditioned rows against the real rows meeting the same conditions, three ways of making them.

* ``previous``: every row built through the condition vector, one draw per row in each of the
  row critic's 4 rounds (the behaviour before the model's own rows came first);
* ``copies``: every row built, a pending row drawing several copies per selection round;
* ``own rows first, 8``: the model's own selected rows that meet the conditions, from at most
  8 kept rows per wanted row, the rest built with copies;
* ``own rows first`` (the defaults): the same from at most 32 kept rows per wanted row.

The model is synthgan's defaults (seed 0, one thread) fitted on the table's training rows and
cached under /tmp. Each variant samples min(real rows meeting them, 5,000) rows (seed 1), scored
against the real training rows meeting the conditions by the evaluator: detection AUC, column
shapes, column pairs; and the seconds it took.

    .venv/bin/python benchmarks/bench_conditions.py diamonds '{"cut": "Premium"}' \\
        '{"color": "J"}' '{"carat": (1.5, 2.5)}' '{"clarity": "I1"}'
    .venv/bin/python benchmarks/bench_conditions.py adult '{"sex": "Female"}' \\
        '{"sex": "Female", "income": ">50K"}' '{"age": (30, 50)}' '{"age": 40}'
"""

from __future__ import annotations

import ast
import importlib
import sys
import time
from pathlib import Path

import bench_quality
import benchenv
import numpy as np

sys.path.insert(0, str(benchenv.REPO_ROOT))  # this checkout's synthgan, not an installed one
VARIANTS = {"previous": (1, 0), "copies": (64, 0), "own rows first, 8": (64, 8),
            "own rows first": (64, 32)}
"""name -> (MAX_SELECTION_COPIES, FILTER_BUDGET) of synthgan.model.conditioned."""


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    table, texts = argv[0], argv[1:]
    threads = benchenv.limit_threads(1)
    from synthgan import Synthesizer, load
    from synthgan.evaluate import evaluate

    conditioned = importlib.import_module("synthgan.model.conditioned")
    spec = bench_quality.TABLES[table]
    train, _ = bench_quality.load_split(table)
    real_all = train.drop(columns=list(spec.id_columns))
    path = Path(f"/tmp/synthgan-conditions-{table}-seed0.synthgan")
    if not path.exists():
        Synthesizer(random_state=0, n_threads=1, verbose=False).fit(real_all).save(path)
    model = load(path)
    results = []
    for text in texts:
        conditions = ast.literal_eval(text)
        mask = np.ones(len(real_all), bool)
        for name, value in conditions.items():
            column = real_all[name]
            mask &= (column.between(*value) if isinstance(value, tuple) else column == value).to_numpy()
        real = real_all[mask].reset_index(drop=True)
        n = min(len(real), 5000)
        print(f"{text}: {len(real)} real rows ({mask.mean():.3f}), {n} sampled", flush=True)
        for variant, (copies, budget) in VARIANTS.items():
            conditioned.MAX_SELECTION_COPIES, conditioned.FILTER_BUDGET = copies, budget
            start = time.perf_counter()
            rows = model.sample(n, conditions=conditions, random_state=1)
            seconds = time.perf_counter() - start
            scores = evaluate(real, rows, metrics=["detection_auc", "column_shapes",
                                                   "column_pairs"]).scores  # fmt: skip
            results.append({"conditions": text, "real_share": float(mask.mean()), "rows": n,
                            "variant": variant, "seconds": round(seconds, 2), **scores})  # fmt: skip
            print(f"  {variant:<15} {seconds:6.1f} s  "
                  + "  ".join(f"{k} {v:.3f}" for k, v in scores.items()), flush=True)  # fmt: skip
    payload = {"benchmark": "bench_conditions", "table": table, "results": results,
               "acceptance": model.selection_.get("acceptance") if model.selection_ else None,
               "provenance": benchenv.provenance(threads)}  # fmt: skip
    benchenv.write_json(benchenv.REPO_ROOT / f"benchmarks/results/conditions_{table}.json", payload)


if __name__ == "__main__":
    main()
