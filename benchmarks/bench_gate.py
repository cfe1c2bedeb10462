"""The share gate's decision against memorization strength, on a small table of rare rows.

Two kinds of memorizer on the table of tests/integration/test_share.py (120 rows, six columns of
three categories, nearly every row unique of its combination; 70 train / 50 holdout rows):

- ``epochs``: a real GAN (pac 1, batch 10, PacGAN critic without the row encoder) trained for
  2 ... 1,000 epochs: the longer, the more it reproduces its training rows.
- ``copies``: a briefly trained GAN (2 epochs) whose rows are partly replaced by training rows,
  a fraction from 0 to 1 (a controlled leak).

For each setting and seed (the seed of the split and of the fit): dcr_share, mia_auc and
exact_copy_rate with their intervals, and whether ``share`` released. Writes a JSON file and
prints the markdown table of docs/privacy.md.

    python3 benchmarks/bench_gate.py --seeds 0 1 2 --output benchmarks/results/gate.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchenv  # noqa: E402

PARAMS = {"batch_size": 10, "pac": 1, "device": "cpu", "discriminator_row_dim": None}
EPOCHS = (2, 30, 100, 300, 1000)
COPY_FRACTIONS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


def rare_rows(n: int = 120, seed: int = 0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame({f"c{j}": rng.choice(["x", "y", "z"], n) for j in range(6)})


def copying_synthesizer(fraction: float):
    """A Synthesizer whose sampled rows are, for ``fraction`` of them, training rows."""
    from synthgan.model import Synthesizer

    class Copying(Synthesizer):
        def fit(self, data, **kwargs):
            self._train_rows = data.reset_index(drop=True)
            return super().fit(data, **kwargs)

        def sample(self, n, conditions=None, *, random_state=None, max_tries=100):
            rows = super().sample(n, random_state=random_state)
            n_copied = int(round(fraction * n))
            copied = self._train_rows.sample(n_copied, replace=True, random_state=0)
            rows.iloc[:n_copied] = copied.to_numpy()
            return rows.sample(frac=1.0, random_state=1).reset_index(drop=True)

    return Copying


def run(kind: str, strength: float, seed: int) -> dict:
    from synthgan import share as share_module

    params = {**PARAMS, "epochs": int(strength) if kind == "epochs" else 2}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        if kind == "copies":
            import synthgan.model as model_package

            real_class = model_package.Synthesizer
            model_package.Synthesizer = copying_synthesizer(strength)
            try:
                result = share_module.share(rare_rows(), Path(folder) / "rel", no_dp=True,
                                            random_state=seed, synthesizer_params=params)  # fmt: skip
            finally:
                model_package.Synthesizer = real_class
        else:
            result = share_module.share(rare_rows(), Path(folder) / "rel", no_dp=True,
                                        random_state=seed, synthesizer_params=params)  # fmt: skip
    return {
        "kind": kind,
        "strength": strength,
        "seed": seed,
        "released": result.released,
        "seconds": round(time.perf_counter() - start, 1),
        "checks": {
            c.name: {
                "value": c.value,
                "ci": list(c.ci),
                "threshold": c.threshold,
                "passed": c.passed,
            }
            for c in result.checks
        },  # fmt: skip
    }


def table(rows: list[dict]) -> str:
    import numpy as np

    lines = [
        "| memorizer | strength | dcr_share | mia_auc | exact copies | released |",
        "|---|---:|---:|---:|---:|---|",
    ]
    keys = sorted(
        {(r["kind"], r["strength"]) for r in rows}, key=lambda k: (k[0] != "epochs", k[1])
    )
    for kind, strength in keys:
        runs = [r for r in rows if (r["kind"], r["strength"]) == (kind, strength)]

        def mean(name: str, runs=runs) -> str:
            values = [r["checks"][name]["value"] for r in runs]
            return f"{np.mean(values):.3f} ({min(values):.3f}-{max(values):.3f})"

        label = "GAN epochs" if kind == "epochs" else "training rows copied"
        shown = f"{int(strength)}" if kind == "epochs" else f"{strength:.0%}"
        released = sum(r["released"] for r in runs)
        lines.append(
            f"| {label} | {shown} | {mean('dcr_share')} | {mean('mia_auc')} | "
            f"{mean('exact_copy_rate')} | {released} of {len(runs)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--kinds", nargs="+", default=["copies", "epochs"])
    parser.add_argument("--output", type=Path, default=HERE / "results" / "gate.json")
    args = parser.parse_args()
    benchenv.set_thread_env(1)
    threads = benchenv.limit_threads(1)
    rows = []
    for kind in args.kinds:
        for strength in EPOCHS if kind == "epochs" else COPY_FRACTIONS:
            for seed in args.seeds:
                rows.append(run(kind, strength, seed))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
                benchenv.write_json(
                    args.output, {"provenance": benchenv.provenance(threads), "runs": rows}
                )
    print(table(rows))


if __name__ == "__main__":
    main()
