"""Rejection sampling's levers on one fitted model, without refitting the GAN (docs/training.md,
"Refinement critics").

    # fit once: the model and its encoded training rows go to --workdir
    /work/peers-venv/bin/python benchmarks/diag_selection.py fit diamonds 0
    # the first critic's acceptance ceiling at other quantiles (0.9 is the default)
    /work/peers-venv/bin/python benchmarks/diag_selection.py ceiling diamonds 0 --quantiles 0.97 0.99
    # what each part of the selection does: none, the critic alone, + one-way factors, + pairs
    /work/peers-venv/bin/python benchmarks/diag_selection.py parts caravan 0
    # later stages by HistGradientBoosting (a lead: not in the model file, which holds no trees)
    /work/peers-venv/bin/python benchmarks/diag_selection.py hgb-stages caravan 0 --rounds 2
    # the selection's pair factors on other pairs: ranked by mutual information over the smaller
    # entropy, or each span's strongest partners in turn (the defaults: raw mutual information)
    /work/peers-venv/bin/python benchmarks/diag_selection.py pairs caravan 0
    # caravan's percentage bands: keep only rows whose band sums lie in the training range
    /work/peers-venv/bin/python benchmarks/diag_selection.py group-sums caravan 0
    # caravan's postcode profiles: bench_quality's cached rows with their profile columns moved
    # onto the training rows' profiles by optimal transport (no model needed)
    /work/peers-venv/bin/python benchmarks/diag_selection.py profiles caravan 0 --min-rows 1 5

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

FIGURES = bench_quality.FIGURES


def _paths(args) -> tuple[Path, Path]:
    stem = args.workdir / f"{args.table}_seed{args.seed}"
    return stem.with_suffix(".synthgan"), stem.with_suffix(".real.pt")


def _score(model, args, tag: str, sample_seed: int | None = None, **extra) -> None:
    spec = bench_quality.TABLES[args.table]
    train, test = bench_quality.load_split(args.table)
    tick = time.perf_counter()
    seed = args.seed if sample_seed is None else sample_seed
    rows = model.sample(len(train), random_state=seed)
    seconds = time.perf_counter() - tick
    rows, _ = bench_quality.aligned(rows, train, spec.id_columns)
    figures = bench_quality.score(rows, train, test, spec, threads=1)
    record = {"variant": tag, "sample_seed": seed, **extra, "sample_seconds": round(seconds, 1),
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


def parts(args) -> None:
    """The same model sampled without selection, with the first critic alone, with its one-way
    marginal factors, and with the pair factors too (the defaults), without refinements."""
    import synthgan.model.synthesizer as synthesizer_module
    from synthgan.model import selection

    synthesizer_module.MAX_REFINEMENTS = 0
    fit_factors, select_pairs = (synthesizer_module.fit_marginal_factors,
                                 synthesizer_module.select_pairs)  # fmt: skip

    def critic_alone(fake, fake_logits, spans, **_):
        ceiling = float(torch.quantile(fake_logits.double(), selection.CEILING_QUANTILE))
        accept = torch.exp(torch.clamp(fake_logits.double() - ceiling, max=0.0))
        return None, ceiling, {"acceptance": float(accept.mean())}

    model, real = _load(args)
    model.rejection = False
    _score(model, args, "no selection")
    model.rejection = True
    variants = {"critic alone": (critic_alone, select_pairs),
                "critic + one-way factors": (fit_factors, lambda codes, widths: []),
                "critic + one-way and pair factors": (fit_factors, select_pairs)}  # fmt: skip
    for tag, (factors, pairs) in variants.items():
        synthesizer_module.fit_marginal_factors, synthesizer_module.select_pairs = factors, pairs
        model._fit_row_critic(real)
        _score(model, args, tag, acceptance=round(model.selection_["acceptance"], 4))


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


def _entropy(codes: torch.Tensor, span: int, width: int) -> float:
    shares = torch.bincount(codes[:, span], minlength=width).double() / len(codes)
    shares = shares[shares > 0]
    return float(-(shares * torch.log(shares)).sum())


def _tree_then(codes, widths, ranked_rest, scale: int = 1) -> list[tuple[int, int]]:
    """The defaults' maximum spanning tree (by mutual information), then ``ranked_rest``'s pairs
    outside it, up to ``scale`` times the defaults' pair count."""
    from synthgan.model.selection import pair_count, select_pairs

    tree = select_pairs(codes, widths)[: len(widths) - 1]
    taken = set(tree)
    rest = [pair for pair in ranked_rest if pair not in taken]
    return (tree + rest)[: scale * pair_count(len(widths))]


def _information(codes, widths) -> np.ndarray:
    """(n_spans, n_spans) mutual information of every pair of spans, -inf on the diagonal."""
    from synthgan.model.selection import mutual_information

    n_spans = len(widths)
    information = np.full((n_spans, n_spans), -np.inf)
    for a in range(n_spans):
        for b in range(a + 1, n_spans):
            information[a, b] = information[b, a] = mutual_information(codes, a, b, widths)
    return information


def normalised_pairs(codes, widths, hub=None):
    """The tree, then pairs by mutual information over the smaller of the two entropies (the
    share of the rarer column's information the pair holds)."""
    information = _information(codes, widths)
    entropy = [_entropy(codes, span, width) for span, width in enumerate(widths)]
    scored = sorted(
        ((information[a, b] / max(min(entropy[a], entropy[b]), 1e-12), a, b)
         for a in range(len(widths)) for b in range(a + 1, len(widths))),
        reverse=True,
    )  # fmt: skip
    return _tree_then(codes, widths, [(a, b) for _, a, b in scored])


def partner_pairs(codes, widths, hub=None, scale: int = 1):
    """The tree, then each span's second strongest partner by mutual information, then each
    one's third, and so on (``scale`` times the defaults' pair count): every column gets about
    the same number of measured pairs."""
    n_spans = len(widths)
    ranked = np.argsort(-_information(codes, widths), axis=1)
    rest = []
    for k in range(n_spans - 1):
        for a in range(n_spans):
            b = int(ranked[a, k])
            rest.append((min(a, b), max(a, b)))
    return _tree_then(codes, widths, list(dict.fromkeys(rest)), scale)


PAIR_CHOICES = ("mi", "normalised", "partners", "partners2")
"""The ``pairs`` command's choices of pairs, by the name ``--choices`` takes."""


def pairs(args) -> None:
    """The same model's selection fitted again with each choice of pairs for its factors."""
    import synthgan.model.synthesizer as synthesizer_module

    model, real = _load(args)
    choices = {"mi": ("pairs by mutual information (defaults)", synthesizer_module.select_pairs),
               "normalised": ("pairs by normalised mutual information", normalised_pairs),
               "partners": ("pairs: each span's strongest partners in turn", partner_pairs),
               "partners2": ("pairs: the same, twice as many",
                             lambda codes, widths, hub=None: partner_pairs(codes, widths, scale=2))}
    for tag, choose in (choices[key] for key in args.choices):
        synthesizer_module.select_pairs = choose
        model._fit_row_critic(real)
        for sample_seed in args.sample_seeds or [args.seed]:
            _score(model, args, tag, sample_seed=sample_seed,
                   acceptance=round(model.selection_["acceptance"], 4))


CARAVAN_GROUPS = (
    ("MRELGE", "MRELSA", "MRELOV"), ("MOPLHOOG", "MOPLMIDD", "MOPLLAAG"),
    ("MAUT1", "MAUT2", "MAUT0"), ("MINKM30", "MINK3045", "MINK4575", "MINK7512", "MINK123M"),
    ("MHHUUR", "MHKOOP"), ("MZFONDS", "MZPART"), ("MFALLEEN", "MFGEKIND", "MFWEKIND"),
    ("MGODRK", "MGODPR", "MGODOV", "MGODGE"),
    ("MBERHOOG", "MBERZELF", "MBERBOER", "MBERMIDD", "MBERARBG", "MBERARBO"),
    ("MSKA", "MSKB1", "MSKB2", "MSKC", "MSKD"),
)  # fmt: skip
"""caravan's postcode percentages that share one whole (its data dictionary: each a 0-9 band of a
share, so each group's codes sum to 9-13 on every training row)."""


def group_sums(args) -> None:
    """The model's rows against the same rows kept only where every group's sum lies within the
    training rows' range (a filter after the selection: what a group-sum rule enforced by
    rejection would release). Needs only the model file of ``fit``."""
    from synthgan import Synthesizer

    model = Synthesizer.load(_paths(args)[0])
    train, test = bench_quality.load_split(args.table)
    spec = bench_quality.TABLES[args.table]
    rows = model.sample(args.oversample * len(train), random_state=args.seed)
    meets = np.ones(len(rows), dtype=bool)
    for group in CARAVAN_GROUPS:
        real, synthetic = train[list(group)].sum(axis=1), rows[list(group)].sum(axis=1)
        meets &= synthetic.between(real.min(), real.max()).to_numpy()
    for tag, kept in (("the model's rows", rows), ("rows meeting every group's sum", rows[meets])):
        kept = kept.iloc[: len(train)].reset_index(drop=True)
        figures = bench_quality.score(kept, train, test, spec, threads=1)
        record = {"variant": tag, "rows": len(kept), "meets_share": round(float(meets.mean()), 4),
                  **{k: round(float(figures[k]), 4) for k in FIGURES}}  # fmt: skip
        print(json.dumps(record), flush=True)


CARAVAN_PROFILE = 43
"""caravan's first 43 columns describe the customer's postcode, not the customer: rows of one
postcode share them, so the training rows hold 1,481 distinct profiles in 4,075 rows, and 84% of
the test rows carry a profile some training row has."""


def profiles(args) -> None:
    """bench_quality's synthetic rows (``--system``) with each row's profile columns replaced by a
    training profile held by at least ``--min-rows`` training rows, drawn from an entropic
    optimal-transport plan: the profiles' shares are the training rows' by construction, and
    each row goes to profiles near its own (Sinkhorn in log space, cost the squared distance in
    units of each column's deviation, regularisation ``--blur`` times the median cost)."""
    from scipy.special import logsumexp

    train, test = bench_quality.load_split(args.table)
    spec = bench_quality.TABLES[args.table]
    columns = list(train.columns[:CARAVAN_PROFILE])
    _, stored = bench_quality.result_paths(bench_quality.RESULTS, args.system, args.table,
                                           args.seed)  # fmt: skip
    rows = pd.read_parquet(stored)
    held = train.groupby(columns).size().rename("rows").reset_index()
    scale = train[columns].std().to_numpy() + 1e-9
    rng = np.random.default_rng(args.seed)
    variants = [("the model's rows", rows)]
    for min_rows in args.min_rows:
        library = held[held["rows"] >= min_rows]
        targets = library[columns].to_numpy(np.float64) / scale
        sources = rows[columns].to_numpy(np.float64) / scale
        cost = np.maximum((sources**2).sum(1)[:, None] + (targets**2).sum(1)[None, :]
                          - 2.0 * sources @ targets.T, 0.0)  # fmt: skip
        kernel = -cost / (args.blur * np.median(cost))
        log_a = np.full(len(sources), -np.log(len(sources)))
        log_b = np.log(library["rows"].to_numpy() / library["rows"].sum())
        f, g = np.zeros(len(sources)), np.zeros(len(targets))
        for _ in range(300):
            f = log_a - logsumexp(kernel + g[None, :], axis=1)
            g = log_b - logsumexp(kernel + f[:, None], axis=0)
        plan = kernel + f[:, None] + g[None, :]
        plan = np.exp(plan - logsumexp(plan, axis=1, keepdims=True)).cumsum(axis=1)
        drawn = (plan < rng.random(len(sources))[:, None]).sum(axis=1).clip(0, len(targets) - 1)
        moved = rows.copy()
        moved[columns] = library[columns].to_numpy()[drawn]
        variants.append((f"profiles held by >= {min_rows} training rows ({len(library)})", moved))
    for tag, kept in variants:
        figures = bench_quality.score(kept, train, test, spec, threads=1)
        record = {"variant": tag, **{k: round(float(figures[k]), 4) for k in FIGURES},
                  "mia_auc": round(float(figures["synthgan_scores"].get("mia_auc", np.nan)), 4)}  # fmt: skip
        print(json.dumps(record), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["fit", "parts", "ceiling", "hgb-stages",
                                            "group-sums", "profiles", "pairs"])  # fmt: skip
    parser.add_argument("table", choices=sorted(bench_quality.TABLES))
    parser.add_argument("seed", type=int)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/synthgan-diag-selection"))
    parser.add_argument("--quantiles", type=float, nargs="+", default=[0.9, 0.97, 0.99])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sample-seeds", type=int, nargs="+",
                        help="pairs: the samples scored per variant [default: the seed].")
    parser.add_argument("--choices", nargs="+", choices=PAIR_CHOICES, default=list(PAIR_CHOICES),
                        help="pairs: which choices of pairs.")
    parser.add_argument("--oversample", type=int, default=15)
    parser.add_argument("--system", default="synthgan", help="profiles: whose cached rows.")
    parser.add_argument("--min-rows", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--blur", type=float, default=0.05)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    commands = {"fit": fit, "parts": parts, "ceiling": ceiling, "hgb-stages": hgb_stages,
                "group-sums": group_sums, "profiles": profiles, "pairs": pairs}  # fmt: skip
    commands[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
