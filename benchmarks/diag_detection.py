"""Where a real-vs-synthetic detector finds the synthetic rows, and what the row critic can see.

Two diagnostics of one synthetic table against its training rows (docs/training.md, "The row
critic reads each value's rank"):

* ``columns``: HistGradientBoosting's 3-fold ROC AUC on each column alone, then (tables of at
  most 14 columns) on each pair, and on all columns but one;
* ``critic``: an MLP of the row critic's shape (256, 256) on the encoded rows alone, and with
  each binned column's normal score beside them, held-out ROC AUC.

    .venv/bin/python benchmarks/diag_detection.py columns diamonds \\
        benchmarks/results/quality/synthgan/diamonds_seed0.parquet
    .venv/bin/python benchmarks/diag_detection.py critic diamonds <synthetic.parquet>

The figures in docs/training.md were read off the previous defaults' tables, at 579d179
(``git show 579d179:benchmarks/results/quality/synthgan/diamonds_seed0.parquet > d.parquet``).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_quality  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def _tables(table: str, synthetic: Path):
    spec = bench_quality.TABLES[table]
    train, _ = bench_quality.load_split(table)
    rows, _ = bench_quality.aligned(pd.read_parquet(synthetic), train, spec.id_columns)
    keep = [c for c in train.columns if c not in spec.id_columns]
    return train[keep], rows[keep]


def columns(table: str, synthetic: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_score

    train, rows = _tables(table, synthetic)
    n = min(len(train), len(rows), 10_000)
    frame = pd.concat([train.sample(n, random_state=0), rows.sample(n, random_state=0)],
                      ignore_index=True)  # fmt: skip
    for name in frame:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            frame[name] = frame[name].astype("category")
    labels = np.r_[np.zeros(n), np.ones(n)]

    def auc(names) -> float:
        model = HistGradientBoostingClassifier(categorical_features="from_dtype")
        return cross_val_score(model, frame[names], labels, cv=3, scoring="roc_auc").mean()

    names = list(frame.columns)
    print(f"all columns {auc(names):.3f}")
    single = {name: auc([name]) for name in names}
    for name, value in sorted(single.items(), key=lambda t: -t[1]):
        print(f"  {name}: {value:.3f}")
    if len(names) <= 14:
        pairs = {pair: auc(list(pair)) for pair in itertools.combinations(names, 2)}
        for (a, b), value in sorted(pairs.items(), key=lambda t: -t[1])[:12]:
            print(f"  {a} with {b}: {value:.3f} (beyond the better alone: "
                  f"{value - max(single[a], single[b]):+.3f})")  # fmt: skip
        for name in names:
            print(f"  all but {name}: {auc([c for c in names if c != name]):.3f}")


def critic(table: str, synthetic: Path) -> None:
    import torch
    from sklearn.metrics import roc_auc_score
    from sklearn.neural_network import MLPClassifier

    from synthgan import TableTransformer
    from synthgan.model.selection import RankFeatures

    train, rows = _tables(table, synthetic)
    transformer = TableTransformer(quantile_knots=1000, quantile_bins=32, random_state=0)
    transformer.fit(train)
    ranks = RankFeatures.of(transformer)
    n = min(len(train), len(rows), 15_000)
    real, fake = train.sample(n, random_state=1), rows.sample(n, random_state=1)
    rng = np.random.default_rng(0)
    encoded = [torch.as_tensor(transformer.transform(part, rng=rng)) for part in (real, fake)]
    labels = np.r_[np.ones(n), np.zeros(n)]
    order = np.random.default_rng(0).permutation(2 * n)
    cut = int(0.8 * len(order))
    for name, inputs in (("encoding", lambda x: x), ("encoding + normal scores", ranks)):
        features = torch.cat([inputs(part) for part in encoded]).numpy()
        model = MLPClassifier((256, 256), early_stopping=True, random_state=0, max_iter=60)
        model.fit(features[order[:cut]], labels[order[:cut]])
        held = model.predict_proba(features[order[cut:]])[:, 1]
        print(f"{name} ({features.shape[1]} inputs): held-out ROC AUC "
              f"{roc_auc_score(labels[order[cut:]], held):.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["columns", "critic"])
    parser.add_argument("table", choices=sorted(bench_quality.TABLES))
    parser.add_argument("synthetic", type=Path, help="a synthetic table (Parquet)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    (columns if args.what == "columns" else critic)(args.table, args.synthetic)


if __name__ == "__main__":
    main()
