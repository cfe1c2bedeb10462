"""Does oversampling with synthgan help a classifier? 5-fold cross-validation on Adult.

Datasets (both from the bundled Adult train split, target ``income``, minority class ``>50K``):

* ``adult``: the 32,561 rows as they are (24% ``>50K``);
* ``adult_imbalanced``: ``>50K`` subsampled with ``imblearn.datasets.make_imbalance`` so that it
  is 5% of the rows (all 24,720 ``<=50K`` rows, 1,301 ``>50K`` rows, seed 0).

Methods, each inside ``imblearn.pipeline.make_pipeline(sampler, classifier)`` and fitted on the
training folds only (the sampler never sees the test fold):

* ``real``: no sampler;
* ``smotenc``: ``imblearn.over_sampling.SMOTENC`` on the categorical columns, defaults
  (``sampling_strategy="auto"``: the minority grown to the majority's count);
* ``synthgan``: ``synthgan.augment.SyntheticOverSampler`` with the default template
  (batch_size 500, pac 10, 256x256 networks) and ``--epochs`` epochs (default 10), same
  ``sampling_strategy="auto"``.

The classifier is synthgan's fixed utility model (``synthgan.evaluate.make_utility_model``:
HistGradientBoosting, scikit-learn's default hyperparameters, no early stopping, random_state 0),
the same for every method. Folds: ``StratifiedKFold(5, shuffle=True, random_state=0)``. Scores on
the test fold: recall, F1 (both of ``>50K``) and ROC AUC; mean and standard deviation over folds.

Run (one thread everywhere; about half an hour on one busy core, mostly the 10 GAN fits):

    OMP_NUM_THREADS=1 nohup python3 benchmarks/bench_augment.py > /tmp/bench_augment.log 2>&1 &

Results are written to ``--output`` after every (dataset, method), so an interrupted run keeps
what it measured. ``--markdown`` prints the docs table from the results file.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import benchenv

TARGET = "income"
MINORITY = ">50K"
IMBALANCED_SHARE = 0.05
METHODS = ("real", "smotenc", "synthgan")
DATASETS = ("adult", "adult_imbalanced")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for every library")
    parser.add_argument("--epochs", type=int, default=10, help="GAN epochs per fold")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="folds, imbalance and sampler seed")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument(
        "--output", type=Path, default=Path("benchmarks/results/augment_adult.json")
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the docs table from --output, run nothing"
    )
    return parser.parse_args(argv)


def load_datasets(seed: int, names: list[str]):
    """name -> (X, y) with y the income labels."""
    from imblearn.datasets import make_imbalance

    from synthgan.datasets import load_adult

    train, _ = load_adult()
    X, y = train.drop(columns=TARGET), train[TARGET]
    out = {}
    if "adult" in names:
        out["adult"] = (X, y)
    if "adult_imbalanced" in names:
        majority = int((y != MINORITY).sum())
        minority = round(majority * IMBALANCED_SHARE / (1 - IMBALANCED_SHARE))
        X_imb, y_imb = make_imbalance(
            X, y, sampling_strategy={MINORITY: minority}, random_state=seed
        )
        out["adult_imbalanced"] = (X_imb.reset_index(drop=True), y_imb.reset_index(drop=True))
    return {name: out[name] for name in names}  # in the order asked


def make_sampler(method: str, X, *, epochs: int, seed: int):
    if method == "real":
        return None
    if method == "smotenc":
        from imblearn.over_sampling import SMOTENC

        categorical = [name for name in X.columns if not _is_number(X[name])]
        return SMOTENC(categorical_features=categorical, random_state=seed)
    from synthgan.augment import SyntheticOverSampler
    from synthgan.augment.tables import default_synthesizer

    return SyntheticOverSampler(
        synthesizer=default_synthesizer().set_params(device="cpu"),
        epochs=epochs,
        random_state=seed,
    )


def _is_number(series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def run_fold(method, X, y, train_idx, test_idx, *, epochs, seed):
    import numpy as np
    from imblearn.pipeline import make_pipeline
    from sklearn.metrics import f1_score, recall_score, roc_auc_score

    from synthgan.evaluate import make_utility_model

    sampler = make_sampler(method, X, epochs=epochs, seed=seed)
    model = make_utility_model("classification", random_state=0, n_threads=1)
    steps = [model] if sampler is None else [sampler, model]
    pipe = make_pipeline(*steps)
    start = time.perf_counter()
    pipe.fit(X.iloc[train_idx], y.iloc[train_idx])
    fit_seconds = time.perf_counter() - start
    proba = pipe.predict_proba(X.iloc[test_idx])
    classes = list(pipe[-1].classes_)
    score = proba[:, classes.index(MINORITY)]
    truth = (y.iloc[test_idx] == MINORITY).to_numpy()
    predicted = np.asarray(pipe.predict(X.iloc[test_idx])) == MINORITY
    trained_rows = len(train_idx)
    if sampler is not None:
        trained_rows = len(train_idx) + int(sum(pipe[0].sampling_strategy_.values()))
    return {
        "recall": float(recall_score(truth, predicted)),
        "f1": float(f1_score(truth, predicted)),
        "roc_auc": float(roc_auc_score(truth, score)),
        "fit_seconds": round(fit_seconds, 2),
        "training_rows": trained_rows,
        "training_minority_share": float(
            (
                (y.iloc[train_idx] == MINORITY).sum()
                + (0 if sampler is None else pipe[0].sampling_strategy_.get(MINORITY, 0))
            )
            / trained_rows
        ),
    }


def summarise(folds: list[dict]) -> dict:
    import numpy as np

    out = {}
    for key in ("recall", "f1", "roc_auc", "fit_seconds"):
        values = np.array([f[key] for f in folds], dtype=float)
        out[key] = {"mean": float(values.mean()), "std": float(values.std(ddof=1))}
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.markdown:
        import json

        print(markdown(json.loads(args.output.read_text())))
        return 0
    benchenv.set_thread_env(args.threads)
    threads = benchenv.limit_threads(args.threads)
    from sklearn.model_selection import StratifiedKFold

    result = {
        "benchmark": "augment_adult",
        "description": __doc__.split("\n\n")[0],
        "settings": {
            "folds": args.folds,
            "seed": args.seed,
            "gan_epochs": args.epochs,
            "imbalanced_minority_share": IMBALANCED_SHARE,
            "classifier": "synthgan.evaluate.make_utility_model('classification', "
            "random_state=0, n_threads=1)",
            "sampling_strategy": "auto",
        },
        **benchenv.provenance(threads, **{"imbalanced-learn": benchenv.version("imbalanced-learn")}),
        "results": {},
        "complete": False,
    }
    if args.output.exists():  # keep what an earlier (interrupted) run measured
        import json

        previous = json.loads(args.output.read_text())
        if previous.get("settings") == result["settings"]:
            result["results"] = previous.get("results", {})
    datasets = load_datasets(args.seed, args.datasets)
    splitter = StratifiedKFold(args.folds, shuffle=True, random_state=args.seed)
    for name, (X, y) in datasets.items():
        per_dataset = result["results"].setdefault(
            name,
            {
                "rows": len(X),
                "minority_rows": int((y == MINORITY).sum()),
                "methods": {},
            },
        )
        for method in args.methods:
            if per_dataset["methods"].get(method, {}).get("complete"):
                print(f"{name} {method}: already measured", flush=True)
                continue
            folds = []
            for fold, (train_idx, test_idx) in enumerate(splitter.split(X, y)):
                scores = run_fold(
                    method, X, y, train_idx, test_idx, epochs=args.epochs, seed=args.seed + fold
                )
                folds.append(scores)
                print(f"{name} {method} fold {fold}: {scores}", flush=True)
                per_dataset["methods"][method] = {
                    "folds": folds,
                    **(summarise(folds) if len(folds) > 1 else {}),
                    "complete": False,
                }
                benchenv.write_json(args.output, result)
            per_dataset["methods"][method]["complete"] = True
            benchenv.write_json(args.output, result)
    result["complete"] = all(
        m.get("complete") for d in result["results"].values() for m in d["methods"].values()
    )
    benchenv.write_json(args.output, result)
    print(markdown(result))
    return 0


LABELS = {
    "real": "real rows only",
    "smotenc": "real + SMOTENC",
    "synthgan": "real + synthgan",
}


def markdown(result: dict) -> str:
    """The results table of docs/augment.md, from a results file."""
    settings, versions = result["settings"], result["versions"]
    lines = [
        f"{settings['folds']}-fold cross-validation, classifier `make_utility_model` "
        f"(HistGradientBoosting), synthgan {settings['gan_epochs']} GAN epochs per fold, "
        f"`sampling_strategy='auto'`; mean ± standard deviation over folds; recall and F1 of "
        f"`{MINORITY}`. synthgan {versions.get('synthgan')}, imbalanced-learn "
        f"{versions.get('imbalanced-learn')}, torch {versions.get('torch')}, commit "
        f"`{result['git']['commit'][:10]}`, {result['threads']['threads']} thread(s).",
        "",
        "| dataset | training rows | recall | F1 | ROC AUC | fit time per fold (s) |",
        "|---|---|---|---|---|---|",
    ]
    for name, data in result["results"].items():
        for method, scores in data["methods"].items():
            if "recall" not in scores:
                continue
            done = "" if scores.get("complete") else f" ({len(scores['folds'])} folds only)"
            label = f"{name}: {LABELS[method]}{done}"
            rows = scores["folds"][0]["training_rows"]
            cells = [
                f"{scores[k]['mean']:.3f} ± {scores[k]['std']:.3f}"
                for k in ("recall", "f1", "roc_auc")
            ]
            lines.append(
                f"| {label} | {rows:,} | {' | '.join(cells)} | "
                f"{scores['fit_seconds']['mean']:.0f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
