"""Private synthgan against the private peers, at epsilon 0.5, 1, 3 and 10, scored by one code path.

For each table, epsilon and seed: synthgan fits with what ``synthgan share --epsilon E`` uses
(``synthgan.share.private_params``) on the training split of bench_quality.py, samples as many rows
and is scored by ``bench_quality.score`` (synthgan's evaluator against the test split: utility,
detection AUC, DCR share, exact copies; SDMetrics' QualityReport against the training rows).
``epsilon none`` is synthgan's ordinary (non-private) fit, the ceiling of what privacy costs.

Peers are cached tables scored by the same code: smartnoise-synth's MST, AIM, DP-CTGAN and
PATE-CTGAN (made by ``benchmarks/peers/run_smartnoise.py`` in their own environment: smartnoise
pins opacus 0.14), at the same epsilon and delta (min(1e-5, 1/(10 n))).

Tables: adult (the full training split), adult8k (8,000 rows drawn from it with a fixed seed; the
issue's small-table case), and any table of bench_quality.py.

    /work/peers-venv/bin/python benchmarks/bench_privacy.py --tables adult --epsilons 3 --seeds 0
    /work/peers-venv/bin/python benchmarks/bench_privacy.py --rescore      # peers' cached tables
    /work/peers-venv/bin/python benchmarks/bench_privacy.py --table        # markdown, all results
    /work/peers-venv/bin/python benchmarks/bench_privacy.py --plot docs/privacy_epsilon.png

Results: benchmarks/results/privacy/<system>_eps<E>/<table>_seed<N>.json (and the synthetic
table as .parquet; peers' .fit.json holds their fit seconds and versions).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_quality  # noqa: E402
import benchenv  # noqa: E402
from bench_quality import TABLES, Table  # noqa: E402

RESULTS = HERE / "results" / "privacy"
SMALL_ROWS = 8000
SMALL_SEED = 0
EPSILONS = ("0.5", "1", "3", "10", "none")
PEERS = ("smartnoise-mst", "smartnoise-aim", "smartnoise-dpctgan", "smartnoise-patectgan")
PLOTTED_VARIANTS = {
    "synthgan_target": "synthgan, its target named (share --target)",
    "synthgan_target10": "the same, statistics at 10% of epsilon (before)",
    "synthgan_pubsn": "synthgan given smartnoise's free facts (statistics at 10%)",
}
"""Tagged variants the plot draws beside the systems' defaults, with their labels."""
CONTINUOUS_MIN_UNIQUE = 20
"""smartnoise's roles as run_smartnoise.py gives them: a numeric column with more distinct values
is continuous (binned, its bounds paid for), every other column categorical (its values read from
the data outside the budget)."""


def load_split(name: str):
    """bench_quality's split; ``adult8k``: 8,000 rows of Adult's training split, test unchanged."""
    import numpy as np

    if name == "adult8k":
        train, test = bench_quality.load_split("adult")
        rows = np.sort(np.random.default_rng(SMALL_SEED).choice(len(train), SMALL_ROWS, False))
        return train.iloc[rows].reset_index(drop=True), test
    return bench_quality.load_split(name)


def _is_number(series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def column_roles(train, id_columns) -> tuple[list[str], list[str]]:
    categorical, continuous = [], []
    for column in train.columns:
        if column in id_columns:
            continue
        series = train[column]
        if _is_number(series) and series.nunique() > CONTINUOUS_MIN_UNIQUE:
            continuous.append(column)
        else:
            categorical.append(column)
    return categorical, continuous


def public_domain_as_smartnoise(train, id_columns) -> dict:
    """What smartnoise-synth reads from the data for free, as synthgan's ``public_domain``: the
    values of every column it treats as categorical (category lists; bounds for the integer ones,
    which synthgan then codes value by value when they hold at most 20 integers)."""
    import pandas as pd

    categorical, _ = column_roles(train, id_columns)
    domain: dict = {"categories": {}, "bounds": {}}
    for column in categorical:
        series = train[column].dropna()
        if _is_number(series):
            if series.min() < series.max():
                domain["bounds"][column] = (float(series.min()), float(series.max()))
        elif not pd.api.types.is_bool_dtype(series):
            domain["categories"][column] = sorted(series.unique().tolist(), key=str)
    return domain


ADULT_EDUCATION_CODES = [
    "Preschool", "1st-4th", "5th-6th", "7th-8th", "9th", "10th", "11th", "12th", "HS-grad",
    "Some-college", "Assoc-voc", "Assoc-acdm", "Bachelors", "Masters", "Prof-school", "Doctorate",
]  # fmt: skip
"""education-num 1..16 in this order: the code book of UCI's Adult (adult.names), not the rows."""
_LOG_GRID = [k / 100 for k in range(0, 1001)]
DECLARED_RELATIONS = {
    "adult": [{"type": "lookup", "source": "education", "target": "education-num",
               "keys": ADULT_EDUCATION_CODES, "values": list(range(1, 17))}],
    # ISLR's Wage documentation: logwage is the log of wage; knots of exp on a fixed grid
    "wage": [{"type": "monotone", "source": "logwage", "target": "wage",
              "source_knots": _LOG_GRID, "target_knots": [math.exp(x) for x in _LOG_GRID]}],
}  # fmt: skip
"""``--public-domain relations``: the exact relations each table's documentation states, as
``public_domain["derived"]`` (written from the documentation, never read from the rows)."""


def public_domain_relations(table: str) -> dict:
    return {"derived": DECLARED_RELATIONS.get(source_table(table), [])}


def source_table(name: str) -> str:
    """The bench_quality table a table of this benchmark is drawn from (adult8k: adult)."""
    return "adult" if name == "adult8k" else name


def spec_of(name: str) -> Table:
    return TABLES[source_table(name)]


def run_dir(system: str, epsilon: str) -> Path:
    return RESULTS / f"{system}_eps{epsilon}"


def fit_synthgan(train, epsilon: str, seed: int, overrides: dict):
    from synthgan import Synthesizer
    from synthgan.share import private_params

    params = {} if epsilon == "none" else private_params(float(epsilon))
    model = Synthesizer(random_state=seed, verbose=False, **{**params, **overrides})
    tick = time.perf_counter()
    model.fit(train)
    fit_seconds = time.perf_counter() - tick
    synthetic = model.sample(len(train), random_state=seed)
    privacy = model.privacy_ or {}
    plan = privacy.get("plan") or {}
    return synthetic, {
        "fit_seconds": fit_seconds,
        "epochs_trained": model.epochs_trained_,
        "epsilon_spent": privacy.get("epsilon_spent"),
        "delta": privacy.get("delta"),
        "noise_multiplier": plan.get("noise_multiplier"),
        "marginals": privacy.get("marginals"),
        "acceptance": (model.selection_ or {}).get("acceptance"),
        "settings": {k: bench_quality._jsonable(v)
                     for k, v in model.get_params().items() if k != "schema"},
    }  # fmt: skip


def fit_engine_dp(train, epsilon: str, seed: int, spec: Table):
    """TabularARGN with its differential-privacy option: the analysis's value protection gets
    10% of epsilon, DP-SGD training stops at the other 90% (``max_epsilon``; the engine keeps the
    last checkpoint within it); delta as synthgan's default, which the engine splits between the
    two. Budgets add up by sequential composition (the engine accounts each part separately)."""
    budget = float(epsilon)
    delta = min(1e-5, 1.0 / (10.0 * len(train)))
    dp = {"max_epsilon": 0.9 * budget, "delta": delta, "value_protection_epsilon": 0.1 * budget}
    from mostlyai.engine.domain import DifferentialPrivacyConfig

    # train() takes the dict; analyze() reads attributes of the config object
    synthetic, record = bench_quality.fit_engine(
        train, seed, spec, {"differential_privacy": dp}, verbose=False,
        analyze={"differential_privacy": DifferentialPrivacyConfig(**dp)},
    )  # fmt: skip
    return synthetic, {**record, "differential_privacy": dp}


def score_and_save(synthetic, train, test, spec, out: Path, record: dict, threads: int) -> dict:
    aligned, casts = bench_quality.aligned(synthetic, train, spec.id_columns)
    record.update(bench_quality.score(aligned, train, test, spec, threads=threads), casts=casts)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.with_suffix(".parquet").exists():
        synthetic.to_parquet(out.with_suffix(".parquet"))
    benchenv.write_json(out.with_suffix(".json"), record)
    return record


def score_peer(synthetic, train, test, spec, out: Path, record: dict, threads: int) -> dict:
    """score_and_save for a peer's table; a table the scorer refuses (the engine's wage at
    epsilon 0.5 holds no wage value) is a result too: ``<out>.failed.json`` says why."""
    from synthgan.exceptions import InvalidDataError

    try:
        return score_and_save(synthetic, train, test, spec, out, record, threads)
    except InvalidDataError as error:
        failure = {**record, "error": str(error)}
        out.parent.mkdir(parents=True, exist_ok=True)
        benchenv.write_json(out.with_name(out.name + ".failed.json"), failure)
        return failure


def summary(record: dict) -> str:
    if "error" in record:
        return f"NOT SCORED: {record['error']}"
    keys = ("sdmetrics_quality", "sdmetrics_column_shapes", "sdmetrics_column_pair_trends",
            "utility_synthetic", "detection_auc", "dcr_share", "fit_seconds")  # fmt: skip
    return " ".join(f"{k}={record[k]:.3f}" for k in keys if record.get(k) is not None)


def run(args) -> int:
    header = benchenv.provenance(
        benchenv.limit_threads(args.threads), opacus=benchenv.version("opacus"),
        sdmetrics=benchenv.version("sdmetrics"),
    )  # fmt: skip
    overrides = bench_quality.parse_overrides(args.set)
    if (overrides or args.public_domain or args.target) and not args.tag:
        raise SystemExit("--set, --public-domain and --target change synthgan's settings: give "
                         "the variant a --tag.")  # fmt: skip
    system = "synthgan" + (f"_{args.tag}" if args.tag else "")
    for table in args.tables:
        train, test = load_split(table)
        spec = spec_of(table)
        for epsilon in args.epsilons:
            for seed in args.seeds:
                if not args.rescore and not args.no_synthgan:
                    settings = dict(overrides)
                    if args.target and epsilon != "none":  # as `synthgan share --target`
                        settings["target"] = spec.target
                    if args.public_domain and epsilon != "none":
                        domain: dict = {}
                        if "smartnoise" in args.public_domain:
                            domain.update(public_domain_as_smartnoise(train, spec.id_columns))
                        if "relations" in args.public_domain:
                            domain.update(public_domain_relations(table))
                        settings["public_domain"] = domain
                    synthetic, record = fit_synthgan(train, epsilon, seed, settings)
                    record = {"system": system, "table": table, "epsilon": epsilon, "seed": seed,
                              **record, "provenance": header}  # fmt: skip
                    out = run_dir(system, epsilon) / f"{table}_seed{seed}"
                    out.with_suffix(".parquet").unlink(missing_ok=True)
                    record = score_and_save(synthetic, train, test, spec, out, record, args.threads)
                    print(f"{system} eps {epsilon} {table} seed {seed}: {summary(record)}",
                          flush=True)  # fmt: skip
                if args.engine and epsilon != "none":
                    synthetic, record = fit_engine_dp(train, epsilon, seed, spec)
                    record = {"system": "mostlyai-engine-dp", "table": table, "epsilon": epsilon,
                              "seed": seed, **record, "provenance": header}  # fmt: skip
                    out = run_dir("mostlyai-engine-dp", epsilon) / f"{table}_seed{seed}"
                    out.with_suffix(".parquet").unlink(missing_ok=True)
                    record = score_peer(synthetic, train, test, spec, out, record, args.threads)
                    print(f"mostlyai-engine-dp eps {epsilon} {table} seed {seed}: "
                          f"{summary(record)}", flush=True)  # fmt: skip
                for peer in PEERS if args.rescore or args.with_peers else ():
                    out = run_dir(peer, epsilon) / f"{table}_seed{seed}"
                    fitted = out.with_name(out.name + ".fit.json")
                    if not fitted.exists() or (out.with_suffix(".json").exists()
                                               and not args.rescore):  # fmt: skip
                        continue
                    import pandas as pd

                    record = {**json.loads(fitted.read_text()), "epsilon": epsilon,
                              "scored_with": header}  # fmt: skip
                    synthetic = pd.read_parquet(out.with_suffix(".parquet"))
                    record = score_peer(synthetic, train, test, spec, out, record, args.threads)
                    print(f"{peer} eps {epsilon} {table} seed {seed}: {summary(record)}",
                          flush=True)  # fmt: skip
    return 0


# -- reporting --------------------------------------------------------------------------------

COLUMNS = (("sdmetrics_quality", "quality", ".3f"), ("sdmetrics_column_shapes", "shapes", ".3f"),
           ("sdmetrics_column_pair_trends", "pairs", ".3f"), ("utility_synthetic", "utility", ".3f"),
           ("detection_auc", "detection", ".3f"), ("dcr_share", "DCR share", ".3f"),
           ("fit_seconds", "fit s", ".0f"))  # fmt: skip


def collect() -> dict:
    """{(table, epsilon, system): [records of each seed]}."""
    found: dict = {}
    for path in sorted(RESULTS.glob("*_eps*/*_seed*.json")):
        if path.name.endswith((".fit.json", ".failed.json")):
            continue
        system, epsilon = path.parent.name.rsplit("_eps", 1)
        table = path.name.rsplit("_seed", 1)[0]
        found.setdefault((table, epsilon, system), []).append(json.loads(path.read_text()))
    return found


def cell(values: list[float], fmt: str) -> str:
    import statistics

    if not values:
        return ""
    mean = format(statistics.fmean(values), fmt)
    return mean if len(values) == 1 else f"{mean} ± {format(statistics.stdev(values), fmt)}"


def print_table(tables: list[str]) -> None:
    found = collect()
    order = {e: i for i, e in enumerate(EPSILONS)}
    for table in tables:
        print(f"\n### {table}\n")
        print("| epsilon | system | seeds | " + " | ".join(c[1] for c in COLUMNS) + " |")
        print("|---|---|---:|" + "---:|" * len(COLUMNS))
        keys = sorted((k for k in found if k[0] == table),
                      key=lambda k: (order.get(k[1], 99), k[2]))  # fmt: skip
        for _, epsilon, system in keys:
            records = found[(table, epsilon, system)]
            cells = [cell([r[key] for r in records if r.get(key) is not None], fmt)
                     for key, _, fmt in COLUMNS]  # fmt: skip
            print(f"| {epsilon} | {system} | {len(records)} | " + " | ".join(cells) + " |")


def plot(path: Path, table: str) -> None:
    import statistics

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    found = collect()
    # the systems' defaults, and the variants named in PLOTTED_VARIANTS; other tagged variants
    # (synthgan_<tag>) are ablations, in the tables
    systems = sorted({k[2] for k in found
                      if k[0] == table and ("_" not in k[2] or k[2] in PLOTTED_VARIANTS)})  # fmt: skip
    epsilons = [e for e in EPSILONS if e != "none"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, (key, title) in zip(axes, (("sdmetrics_quality", "SDMetrics quality"),
                                       ("utility_synthetic", "utility (ROC AUC)"))):  # fmt: skip
        for system in systems:
            xs, ys = [], []
            for epsilon in epsilons:
                records = found.get((table, epsilon, system), [])
                values = [r[key] for r in records if r.get(key) is not None]
                if values:
                    xs.append(float(epsilon))
                    ys.append(statistics.fmean(values))
            if xs:
                ax.plot(xs, ys, "o-", label=PLOTTED_VARIANTS.get(system, system))
            ceiling = found.get((table, "none", system))
            if ceiling and system == "synthgan":
                value = statistics.fmean(r[key] for r in ceiling)
                ax.axhline(value, linestyle=":", color="grey")
        ax.set_xscale("log")
        ax.set_xlabel("epsilon")
        dotted = " (dotted: synthgan without DP)" if found.get((table, "none", "synthgan")) else ""
        ax.set_title(f"{title}, {table}{dotted}")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=["adult"],
                        choices=sorted([*TABLES, "adult8k"]))  # fmt: skip
    parser.add_argument("--epsilons", nargs="+", default=list(EPSILONS), choices=EPSILONS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--tag", default="")
    parser.add_argument("--public-domain", nargs="+", choices=["smartnoise", "relations"],
                        default=None,
                        help="Give synthgan as public_domain what smartnoise reads from the data "
                        "outside its budget (values of its categorical columns), or the exact "
                        "relations the table's documentation states (DECLARED_RELATIONS).")  # fmt: skip
    parser.add_argument("--target", action="store_true",
                        help="Name each table's target to the private fit, as `synthgan share "
                        "--target` does: the marginals release measures it against every "
                        "column.")  # fmt: skip
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--with-peers", action="store_true", help="Also score new peer tables.")
    parser.add_argument("--engine", action="store_true",
                        help="Also fit mostlyai-engine with its differential-privacy option.")
    parser.add_argument("--no-synthgan", action="store_true", help="Fit the peers only.")
    parser.add_argument("--rescore", action="store_true", help="Score the peers' tables only.")
    parser.add_argument("--table", action="store_true", help="Print the results as markdown.")
    parser.add_argument("--plot", type=Path, help="Draw quality and utility against epsilon.")
    args = parser.parse_args(argv)
    if args.table or args.plot:
        if args.table:
            print_table(args.tables)
        if args.plot:
            plot(args.plot, args.tables[0])
        return 0
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
