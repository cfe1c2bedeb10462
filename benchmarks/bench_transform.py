"""synthgan's TableTransformer against ctgan 0.12.1's DataTransformer on Adult, then synthgan at scale.

Part 1, side by side in one process with the same thread limits: fit and transform seconds (best
of ``--repeats`` for synthgan, of ``--ctgan-repeats`` for ctgan), their ratio, and the fidelity of
each round trip (inverse_transform(transform(df)) against df) with the modes each one found.
Part 2, synthgan alone on Adult resampled with replacement (fixed seed) to each of ``--sizes``
rows, one fresh subprocess per size: seconds, peak memory, and both per row.

ctgan is a benchmark-only dependency; run with the interpreter that has it:

    /opt/peers/bin/python benchmarks/bench_transform.py --repeats 3 --threads 1 \\
        --sizes 250000,500000,1000000 --output benchmarks/results/transform_adult.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import benchenv

ADULT_ROWS = 32_561


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="synthgan repeats (best is kept)")
    parser.add_argument("--ctgan-repeats", type=int, default=1, help="ctgan repeats (~30 s each)")
    parser.add_argument("--threads", type=int, default=1, help="threads for every library")
    parser.add_argument(
        "--sizes",
        default="250000,500000,1000000",
        help="comma-separated row counts for the scaling runs ('' to skip them)",
    )
    parser.add_argument("--seed", type=int, default=0, help="resampling and transformer seed")
    parser.add_argument(
        "--output", type=Path, default=Path("benchmarks/results/transform_adult.json")
    )
    parser.add_argument("--skip-ctgan", action="store_true", help="synthgan only")
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="print the docs/benchmarks.md 'Transformer' section from --output, run nothing",
    )
    parser.add_argument("--worker-size", type=int, help=argparse.SUPPRESS)  # internal
    return parser.parse_args(argv)


def _timed(fn):
    """(result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _mismatched(got, want) -> int:
    """Cells that differ, a null matching a null (Adult's workclass, occupation, country)."""
    both_null = got.isna().to_numpy() & want.isna().to_numpy()
    return int(((got.to_numpy() != want.to_numpy()) & ~both_null).sum())


def _best(runs: list[dict]) -> dict:
    return {
        "fit_seconds": min(r["fit_seconds"] for r in runs),
        "transform_seconds": min(r["transform_seconds"] for r in runs),
        "fit_plus_transform_seconds": min(r["fit_seconds"] + r["transform_seconds"] for r in runs),
        # CPU seconds of the process: less disturbed than wall time by other jobs on the machine
        "fit_plus_transform_cpu_seconds": min(r["fit_cpu"] + r["tr_cpu"] for r in runs),
    }


# -- part 1: side by side on Adult -------------------------------------------------------------
def run_synthgan(train, repeats: int, seed: int) -> dict:
    from synthgan import TableTransformer

    runs = []
    for _ in range(repeats):
        gc.collect()
        tt, fit_s, fit_cpu = _timed(lambda: TableTransformer(random_state=seed).fit(train))
        data, tr_s, tr_cpu = _timed(lambda tt=tt: tt.transform(train))
        runs.append(
            {"fit_seconds": fit_s, "transform_seconds": tr_s, "fit_cpu": fit_cpu, "tr_cpu": tr_cpu}
        )
        output_dtype = str(data.dtype)
        del data
    back, inv_s, _ = _timed(lambda: tt.inverse_transform(tt.transform(train)))
    mismatches = {c: _mismatched(back[c], train[c]) for c in train.columns}
    modes = {}
    for name, col in tt.transformers_.items():
        if hasattr(col, "point_masses_"):
            modes[name] = {
                "gaussian_modes": col.n_modes,
                "point_masses": len(col.point_masses_),
                "point_mass_values": col.point_masses_.tolist()
                if len(col.point_masses_) <= 20
                else None,
            }
    return {
        "runs": runs,
        "best": _best(runs),
        "output_dim": tt.layout_.dim,
        "output_dtype": output_dtype,
        "round_trip": {
            "transform_plus_inverse_seconds": inv_s,
            "frame_equal": bool(back.equals(train)),
            "dtypes_equal": bool((back.dtypes == train.dtypes).all()),
            "column_order_equal": list(back.columns) == list(train.columns),
            "mismatched_cells_per_column": mismatches,
        },
        "modes_per_numeric_column": modes,
    }


def run_ctgan(train, discrete: list[str], repeats: int) -> dict:
    import joblib
    import numpy as np
    from ctgan.data_transformer import DataTransformer

    runs = []
    # ctgan's transform calls joblib Parallel(n_jobs=-1); a sequential backend keeps it to the
    # same single thread as synthgan (LOKY_MAX_CPU_COUNT is set too).
    with joblib.parallel_config(backend="sequential"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(repeats):
            gc.collect()
            dt, fit_s, fit_cpu = _timed(lambda: _ctgan_fit(DataTransformer, train, discrete))
            data, tr_s, tr_cpu = _timed(lambda dt=dt: dt.transform(train))
            runs.append(
                {
                    "fit_seconds": fit_s,
                    "transform_seconds": tr_s,
                    "fit_cpu": fit_cpu,
                    "tr_cpu": tr_cpu,
                }
            )
        back, inv_s, _ = _timed(lambda: dt.inverse_transform(data))
    continuous = [c for c in train.columns if c not in discrete]
    round_trip = {}
    for c in continuous:
        got = back[c].to_numpy(dtype=float)
        want = train[c].to_numpy(dtype=float)
        diff = np.abs(got - want)
        round_trip[c] = {
            "mismatched": int((diff > 0).sum()),
            "max_abs_error": float(diff.max()),
            "non_integer_values": int((got != np.round(got)).sum()),
            "below_observed_min": int((got < want.min()).sum()),
            "above_observed_max": int((got > want.max()).sum()),
        }
    # rdt's ClusterBasedNormalizer clips the in-mode scalar to [-0.99, 0.99] in transform.
    scalar_clipped = {}
    start = 0
    for info in dt._column_transform_info_list:
        if info.column_type == "continuous":
            scalar_clipped[info.column_name] = int((np.abs(data[:, start]) >= 0.99 - 1e-12).sum())
        start += info.output_dimensions
    modes = {
        info.column_name: int(sum(info.transform.valid_component_indicator))
        for info in dt._column_transform_info_list
        if info.column_type == "continuous"
    }
    mismatches = {c: _mismatched(back[c], train[c]) for c in train.columns}
    return {
        "runs": runs,
        "best": _best(runs),
        "output_dim": int(dt.output_dimensions),
        "output_dtype": str(data.dtype),
        "round_trip": {
            "inverse_seconds": inv_s,
            "frame_equal": bool(back.equals(train)),
            "dtypes_equal": bool((back.dtypes == train.dtypes).all()),
            "mismatched_cells_per_column": mismatches,
            "continuous_columns": round_trip,
            "rows_with_scalar_clipped_at_0_99": scalar_clipped,
        },
        "modes_per_numeric_column": modes,
    }


def _ctgan_fit(cls, train, discrete):
    dt = cls()
    dt.fit(train, discrete)
    return dt


# -- part 2: synthgan at scale, one subprocess per size ------------------------------------------
def scale_worker(size: int, repeats: int, seed: int) -> dict:
    import tracemalloc

    import numpy as np

    from synthgan import TableTransformer
    from synthgan.datasets import load_adult

    train, _ = load_adult()
    if size == len(train):
        df = train
    else:
        rows = np.random.default_rng(seed).integers(0, len(train), size)
        df = train.iloc[rows].reset_index(drop=True)
    del train
    gc.collect()
    baseline_rss = benchenv.rss_mb()
    baseline_peak = benchenv.peak_rss_mb()

    runs = []
    for _ in range(repeats):
        gc.collect()
        tt, fit_s, fit_cpu = _timed(lambda: TableTransformer(random_state=seed).fit(df))
        data, tr_s, tr_cpu = _timed(lambda tt=tt: tt.transform(df))
        runs.append(
            {"fit_seconds": fit_s, "transform_seconds": tr_s, "fit_cpu": fit_cpu, "tr_cpu": tr_cpu}
        )
        output_mb = data.nbytes / 2**20
        del data
    peak_after_fit_transform = benchenv.peak_rss_mb()

    # numpy reports its buffers to tracemalloc: the exact peak of Python+numpy allocations.
    # A separate, untimed pass (tracing slows Python code down).
    gc.collect()
    tracemalloc.start()
    tt = TableTransformer(random_state=seed).fit(df)
    fit_traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    data = tt.transform(df)
    transform_traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    back, inv_s, _ = _timed(lambda: tt.inverse_transform(data))
    exact = bool(back.equals(df))
    modes = {
        name: [col.n_modes, len(col.point_masses_)]
        for name, col in tt.transformers_.items()
        if hasattr(col, "point_masses_")
    }
    return {
        "rows": size,
        "runs": runs,
        "best": _best(runs),
        "output_shape": list(data.shape),
        "output_mb": output_mb,
        "input_frame_mb": float(df.memory_usage(deep=True).sum() / 2**20),
        "rss_baseline_mb": baseline_rss,
        "rss_peak_before_fit_mb": baseline_peak,
        "rss_peak_after_fit_transform_mb": peak_after_fit_transform,
        "rss_peak_increase_mb": peak_after_fit_transform - baseline_rss,
        "tracemalloc_peak_fit_mb": fit_traced / 2**20,
        "tracemalloc_peak_transform_mb": transform_traced / 2**20,
        "inverse_transform_seconds": inv_s,
        "round_trip_exact": exact,
        "modes_per_numeric_column": modes,
    }


def run_scaling(args: argparse.Namespace, sizes: list[int]) -> list[dict]:
    results = []
    for size in sizes:
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker-size",
            str(size),
            "--repeats",
            str(args.repeats),
            "--threads",
            str(args.threads),
            "--seed",
            str(args.seed),
        ]
        print(f"[scale] {size:,} rows ...", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        best = result["best"]
        print(
            f"[scale] {size:,} rows: fit {best['fit_seconds']:.2f} s, "
            f"transform {best['transform_seconds']:.2f} s, "
            f"peak RSS +{result['rss_peak_increase_mb']:.0f} MiB",
            file=sys.stderr,
            flush=True,
        )
        results.append(result)
    base = results[0]
    for result in results:
        rows = result["rows"]
        result["per_million_rows"] = {
            "fit_seconds": result["best"]["fit_seconds"] / rows * 1e6,
            "transform_seconds": result["best"]["transform_seconds"] / rows * 1e6,
            "rss_peak_increase_mb": result["rss_peak_increase_mb"] / rows * 1e6,
            "tracemalloc_peak_transform_mb": result["tracemalloc_peak_transform_mb"] / rows * 1e6,
        }
        # growth relative to the smallest size: 1.0 = exactly linear, < 1 = sub-linear
        scale = rows / base["rows"]
        result["growth_vs_linear"] = {
            "fit_plus_transform_seconds": result["best"]["fit_plus_transform_seconds"]
            / base["best"]["fit_plus_transform_seconds"]
            / scale,
            "rss_peak_increase": result["rss_peak_increase_mb"]
            / base["rss_peak_increase_mb"]
            / scale,
            "tracemalloc_peak_transform": result["tracemalloc_peak_transform_mb"]
            / base["tracemalloc_peak_transform_mb"]
            / scale,
        }
    return results


def render_markdown(payload: dict) -> str:
    """The 'Transformer' section of docs/benchmarks.md, from a results file."""
    sg, ct = payload["synthgan"], payload.get("ctgan")
    v, git, mach = payload["versions"], payload["git"], payload["machine"]
    lines = [
        "## Transformer",
        "",
        "synthgan's `TableTransformer` against ctgan 0.12.1's `DataTransformer` on Adult train "
        f"({payload['data']['rows']:,} rows; discrete columns = the "
        f"{len(payload['data']['discrete_columns'])} string columns), in one process, then "
        "synthgan alone on Adult resampled with replacement (seed "
        f"{payload['seed']}), one fresh process per size.",
        "",
        "```bash",
        payload["command"],
        "```",
        "",
        f"Machine: {mach['nproc']} shared cores ({mach['cpu_model']}), load average "
        f"{mach['load_average_at_start'][0]} at the start and "
        f"{payload.get('load_average_at_end', ['?'])[0]} at the end (other people's jobs). "
        f"Threads: {payload['thread_settings']['threads']} for both libraries (torch "
        "intra/inter-op, OMP/MKL/OPENBLAS env vars set before imports, threadpoolctl limits, and "
        "joblib's sequential backend for ctgan's `Parallel(n_jobs=-1)` transform). "
        f"Versions: synthgan {v['synthgan']}, ctgan {v['ctgan']}, rdt {v['rdt']}, torch "
        f"{v['torch']}, numpy {v['numpy']}, pandas {v['pandas']}, scikit-learn "
        f"{v['scikit-learn']}; commit `{git['commit'][:12]}`. Results: "
        "`benchmarks/results/transform_adult.json`.",
        "",
    ]
    if ct is not None:
        r = payload["ratio_ctgan_over_synthgan"]
        lines += [
            f"### Adult, side by side (best of {len(sg['runs'])} for synthgan, "
            f"{len(ct['runs'])} for ctgan)",
            "",
            "| | fit s | transform s | fit+transform s | fit+transform CPU s | output width |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, res in (("synthgan", sg), ("ctgan 0.12.1", ct)):
            b = res["best"]
            lines.append(
                f"| {name} | {b['fit_seconds']:.2f} | {b['transform_seconds']:.2f} | "
                f"{b['fit_plus_transform_seconds']:.2f} | "
                f"{b['fit_plus_transform_cpu_seconds']:.2f} | {res['output_dim']} |"
            )
        lines += [
            f"| **ratio ctgan/synthgan** | {r['fit']:.1f}x | {r['transform']:.1f}x | "
            f"**{r['fit_plus_transform']:.1f}x** | {r['fit_plus_transform_cpu']:.1f}x | |",
            "",
            f"Target fit+transform >= {r['target']:.0f}x: "
            f"{'met' if r['fit_plus_transform'] >= r['target'] else 'NOT met'}.",
            "",
            "Modes per numeric column (synthgan: Gaussian modes + exact point masses; ctgan: "
            "Gaussian modes):",
            "",
            "| column | synthgan modes | synthgan point masses | ctgan modes |",
            "|---|---:|---:|---:|",
        ]
        for col, m in sg["modes_per_numeric_column"].items():
            lines.append(
                f"| {col} | {m['gaussian_modes']} | {m['point_masses']} | "
                f"{ct['modes_per_numeric_column'].get(col, '')} |"
            )
        srt, crt = sg["round_trip"], ct["round_trip"]
        wrong = {c: n for c, n in crt["mismatched_cells_per_column"].items() if n}
        errors = {
            c: f"{m['max_abs_error']:g}" for c, m in crt["continuous_columns"].items() if c in wrong
        }
        lines += [
            "",
            "Round trip `inverse_transform(transform(train))` against `train`: synthgan "
            f"{'reproduces it exactly' if srt['frame_equal'] else 'does NOT reproduce it'} "
            f"(`DataFrame.equals`: {srt['frame_equal']}, dtypes equal: {srt['dtypes_equal']}, "
            "nulls of workclass/occupation/native-country in place). ctgan: "
            f"{sum(wrong.values())} cells wrong ({wrong}), largest absolute errors {errors}, "
            "because rdt clips the in-mode scalar to [-0.99, 0.99] inside transform, so values "
            "far out in a mode come back at the clip (capital-gain's 99999 spike among them). "
            "Its values do come back as integers here: rdt rounds columns whose input dtype is "
            "integer, and Adult's numeric columns are int64; it does not clip to the observed "
            "range (rdt's enforce_min_max_values is off), which a round trip cannot show but "
            "sampling does (see the peers' synthetic tables).",
            "",
        ]
    scaling = payload.get("scaling") or []
    if scaling:
        lines += [
            f"### synthgan at scale (best of {len(scaling[0]['runs'])}; memory: tracemalloc "
            "peak of numpy+Python allocations during transform, and the process's peak RSS "
            "increase over the loaded data)",
            "",
            "| rows | fit s | transform s | s per 1M rows (fit+transform) | transform peak MiB | "
            "MiB per 1M rows | peak RSS increase MiB | output MiB | growth vs linear "
            "(time, memory) | round trip exact |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for s in scaling:
            b, per, g = s["best"], s["per_million_rows"], s["growth_vs_linear"]
            lines.append(
                f"| {s['rows']:,} | {b['fit_seconds']:.2f} | {b['transform_seconds']:.2f} | "
                f"{b['fit_plus_transform_seconds'] / s['rows'] * 1e6:.2f} | "
                f"{s['tracemalloc_peak_transform_mb']:.0f} | "
                f"{per['tracemalloc_peak_transform_mb']:.0f} | {s['rss_peak_increase_mb']:.0f} | "
                f"{s['output_mb']:.0f} | {g['fit_plus_transform_seconds']:.2f}, "
                f"{g['tracemalloc_peak_transform']:.2f} | {s['round_trip_exact']} |"
            )
        lines += [
            "",
            "Growth vs linear = (figure / rows) relative to the Adult-size run: 1.00 is linear, "
            "below 1 is sub-linear. The fit's mixture sees at most `max_fit_rows` rows, so fit "
            "time grows slowly; transform memory is about twice the float32 output. Peak RSS at "
            "small sizes is dominated by allocator noise, hence the tracemalloc figure.",
            "Transform time alone per 1M rows: "
            + ", ".join(
                f"{s['per_million_rows']['transform_seconds']:.1f} s at {s['rows']:,}"
                for s in scaling
            )
            + " (wall time on a shared machine; see the load average above).",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.markdown:
        print(render_markdown(json.loads(args.output.read_text())))
        return
    benchenv.set_thread_env(args.threads)
    threads = benchenv.limit_threads(args.threads)  # imports torch, as the peers do

    if args.worker_size is not None:
        print(json.dumps(scale_worker(args.worker_size, args.repeats, args.seed)))
        return

    import pandas as pd  # noqa: F401  (loaded before the clocks start)

    from synthgan.datasets import load_adult

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    payload = {
        "benchmark": "transform_adult",
        "command": " ".join([Path(sys.executable).as_posix(), *sys.argv]),
        "versions": benchenv.versions(),
        "git": benchenv.git_commit(),
        "machine": benchenv.machine(),
        "thread_settings": threads,
        "seed": args.seed,
    }
    train, _ = load_adult()
    discrete = [c for c in train.columns if train[c].dtype == object]
    payload["data"] = {"name": "adult train", "rows": len(train), "discrete_columns": discrete}

    print(f"[adult] synthgan x{args.repeats} ...", file=sys.stderr, flush=True)
    payload["synthgan"] = run_synthgan(train, args.repeats, args.seed)
    print(f"[adult] synthgan best: {payload['synthgan']['best']}", file=sys.stderr, flush=True)
    if not args.skip_ctgan:
        print(f"[adult] ctgan x{args.ctgan_repeats} ...", file=sys.stderr, flush=True)
        payload["ctgan"] = run_ctgan(train, discrete, args.ctgan_repeats)
        print(f"[adult] ctgan best: {payload['ctgan']['best']}", file=sys.stderr, flush=True)
        sg, ct = payload["synthgan"]["best"], payload["ctgan"]["best"]
        payload["ratio_ctgan_over_synthgan"] = {
            "fit": ct["fit_seconds"] / sg["fit_seconds"],
            "transform": ct["transform_seconds"] / sg["transform_seconds"],
            "fit_plus_transform": ct["fit_plus_transform_seconds"]
            / sg["fit_plus_transform_seconds"],
            "fit_plus_transform_cpu": ct["fit_plus_transform_cpu_seconds"]
            / sg["fit_plus_transform_cpu_seconds"],
            "target": 20.0,
        }
        print(f"[adult] ratio: {payload['ratio_ctgan_over_synthgan']}", file=sys.stderr)

    if sizes:
        payload["scaling"] = run_scaling(args, [ADULT_ROWS, *sizes])
    # the machine is shared: other people's jobs show here, and slow every figure above
    payload["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    benchenv.write_json(args.output, payload)
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
