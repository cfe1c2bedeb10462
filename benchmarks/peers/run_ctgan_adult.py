"""Cached figures of the peers (ctgan 0.12.1's CTGAN and TVAE) on Adult, for bench_fit.py to score.

Default mode: fit ``ctgan.CTGAN()`` or ``ctgan.TVAE()`` with the package's defaults on Adult train
(discrete columns = the string columns), timing the fit and tracking peak RSS; sample 32,561 rows
(saved as Parquet for later scoring) and 100,000 rows, timing both; write the figures as JSON.
The quality scores (utility, SDMetrics, detection) are computed later, from the saved tables, by
the project's own evaluator, so every model is scored by the same code.

``--equal-settings``: CTGAN with batch 500, pac 10, one critic step, for 3 epochs: seconds per
1,000 real rows seen by the critic, the transformer fit excluded (see ``METHOD``).

Run with the peers' interpreter, one job at a time, 1 thread (the machine is shared):

    /opt/peers/bin/python benchmarks/peers/run_ctgan_adult.py --equal-settings
    /opt/peers/bin/python benchmarks/peers/run_ctgan_adult.py --model tvae --seed 0
    /opt/peers/bin/python benchmarks/peers/run_ctgan_adult.py --model ctgan --seed 0
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for benchenv

import benchenv  # noqa: E402

RESULTS_DIR = benchenv.REPO_ROOT / "benchmarks" / "results" / "peers"
EQUAL_SETTINGS = {"batch_size": 500, "pac": 10, "discriminator_steps": 1, "epochs": 3}
METHOD = (
    "ctgan's training loop iterates over tqdm(range(epochs)); the script replaces the name tqdm "
    "in ctgan.synthesizers.ctgan with a wrapper that records time.perf_counter() as each epoch "
    "starts and when the last one ends (the loop body is ctgan's own, unchanged). Epoch seconds "
    "are the differences, so the DataTransformer fit, the transform of the training data and "
    "the network set-up are excluded. Rows seen by the critic per epoch = steps_per_epoch * "
    "batch_size * discriminator_steps with steps_per_epoch = max(len(train) // batch_size, 1). "
    "Cross-check: the total fit seconds with epochs=1 and epochs=4, differenced and divided by 3 "
    "(includes the noise of two transformer fits)."
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("ctgan", "tvae"), default="ctgan")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--epochs", type=int, default=None, help="override the default epochs (smoke tests only)"
    )
    parser.add_argument("--equal-settings", action="store_true", help="the equal-settings run")
    parser.add_argument("--no-crosscheck", action="store_true", help="equal settings: skip 1 vs 4")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument(
        "--denormal-stats",
        type=int,
        default=0,
        metavar="N",
        help="every N epochs, count subnormal floats in the optimisers (diagnostic)",
    )
    parser.add_argument(
        "--flush-denormal",
        action="store_true",
        help="torch.set_flush_denormal(True), a diagnostic, not ctgan's default; saved as "
        "{model}-flush-denormal_seed{seed}",
    )
    return parser.parse_args(argv)


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


class EpochClock:
    """Stands in for tqdm around ctgan's epoch loop and stamps the start of every epoch.

    Wall and CPU time both: the machine is shared, and this process's CPU seconds are less
    disturbed by other people's jobs than its wall-clock seconds.
    """

    starts: list[tuple[float, float]] = []  # (wall, CPU) as each epoch starts
    ends: list[tuple[float, float]] = []
    denormal_every = 0  # > 0: count subnormal floats in the optimisers every that many epochs
    denormals: list[dict] = []

    def __init__(self, iterable, **kwargs):
        from tqdm import tqdm

        self._bar = tqdm(iterable, **kwargs)
        EpochClock.starts, EpochClock.ends, EpochClock.denormals = [], [], []

    def __iter__(self):
        for epoch, item in enumerate(self._bar):
            if epoch:
                EpochClock.ends.append(_now())
            # the diagnostic runs between epochs, outside the timed spans
            if self.denormal_every and epoch % self.denormal_every == 0:
                EpochClock.denormals.append({"epoch": epoch, **count_denormals()})
            EpochClock.starts.append(_now())
            yield item
        EpochClock.ends.append(_now())
        if self.denormal_every:
            EpochClock.denormals.append({"epoch": len(EpochClock.ends), **count_denormals()})

    def set_description(self, *args, **kwargs):
        self._bar.set_description(*args, **kwargs)

    def set_postfix(self, *args, **kwargs):
        self._bar.set_postfix(*args, **kwargs)

    @classmethod
    def epoch_seconds(cls) -> list[float]:
        return [end[0] - start[0] for start, end in zip(cls.starts, cls.ends)]

    @classmethod
    def epoch_cpu_seconds(cls) -> list[float]:
        return [end[1] - start[1] for start, end in zip(cls.starts, cls.ends)]


def count_denormals() -> dict:
    """Subnormal floats in the parameters and state of every live torch optimiser.

    A diagnostic for epochs that get slower as training goes on: arithmetic on subnormal floats
    is many times slower on x86 CPUs. The optimisers are local to ctgan's fit, so they are
    found through the garbage collector.
    """
    import gc

    import torch

    start = time.perf_counter()
    counts = {"param": 0, "param_subnormal": 0, "state": 0, "state_subnormal": 0}
    with warnings.catch_warnings():  # isinstance meets torch's deprecated module aliases
        warnings.simplefilter("ignore", FutureWarning)
        optimisers = [o for o in gc.get_objects() if isinstance(o, torch.optim.Optimizer)]
    for obj in optimisers:
        for group in obj.param_groups:
            for param in group["params"]:
                tensors = [("param", param.detach())]
                tensors += [
                    ("state", value)
                    for value in obj.state.get(param, {}).values()
                    if torch.is_tensor(value) and value.is_floating_point() and value.dim() > 0
                ]
                for kind, tensor in tensors:
                    tiny = torch.finfo(tensor.dtype).tiny
                    counts[kind] += tensor.numel()
                    counts[f"{kind}_subnormal"] += int(
                        ((tensor != 0) & (tensor.abs() < tiny)).sum()
                    )
    counts["seconds"] = time.perf_counter() - start
    return counts


def _install_epoch_clock() -> None:
    import ctgan.synthesizers.ctgan as ctgan_module
    import ctgan.synthesizers.tvae as tvae_module

    ctgan_module.tqdm = EpochClock
    tvae_module.tqdm = EpochClock


def _header(args: argparse.Namespace, threads: dict) -> dict:
    return {
        "command": " ".join([Path(sys.executable).as_posix(), *sys.argv]),
        "versions": benchenv.versions(),
        "git": benchenv.git_commit(),
        "machine": benchenv.machine(),
        "thread_settings": threads,
        "seed": args.seed,
    }


def _load():
    from synthgan.datasets import load_adult

    train, _ = load_adult()
    discrete = [c for c in train.columns if train[c].dtype == object]
    return train, discrete


def _seed_everything(model, seed: int) -> None:
    import numpy as np
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed)
    model.set_random_state(seed)


def _time_fit(model, train, discrete) -> tuple[float, float]:
    """Wall and CPU seconds of ``model.fit``."""
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(train, discrete_columns=discrete)
    return time.perf_counter() - wall, time.process_time() - cpu


def _stem(args: argparse.Namespace) -> str:
    flush = "-flush-denormal" if args.flush_denormal else ""
    return f"{args.model}{flush}_seed{args.seed}"


def _display_path(path: Path) -> str:
    path = path.resolve()
    try:
        return path.relative_to(benchenv.REPO_ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def run_default(args: argparse.Namespace, threads: dict) -> dict:
    import ctgan

    header = _header(args, threads)  # before the run: the load average at the start
    train, discrete = _load()
    rss_before = benchenv.rss_mb()
    if args.model == "ctgan":
        model = (
            ctgan.CTGAN(verbose=True)
            if args.epochs is None
            else ctgan.CTGAN(epochs=args.epochs, verbose=True)
        )
        settings = {
            "epochs": model._epochs,
            "batch_size": model._batch_size,
            "pac": model.pac,
            "discriminator_steps": model._discriminator_steps,
        }
    else:
        model = (
            ctgan.TVAE(verbose=True)
            if args.epochs is None
            else ctgan.TVAE(epochs=args.epochs, verbose=True)
        )
        settings = {"epochs": model.epochs, "batch_size": model.batch_size, "pac": None}
    _seed_everything(model, args.seed)
    print(f"[{args.model} seed {args.seed}] fit {settings} ...", file=sys.stderr, flush=True)
    fit_start = time.perf_counter()
    fit_seconds, fit_cpu_seconds = _time_fit(model, train, discrete)
    epochs = EpochClock.epoch_seconds()
    epochs_cpu = EpochClock.epoch_cpu_seconds()
    setup_seconds = EpochClock.starts[0][0] - fit_start if EpochClock.starts else None
    peak_after_fit = benchenv.peak_rss_mb()
    print(f"[{args.model} seed {args.seed}] fit {fit_seconds:.1f} s", file=sys.stderr, flush=True)

    sampling = {}
    for n in (len(train), 100_000):
        start = time.perf_counter()
        synthetic = model.sample(n)
        seconds = time.perf_counter() - start
        sampling[n] = {"rows": n, "seconds": seconds, "rows_per_second": n / seconds}
        if n == len(train):
            table = synthetic
    peak_end = benchenv.peak_rss_mb()

    stem = _stem(args)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    parquet = args.output_dir / f"{stem}.parquet"
    tmp = parquet.with_name(parquet.name + ".tmp")
    table.to_parquet(tmp, index=False)
    tmp.replace(parquet)

    losses = getattr(model, "loss_values", None)
    loss_by_epoch = None
    if losses is not None and len(losses):
        loss_by_epoch = losses.groupby("Epoch").mean(numeric_only=True).reset_index()
        loss_by_epoch = loss_by_epoch.drop(columns=["Batch"], errors="ignore").to_dict("list")
    return {
        **header,
        "benchmark": f"peer_{args.model}_adult_defaults",
        "model": args.model,
        "constructor": f"ctgan.{'CTGAN' if args.model == 'ctgan' else 'TVAE'}"
        + ("(verbose=True)" if args.epochs is None else f"(epochs={args.epochs}, verbose=True)"),
        "defaults": args.epochs is None and not args.flush_denormal,
        "flush_denormal": args.flush_denormal,
        **settings,
        "data": {"name": "adult train", "rows": len(train), "discrete_columns": discrete},
        "fit_seconds": fit_seconds,
        "fit_cpu_seconds": fit_cpu_seconds,
        "fit_setup_seconds": setup_seconds,  # transformer fit + transform + networks, before epoch 1
        "epoch_seconds_mean": sum(epochs) / len(epochs) if epochs else None,
        "epoch_seconds": epochs,
        "epoch_cpu_seconds_mean": sum(epochs_cpu) / len(epochs_cpu) if epochs_cpu else None,
        "epoch_cpu_seconds": epochs_cpu,
        "sample_rows_per_second": sampling[len(train)]["rows_per_second"],
        "sampling": list(sampling.values()),
        "rss_before_fit_mb": rss_before,
        "peak_rss_after_fit_mb": peak_after_fit,
        "peak_rss_mb": peak_end,
        "peak_rss_note": "ru_maxrss of the whole process (python, torch, data, model included)",
        "synthetic_table": _display_path(parquet),
        "synthetic_rows": len(table),
        "loss_by_epoch": loss_by_epoch,
        "subnormal_floats_in_optimisers": EpochClock.denormals or None,
        "subnormal_note": "counted between epochs, outside epoch_seconds but inside fit_seconds"
        if EpochClock.denormals
        else None,
    }


def run_equal_settings(args: argparse.Namespace, threads: dict) -> dict:
    import ctgan

    header = _header(args, threads)  # before the run: the load average at the start
    train, discrete = _load()
    batch = EQUAL_SETTINGS["batch_size"]
    steps_per_epoch = max(len(train) // batch, 1)
    rows_per_epoch = steps_per_epoch * batch * EQUAL_SETTINGS["discriminator_steps"]

    def make(epochs: int):
        model = ctgan.CTGAN(
            epochs=epochs,
            batch_size=batch,
            pac=EQUAL_SETTINGS["pac"],
            discriminator_steps=EQUAL_SETTINGS["discriminator_steps"],
            verbose=True,
        )
        _seed_everything(model, args.seed)
        return model

    print("[equal settings] 3 epochs, instrumented ...", file=sys.stderr, flush=True)
    fit_seconds, _ = _time_fit(make(EQUAL_SETTINGS["epochs"]), train, discrete)
    epochs = EpochClock.epoch_seconds()
    epoch_mean = sum(epochs) / len(epochs)
    epochs_cpu = EpochClock.epoch_cpu_seconds()
    cpu_mean = sum(epochs_cpu) / len(epochs_cpu)
    result = {
        **header,
        "benchmark": "peer_ctgan_adult_equal_settings",
        "model": "ctgan",
        "settings": EQUAL_SETTINGS,
        "data": {"name": "adult train", "rows": len(train), "discrete_columns": discrete},
        "method": METHOD,
        "steps_per_epoch": steps_per_epoch,
        "critic_real_rows_per_epoch": rows_per_epoch,
        "fit_seconds_3_epochs_total": fit_seconds,
        "epoch_seconds": epochs,
        "epoch_seconds_mean": epoch_mean,
        "seconds_per_1000_critic_rows": epoch_mean / rows_per_epoch * 1000,
        "seconds_per_1000_critic_rows_per_epoch": [s / rows_per_epoch * 1000 for s in epochs],
        "epoch_cpu_seconds": epochs_cpu,
        "cpu_seconds_per_1000_critic_rows": cpu_mean / rows_per_epoch * 1000,
    }
    if not args.no_crosscheck:
        totals = {}
        for n in (1, 4):
            print(f"[equal settings] cross-check, {n} epoch(s) ...", file=sys.stderr, flush=True)
            totals[n] = _time_fit(make(n), train, discrete)[0]
        per_epoch = (totals[4] - totals[1]) / 3
        result["crosscheck_difference"] = {
            "fit_seconds_1_epoch": totals[1],
            "fit_seconds_4_epochs": totals[4],
            "epoch_seconds": per_epoch,
            "seconds_per_1000_critic_rows": per_epoch / rows_per_epoch * 1000,
        }
    return result


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    benchenv.set_thread_env(args.threads)
    threads = benchenv.limit_threads(args.threads)
    import joblib

    _install_epoch_clock()
    EpochClock.denormal_every = args.denormal_stats
    if args.flush_denormal:
        import torch

        if not torch.set_flush_denormal(True):
            print("warning: this CPU cannot flush denormals", file=sys.stderr)
    # ctgan's DataTransformer.transform calls joblib Parallel(n_jobs=-1): keep it on one thread.
    with joblib.parallel_config(backend="sequential"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        if args.equal_settings:
            result = run_equal_settings(args, threads)
            path = args.output_dir / "ctgan_equal_settings.json"
        else:
            result = run_default(args, threads)
            path = args.output_dir / f"{_stem(args)}.json"
    result["wall_clock_finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    # the machine is shared: other people's jobs show here, and slow every figure above
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    benchenv.write_json(path, result)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
