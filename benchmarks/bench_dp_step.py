"""Seconds per DP critic step on Adult: ghost clipping against per-pair gradients (vmap).

Fits ``Synthesizer(epsilon=3, pac=1, loss="minimax", epochs=1)`` on Adult train, keeps its
DPTrainer, then times the trainer's critic step (ghost clipping, the default for minimax) and
the same step through per-pair gradients (``torch.func.vmap``) and ``clipped_sum``,
alternating, 10 steps each, twice; and the generator step for scale.

    OMP_NUM_THREADS=1 python3 benchmarks/bench_dp_step.py --output benchmarks/results/dp_step_adult.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchenv  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "dp_step_adult.json")
    args = parser.parse_args()
    benchenv.set_thread_env(args.threads)
    threads = benchenv.limit_threads(args.threads)

    from synthgan import Synthesizer
    from synthgan.datasets import load_adult
    from synthgan.privacy import dp_training

    train, _ = load_adult()
    trainers = []

    class Spy(dp_training.DPTrainer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            trainers.append(self)

    original, dp_training.DPTrainer = dp_training.DPTrainer, Spy
    try:
        start = time.perf_counter()
        Synthesizer(epsilon=3, pac=1, loss="minimax", epochs=1, random_state=0, verbose=False,
                    device="cpu").fit(train)  # fmt: skip
        fit_seconds = time.perf_counter() - start
    finally:
        dp_training.DPTrainer = original
    trainer = trainers[0]

    def per_pair_step() -> None:
        packs = trainer.sample_packs()
        per_pack = trainer.per_pack_gradients(*trainer._pairs(packs))
        noisy = trainer.add_noise(trainer.clipped_sum(per_pack))
        for name, param in trainer.critic.net.named_parameters():
            param.grad = noisy[name]
        trainer.critic_optimizer.step()

    steps = {"ghost_clipping": trainer._discriminator_step, "per_pair_vmap": per_pair_step,
             "generator": trainer._generator_step}  # fmt: skip
    best = {name: float("inf") for name in steps}
    for _ in range(2):
        for name, step in steps.items():
            step()
            start = time.perf_counter()
            for _ in range(args.steps):
                step()
            best[name] = min(best[name], (time.perf_counter() - start) / args.steps)
    result = {"benchmark": "dp_step_adult", **benchenv.provenance(threads),
              "one_epoch_fit_seconds": fit_seconds, "seconds_per_step": best,
              "speedup": best["per_pair_vmap"] / best["ghost_clipping"]}  # fmt: skip
    print(result["seconds_per_step"], "speedup", round(result["speedup"], 1))
    benchenv.write_json(args.output, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
