"""Rejection sampling's levers on one fitted model, without refitting the GAN (docs/training.md,
"Refinement critics").

    # fit once: the model and its encoded training rows go to --workdir
    /work/peers-venv/bin/python benchmarks/diag_selection.py fit diamonds 0
    # the first critic's acceptance ceiling at other quantiles (0.9 is the default)
    /work/peers-venv/bin/python benchmarks/diag_selection.py ceiling diamonds 0 --quantiles 0.97 0.99
    # later stages by HistGradientBoosting (a lead: not in the model file, which holds no trees)
    /work/peers-venv/bin/python benchmarks/diag_selection.py hgb-stages caravan 0 --rounds 2

Each sample (as many rows as the table trained on, seed as given) is scored by bench_quality's
one code path; one JSON line per variant goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_quality  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

FIGURES = ("sdmetrics_quality", "sdmetrics_column_shapes", "sdmetrics_column_pair_trends",
           "utility_synthetic", "detection_auc", "dcr_share", "exact_copies")  # fmt: skip


def _paths(args) -> tuple[Path, Path]:
    stem = args.workdir / f"{args.table}_seed{args.seed}"
    return stem.with_suffix(".synthgan"), stem.with_suffix(".real.pt")


def _score(model, args, tag: str, **extra) -> None:
    spec = bench_quality.TABLES[args.table]
    train, test = bench_quality.load_split(args.table)
    tick = time.perf_counter()
    rows = model.sample(len(train), random_state=args.seed)
    seconds = time.perf_counter() - tick
    rows, _ = bench_quality.aligned(rows, train, spec.id_columns)
    figures = bench_quality.score(rows, train, test, spec, threads=1)
    record = {"variant": tag, **extra, "sample_seconds": round(seconds, 1),
              **{k: round(float(figures[k]), 4) for k in FIGURES}}  # fmt: skip
    print(json.dumps(record), flush=True)


def fit(args) -> None:
    """Fit with the defaults, keeping the encoded training rows the row critic read."""
    from synthgan import Synthesizer

    captured = {}
    original = Synthesizer._fit_row_critic

    def capture(self, real):
        captured["real"] = real.clone()
        return original(self, real)

    Synthesizer._fit_row_critic = capture
    train, _ = bench_quality.load_split(args.table)
    model = Synthesizer(random_state=args.seed, verbose=False, n_threads=1).fit(train)
    model_path, real_path = _paths(args)
    args.workdir.mkdir(parents=True, exist_ok=True)
    model.save(model_path)
    torch.save(captured["real"], real_path)
    _score(model, args, "defaults", refinements=len(model.selection_["refinements"]))


def _load(args):
    from synthgan import Synthesizer

    model_path, real_path = _paths(args)
    return Synthesizer.load(model_path), torch.load(real_path)


def ceiling(args) -> None:
    """The first stage fitted again with its ceiling at each quantile, without refinements."""
    import synthgan.model.synthesizer as synthesizer_module
    from synthgan.model import selection

    synthesizer_module.MAX_REFINEMENTS = 0
    model, real = _load(args)
    for quantile in args.quantiles:
        selection.CEILING_QUANTILE = quantile
        model._fit_row_critic(real)
        _score(model, args, f"ceiling quantile {quantile}", acceptance=model.selection_["acceptance"])


def hgb_stages(args) -> None:
    """Later stages by HistGradientBoosting on the critic's inputs, each fitted on the training
    rows against rows the stages before it keep, ceiling at the 0.9 quantile."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    from synthgan import Synthesizer
    from synthgan.model.selection import RankFeatures

    model, real = _load(args)
    inputs = RankFeatures.of(model.transformer_)
    stages: list[tuple[object, float]] = []

    class Staged:
        def __init__(self, first):
            self.first = first

        def keep(self, rows, rng):
            keep = self.first.keep(rows, rng)
            index = np.flatnonzero(keep)
            if not len(index) or not stages:
                return keep
            encoded = model.transformer_.transform(rows.iloc[index], rng=rng)
            features = inputs(torch.as_tensor(encoded)).numpy()
            passed = np.ones(len(index), dtype=bool)
            for classifier, stage_ceiling in stages:
                logit = classifier.decision_function(features)
                passed &= rng.random(len(index)) < np.exp(np.minimum(logit - stage_ceiling, 0.0))
            keep[index[~passed]] = False
            return keep

    row_generator = Synthesizer._row_generator

    def staged_generator(self, *, selection=True):
        generator = row_generator(self, selection=selection)
        if generator.selector is not None:
            generator.selector = Staged(generator.selector)
        return generator

    Synthesizer._row_generator = staged_generator
    _score(model, args, "first stage and the model's refinements")
    real_features = inputs(real).numpy()
    for round_number in range(args.rounds):
        generator = model._row_generator(selection=True)
        kept = pd.concat(list(generator.iter_rows(len(real), None, 777 + round_number, 100,
                                                  progress=False)), ignore_index=True)  # fmt: skip
        encoded = model.transformer_.transform(kept, rng=np.random.default_rng(round_number))
        features = inputs(torch.as_tensor(encoded)).numpy()
        x = np.concatenate([real_features, features])
        y = np.r_[np.ones(len(real_features)), np.zeros(len(features))]
        order = np.random.default_rng(round_number).permutation(len(x))
        held, fitted = order[: len(x) // 5], order[len(x) // 5 :]
        classifier = HistGradientBoostingClassifier(
            early_stopping=True, max_iter=300, random_state=round_number
        ).fit(x[fitted], y[fitted])
        held_fake = held[y[held] == 0]
        stage_ceiling = float(np.quantile(classifier.decision_function(x[held_fake]), 0.9))
        auc = roc_auc_score(y[held], classifier.decision_function(x[held]))
        stages.append((classifier, stage_ceiling))
        _score(model, args, f"+ HGB stage {round_number + 1}", held_out_auc=round(auc, 3))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["fit", "ceiling", "hgb-stages"])
    parser.add_argument("table", choices=sorted(bench_quality.TABLES))
    parser.add_argument("seed", type=int)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/synthgan-diag-selection"))
    parser.add_argument("--quantiles", type=float, nargs="+", default=[0.9, 0.97, 0.99])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    {"fit": fit, "ceiling": ceiling, "hgb-stages": hgb_stages}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
