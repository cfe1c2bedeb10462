"""Where a real-vs-synthetic detector finds the synthetic rows, and what the row critic can see.

Diagnostics of synthetic tables against their training rows (docs/training.md, "The row critic
reads each value's rank", and docs/benchmarks.md for ``labels``):

* ``columns``: HistGradientBoosting's 3-fold ROC AUC on each column alone, then (tables of at
  most 14 columns) on each pair, and on all columns but one;
* ``critic``: an MLP of the row critic's shape (256, 256) on the encoded rows alone, and with
  each binned column's normal score beside them, held-out ROC AUC;
* ``compositions``: the groups of integer columns that are parts of one whole, and what keeping
  each synthetic row's sums within the training range changes in tables made without it (the
  share of rows moved, and each group's sums after the move against the training rows', with
  their total variation distance, and the test rows' for scale);
* ``labels``: the utility model (synthgan.evaluate's HistGradientBoosting) fitted on the
  training rows, then scored on the test rows' target and on each synthetic table's own target
  (ROC AUC, R^2 for a number). Rows drawn from the population score about what the test rows
  score; a table scored well above them carries the training rows' own label noise (the fitted
  model has learnt it), one scored below carries labels less tied to the other columns than
  real ones are;
* ``learners``: (classification tables) each table -- the training rows, then each synthetic
  table -- trains several learners, scored on the test rows (ROC AUC): HistGradientBoosting at
  its defaults, with 4 leaves a tree and with depth 3, a logistic regression, and the default
  HistGradientBoosting on the table's rows relabelled by a model fitted on the training rows
  (a logistic regression; HistGradientBoosting with 4 leaves a tree, whose labels hold
  interactions): a label drawn from a real conditional, so what is left is what the features
  carry;
* ``curated``: (classification tables) each synthetic table as it is, then with the rows a
  classifier fitted on the training rows finds atypical of their label taken out (a row of class
  c is kept when the classifier's probability of c is at least c's share of the training rows:
  the sampler's curation at ``curation_threshold=1``, its default until 1452d5f, docs/augment.md;
  by a logistic regression and by HistGradientBoosting with 4 leaves a tree), then with the
  fifth of its positive rows the second classifier finds least typical taken out; each beside
  as many rows taken out at random; last ("ties matched"), as few of the least typical positive
  rows taken out as bring a classifier's ROC AUC on the synthetic rows' own labels up to its
  ROC AUC on a held-out fifth of the training rows (it is fitted on the other four fifths), none
  where it is there already (these ROC AUCs, the label ties, go to stderr: the held-out fifth's,
  the test rows' and each table's). Every variant scored by bench_quality's code path (needs
  the peers' environment, for SDMetrics).

    .venv/bin/python benchmarks/diag_detection.py columns diamonds \\
        benchmarks/results/quality/synthgan/diamonds_seed0.parquet
    .venv/bin/python benchmarks/diag_detection.py critic diamonds <synthetic.parquet>
    .venv/bin/python benchmarks/diag_detection.py labels caravan \\
        benchmarks/results/quality/synthgan/caravan_seed*.parquet
    .venv/bin/python benchmarks/diag_detection.py learners caravan \\
        benchmarks/results/quality/synthgan_comp/caravan_seed*.parquet
    /work/peers-venv/bin/python benchmarks/diag_detection.py curated caravan \\
        benchmarks/results/quality/synthgan_sums/caravan_seed*.parquet

The figures in docs/training.md were read off the previous defaults' tables, at 579d179
(``git show 579d179:benchmarks/results/quality/synthgan/diamonds_seed0.parquet > d.parquet``).
"""

from __future__ import annotations

import argparse
import itertools
import json
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


def _without_ids(table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A table's (train, test) split without its id columns."""
    spec = bench_quality.TABLES[table]
    train, test = bench_quality.load_split(table)
    keep = [c for c in train.columns if c not in spec.id_columns]
    return train[keep], test[keep]


def _classification_table(command: str, table: str):
    """A classification table's spec, (train, test) without id columns, positive class and
    one-hot encoder (``_one_hot_features``); a numeric target stops ``command`` with a message."""
    spec = bench_quality.TABLES[table]
    if spec.task != "classification":
        raise SystemExit(f"{command}: {table} has a numeric target; give a classification table")
    train, test = _without_ids(table)
    return (spec, train, test, *_one_hot_features(train, test, spec.target))


def _one_hot_features(train: pd.DataFrame, test: pd.DataFrame, target: str):
    """The positive class as synthgan.evaluate scores a binary target (the test rows' less
    frequent) and an encoder of rows' other columns to one-hot on the training rows' columns."""
    positive = test[target].value_counts().idxmin()
    others = [c for c in train.columns if c != target]
    columns = pd.get_dummies(train[others]).columns

    def encoded(rows: pd.DataFrame) -> pd.DataFrame:
        return pd.get_dummies(rows[others]).reindex(columns=columns, fill_value=0).astype(float)

    return positive, encoded


def _labelled(train: pd.DataFrame, rows: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Up to 10,000 training rows and as many synthetic ones (strings as categories), and their
    labels (1: synthetic), for a real-vs-synthetic classifier."""
    n = min(len(train), len(rows), 10_000)
    frame = pd.concat([train.sample(n, random_state=0), rows.sample(n, random_state=0)],
                      ignore_index=True)  # fmt: skip
    for name in frame:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            frame[name] = frame[name].astype("category")
    return frame, np.r_[np.zeros(n), np.ones(n)]


def columns(table: str, synthetic: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_score

    frame, labels = _labelled(*_tables(table, synthetic))

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


def labels(table: str, synthetics: list[Path]) -> None:
    from synthgan.evaluate.utility import utility_scores
    from synthgan.schema import infer_schema

    spec = bench_quality.TABLES[table]
    train, test = _without_ids(table)
    keep = list(train.columns)
    schema = infer_schema(test)  # one schema, so that every call fits the same model
    metric = "r2" if spec.task == "regression" else "roc_auc"

    def score(rows: pd.DataFrame) -> float:
        return utility_scores(train, rows, spec.target, task=spec.task, schema=schema)[metric]

    print(f"{table}: the utility model fitted on the training rows, {metric} of {spec.target}")
    print(f"  training rows (its own fit)   {score(train):.3f}")
    print(f"  test rows                     {score(test):.3f}")
    for path in synthetics:
        rows, _ = bench_quality.aligned(pd.read_parquet(path), train, spec.id_columns)
        print(f"  {str(path):<29s} {score(rows[keep]):.3f}")


RELABEL_DRAWS = 10
"""Label draws averaged by ``learners``' relabelled columns (one draw moves ROC AUC by 0.02)."""


def learners(table: str, synthetics: list[Path]) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    spec, train, test, positive, encoded = _classification_table("learners", table)
    test_x, test_y = encoded(test), (test[spec.target] == positive).to_numpy()

    def logistic():
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))

    learners = {
        "hgb": lambda: HistGradientBoostingClassifier(random_state=0),
        "hgb 4 leaves": lambda: HistGradientBoostingClassifier(max_leaf_nodes=4, random_state=0),
        "hgb depth 3": lambda: HistGradientBoostingClassifier(max_depth=3, random_state=0),
        "logistic": logistic,
    }
    real_conditionals = [  # labels drawn from these, fitted on the training rows
        make().fit(encoded(train), train[spec.target] == positive)
        for make in (learners["logistic"], learners["hgb 4 leaves"])
    ]
    rng = np.random.default_rng(0)
    print(f"{table}: ROC AUC of {spec.target} == {positive!r} on the test rows, trained on")
    columns = [*learners, "relab. LR", "relab. HGB"]
    print(f"  {'':<36s} " + " ".join(f"{name:>12s}" for name in columns))
    sources = [("training rows", train)]
    for path in synthetics:
        rows, _ = bench_quality.aligned(pd.read_parquet(path), train, spec.id_columns)
        sources.append((f"{path.parent.name}/{path.stem}", rows))
    for name, rows in sources:
        x, y = encoded(rows), (rows[spec.target] == positive).to_numpy()
        fits = [make().fit(x, y) for make in learners.values()]
        scores = [roc_auc_score(test_y, model.predict_proba(test_x)[:, 1]) for model in fits]
        for conditional in real_conditionals:  # the mean of RELABEL_DRAWS draws of the labels
            chance = conditional.predict_proba(x)[:, 1]
            draws = [
                HistGradientBoostingClassifier(random_state=0).fit(x, rng.random(len(x)) < chance)
                for _ in range(RELABEL_DRAWS)
            ]
            draw_scores = [roc_auc_score(test_y, m.predict_proba(test_x)[:, 1]) for m in draws]
            scores.append(np.mean(draw_scores))
        print(f"  {name:<36s} " + " ".join(f"{score:12.3f}" for score in scores))


LEAST_TYPICAL_POSITIVES = 0.2
"""The share of a table's positive rows that ``curated``'s "least typical fifth" takes out."""


def _positives_to_match(y: np.ndarray, chance: np.ndarray, tie: float) -> np.ndarray:
    """The fewest least typical positive rows (lowest ``chance``) whose removal brings the ROC
    AUC of ``chance`` against ``y`` up to ``tie``: none when it is there already, at most half
    of the positives."""
    from sklearn.metrics import roc_auc_score

    positives = np.flatnonzero(y)
    order = positives[np.argsort(chance[positives])]
    low, high = 0, len(positives) // 2
    while low < high:  # the AUC rises as the least typical positives go
        middle = (low + high) // 2
        keep = np.ones(len(y), dtype=bool)
        keep[order[:middle]] = False
        if roc_auc_score(y[keep], chance[keep]) >= tie:
            high = middle
        else:
            low = middle + 1
    return order[:low]


def curated(table: str, synthetics: list[Path]) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    spec, train, test, positive, encoded = _classification_table("curated", table)
    base_rate = float((train[spec.target] == positive).mean())
    classifiers = {  # fitted on the training rows, as the sampler's curation is
        "logistic": make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=5000)),
        "hgb 4 leaves": HistGradientBoostingClassifier(max_leaf_nodes=4, random_state=0),
    }
    for classifier in classifiers.values():
        classifier.fit(encoded(train), train[spec.target] == positive)
    # how tightly real labels follow the features: a classifier fitted on four fifths of the
    # training rows, its ROC AUC on the other fifth (what "ties matched" brings the rows to)
    held = train.sample(frac=0.2, random_state=0)
    fitted = train.drop(index=held.index)
    matcher = HistGradientBoostingClassifier(max_leaf_nodes=4, random_state=0)
    matcher.fit(encoded(fitted), fitted[spec.target] == positive)

    def tie(rows: pd.DataFrame) -> float:
        chance = matcher.predict_proba(encoded(rows))[:, 1]
        return roc_auc_score(rows[spec.target] == positive, chance)

    real_tie = tie(held)
    print(f"{table}: label tie (ROC AUC of the classifier fitted on four fifths of the training "
          f"rows) on the held-out fifth {real_tie:.3f}, on the test rows {tie(test):.3f}",
          file=sys.stderr)  # fmt: skip
    rng = np.random.default_rng(0)

    def show(source: str, variant: str, rows: pd.DataFrame) -> None:
        figures = bench_quality.score(rows, train, test, spec, threads=1)
        record = {"table": table, "synthetic": source, "variant": variant, "rows": len(rows)}
        record.update({k: round(float(figures[k]), 4) for k in bench_quality.FIGURES})
        print(json.dumps(record), flush=True)

    for path in synthetics:
        rows, _ = bench_quality.aligned(pd.read_parquet(path), train, spec.id_columns)
        rows = rows[list(train.columns)].reset_index(drop=True)
        source, y = f"{path.parent.name}/{path.stem}", (rows[spec.target] == positive).to_numpy()
        show(source, "as it is", rows)
        features = encoded(rows)
        chances = {name: c.predict_proba(features)[:, 1] for name, c in classifiers.items()}
        for name, chance in chances.items():
            kept = np.where(y, chance >= base_rate, 1 - chance >= 1 - base_rate)
            show(source, f"curated by {name}", rows[kept])
            show(source, f"as many rows taken at random ({name})",
                 rows.iloc[np.sort(rng.choice(len(rows), kept.sum(), replace=False))])
        positives = np.flatnonzero(y)
        out = int(LEAST_TYPICAL_POSITIVES * len(positives))
        least = positives[np.argsort(chances["hgb 4 leaves"][positives])[:out]]
        show(source, "least typical fifth of positives out", rows.drop(index=least))
        show(source, "a fifth of positives out at random",
             rows.drop(index=rng.choice(positives, out, replace=False)))
        matched = matcher.predict_proba(features)[:, 1]
        print(f"{source}: label tie {roc_auc_score(y, matched):.3f}", file=sys.stderr)
        out = _positives_to_match(y, matched, real_tie)
        show(source, f"ties matched: {len(out)} least typical positives out", rows.drop(index=out))


def copies(table: str, synthetics: list[Path]) -> None:
    from synthgan.evaluate._columns import row_keys
    from synthgan.schema import infer_schema

    spec = bench_quality.TABLES[table]
    train, test = _without_ids(table)
    keep = list(train.columns)
    schema = infer_schema(train)
    widest = max(keep, key=lambda c: train[c].nunique())
    others = [c for c in keep if c != widest]

    def keys(frame: pd.DataFrame, names: list[str], name: str) -> np.ndarray:
        # rows equal as the evaluator's exact_copy_rate counts them (nulls equal, numbers as floats)
        return row_keys(schema, names, frame, name)

    train_keys, test_keys = keys(train, keep, "training"), keys(test, keep, "test")
    train_others, test_others = keys(train, others, "training"), keys(test, others, "test")
    for path in synthetics:
        rows, _ = bench_quality.aligned(pd.read_parquet(path), train, spec.id_columns)
        rows = rows[keep]
        row_key, row_other = keys(rows, keep, str(path)), keys(rows, others, str(path))
        copied = np.flatnonzero(np.isin(row_key, train_keys))
        print(f"{path}: {len(copied)} of {len(rows)} rows equal a training row")
        for i in copied:
            row = rows.iloc[i]
            print(f"  {row.to_dict()}")
            print(f"    equal rows: training {(train_keys == row_key[i]).sum()},"
                  f" test {(test_keys == row_key[i]).sum()}; on every column but {widest}:"
                  f" training {(train_others == row_other[i]).sum()},"
                  f" test {(test_others == row_other[i]).sum()}; training rows with {widest} ="
                  f" {row[widest]}: {int((train[widest] == row[widest]).sum())}")  # fmt: skip


def _detection(train: pd.DataFrame, rows: pd.DataFrame, sums: dict | None) -> float:
    """HistGradientBoosting's 3-fold ROC AUC telling rows from training rows, on every column,
    or on each group's row sum alone (``sums``: name -> [columns])."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_score

    frame, labels = _labelled(train, rows)
    if sums is not None:
        frame = pd.DataFrame({name: frame[cols[0]].sum(axis=1) for name, cols in sums.items()})
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    return float(cross_val_score(model, frame, labels, cv=3, scoring="roc_auc").mean())


def compositions(table: str, synthetics: list[Path]) -> None:
    """What keeping the parts of a whole within their range does to rows made without it: each
    synthetic table decoded again through a transformer fitted on the training rows."""
    from synthgan import TableTransformer

    spec = bench_quality.TABLES[table]
    train, test = bench_quality.load_split(table)
    train = train[[c for c in train.columns if c not in spec.id_columns]]
    transformer = TableTransformer(derive_columns=True, random_state=0).fit(train)

    def distance(rows: pd.DataFrame, names: list[str]) -> float:
        """Total variation distance of the group's sums in ``rows`` to the training rows'."""
        shares = [r[names].sum(axis=1).value_counts(normalize=True) for r in (train, rows)]
        return 0.5 * float(shares[0].sub(shares[1], fill_value=0.0).abs().sum())

    for group in transformer.compositions_:
        print(f"  {group.describe()}; the test rows' sums at distance "
              f"{distance(test, list(group.columns)):.3f} of the training rows'")
    for path in synthetics:
        rows, _ = bench_quality.aligned(pd.read_parquet(path), train, spec.id_columns)
        rows = rows[train.columns]
        moved = transformer.inverse_transform(transformer.transform(rows))
        changed = [(rows[list(g.columns)] != moved[list(g.columns)]).any(axis=1).to_numpy()
                   for g in transformer.compositions_]  # fmt: skip
        print(f"{path}: {np.mean(np.any(changed, axis=0)):.1%} of rows have a part moved "
              f"({min(map(np.mean, changed)):.1%} to {max(map(np.mean, changed)):.1%} a group)")
        sums = {f"sum{i}": [list(g.columns)] for i, g in enumerate(transformer.compositions_)}
        print(f"  a detector on the groups' sums alone: ROC AUC "
              f"{_detection(train, rows, sums):.3f}; on every column: "
              f"{_detection(train, rows, None):.3f}")
        print("  each group's sums after the move, total variation distance to the training "
              "rows': " + ", ".join(f"{distance(moved, list(g.columns)):.3f}"
                                    for g in transformer.compositions_))
        for group in transformer.compositions_:
            names = list(group.columns)
            shares = pd.DataFrame({
                "training": train[names].sum(axis=1).value_counts(normalize=True),
                "moved": moved[names].sum(axis=1).value_counts(normalize=True),
            }).fillna(0.0).sort_index()  # fmt: skip
            print(f"  sums of {names[0]}'s group, shares of rows:\n"
                  + shares.T.round(3).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["columns", "critic", "labels", "compositions", "learners",
                                         "copies", "curated"])
    parser.add_argument("table", choices=sorted(bench_quality.TABLES))
    parser.add_argument("synthetic", type=Path, nargs="+", help="synthetic table(s) (Parquet)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    several = {"labels": labels, "compositions": compositions, "learners": learners,
               "copies": copies, "curated": curated}  # fmt: skip
    if args.what in several:
        several[args.what](args.table, args.synthetic)
        return
    for path in args.synthetic:
        (columns if args.what == "columns" else critic)(args.table, path)


if __name__ == "__main__":
    main()
