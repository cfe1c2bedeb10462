"""Utility and privacy of synthgan on Adult at epsilon in {1, 3, 10} and without DP.

For each setting: fit on Adult train (32,561 rows), sample as many rows, and measure on the Adult
test split (16,281 rows, never trained on): train-on-synthetic ROC AUC of the fixed utility model
(``synthgan.evaluate.utility.utility_scores``, target ``income``), ``column_shapes``,
``dcr_share``, ``mia_auc`` and ``exact_copy_rate`` from ``synthgan.evaluate``. The real-data
utility (train on real) is the ceiling.

    OMP_NUM_THREADS=1 python3 benchmarks/bench_privacy.py --epochs 5 \\
        --output benchmarks/results/privacy_adult.json --plot docs/privacy_adult.png

Results are written after every setting, so an interrupted run keeps what it measured.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchenv  # noqa: E402

PRIVACY_METRICS = ["column_shapes", "dcr_share", "mia_auc", "exact_copy_rate"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilons", default="1,3,10,none", help="Comma list; 'none': no DP.")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--dp-loss", default="minimax", help="Loss of the DP fits.")
    parser.add_argument(
        "--gp-check", action="store_true",
        help="Also fit epsilon=3 with loss='wgan-gp' (the per-pair gradient penalty).",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "privacy_adult.json")
    parser.add_argument("--plot", type=Path, default=HERE.parent / "docs" / "privacy_adult.png")
    return parser.parse_args()


def run_one(train, test, *, epsilon, loss, args) -> dict:
    from synthgan import Synthesizer, evaluate
    from synthgan.evaluate.utility import utility_scores

    params = dict(epochs=args.epochs, batch_size=args.batch_size, random_state=args.seed,
                  device="cpu", verbose=False, loss=loss)  # fmt: skip
    if epsilon is not None:
        params.update(epsilon=epsilon, pac=1)
    started = time.perf_counter()
    model = Synthesizer(**params).fit(train)
    fit_seconds = time.perf_counter() - started
    synthetic = model.sample(len(train), random_state=args.seed)
    utility = utility_scores(synthetic, test, "income")
    report = evaluate(train, synthetic, holdout=test, metrics=PRIVACY_METRICS)
    scores = report.scores
    cis = {name: report.metrics[name]["ci"] for name in PRIVACY_METRICS}
    privacy = model.privacy_ or {}
    return {
        "epsilon_target": epsilon,
        "epsilon_spent": privacy.get("epsilon_spent"),
        "delta": privacy.get("delta"),
        "noise_multiplier": (privacy.get("plan") or {}).get("noise_multiplier"),
        "stats_noise_multiplier": (privacy.get("plan") or {}).get("stats_noise_multiplier"),
        "sample_rate": (privacy.get("plan") or {}).get("sample_rate"),
        "critic_steps": privacy.get("steps_taken"),
        "loss": loss,
        "params": {k: v for k, v in params.items() if k != "verbose"},
        "fit_seconds": fit_seconds,
        "roc_auc": utility.get("roc_auc"),
        "f1": utility.get("f1"),
        **{name: scores.get(name) for name in PRIVACY_METRICS},
        "ci": cis,
        "exact_copy_baseline": report.metrics["exact_copy_rate"]["details"]["baseline"],
    }


def plot(results: list[dict], real_auc: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [r for r in results if r["loss"] == results[0]["loss"] or r["epsilon_target"] is None]
    labels = ["none" if r["epsilon_target"] is None else f"ε={r['epsilon_target']:g}" for r in runs]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    panels = [("roc_auc", "train-on-synthetic ROC AUC", real_auc),
              ("column_shapes", "column shapes (1 = identical)", None),
              ("dcr_share", "dcr_share / mia_auc (0.5 ideal)", 0.5)]  # fmt: skip
    for ax, (key, title, reference) in zip(axes, panels):
        ax.bar(labels, [r[key] for r in runs], color="tab:blue", label=key)
        if key == "dcr_share":
            ax.plot(labels, [r["mia_auc"] for r in runs], "o", color="tab:red", label="mia_auc")
            ax.set_ylim(0.4, 0.7)
            ax.legend(loc="upper left")
        if reference is not None:
            ax.axhline(reference, color="grey", linestyle=":")
        ax.set_title(title)
    fig.suptitle("synthgan on Adult: privacy budget vs utility (grey: real-data AUC / ideal)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    args = parse_args()
    benchenv.set_thread_env(args.threads)
    threads = benchenv.limit_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    from synthgan.datasets import load_adult
    from synthgan.evaluate.utility import utility_scores

    train, test = load_adult()
    payload = {
        "benchmark": "privacy_adult",
        **benchenv.provenance(threads, opacus=benchenv.version("opacus")),
        "rows": {"train": len(train), "test": len(test)},
        "real_utility": utility_scores(train, test, "income"),
        "results": [],
        "complete": False,
    }
    settings = []
    for item in args.epsilons.split(","):
        eps = None if item.strip().lower() == "none" else float(item)
        settings.append((eps, args.dp_loss if eps is not None else "wgan-gp"))
    if args.gp_check:
        settings.append((3.0, "wgan-gp"))
    for eps, loss in settings:
        print(f"epsilon={eps} loss={loss} ...", flush=True)
        result = run_one(train, test, epsilon=eps, loss=loss, args=args)
        print({k: result[k] for k in ("epsilon_spent", "roc_auc", "column_shapes", "dcr_share",
                                      "mia_auc", "fit_seconds")}, flush=True)  # fmt: skip
        payload["results"].append(result)
        benchenv.write_json(args.output, payload)
        plot(payload["results"], payload["real_utility"]["roc_auc"], args.plot)
    payload["complete"] = True
    payload["machine"]["load_average_at_end"] = [round(x, 2) for x in __import__("os").getloadavg()]
    benchenv.write_json(args.output, payload)




if __name__ == "__main__":
    main()
