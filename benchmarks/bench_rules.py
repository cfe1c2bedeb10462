"""Rules and conditions: synthgan against SDV 2.x constraints and conditional sampling.

Two parts, each run under the Python that has the library, then a table from both:

    .venv/bin/python benchmarks/bench_rules.py synthgan --epochs 5
    /work/sdv-venv/bin/python benchmarks/bench_rules.py sdv --epochs 5
    .venv/bin/python benchmarks/bench_rules.py table      # markdown for docs/rules.md

What is measured (on Adult and bikeshare, rules written by hand below):

* **Rules**: the share of sampled rows meeting each rule (checked here with pandas, not by
  either library), sampling rows per second (10,000 rows), and column shapes (1 - mean total
  variation distance for categorical columns, 1 - Kolmogorov-Smirnov statistic for numeric
  ones, against the training rows), with the rules and without them, for synthgan, SDV's
  GaussianCopula and SDV's CTGAN (``add_constraints``). SDV 2.0 has no formula constraint, so
  the bikeshare formula is synthgan's only.
* **Conditions** (Adult): for conditions on one, two and three columns (a numeric range among
  them) the column shapes of the other columns of 10,000 conditioned rows against the real rows
  meeting the condition, next to the unconditional figure; the seconds to draw them, next to
  SDV's ``sample_from_conditions`` (equality only in SDV: its three-column case uses age=40, and
  synthgan is timed on the same).

Both libraries get the same number of epochs (short runs: the machine has two cores shared with
other sessions; timings are taken on that busy machine).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
if not DATA.exists():
    DATA = Path("/work/shared/datasets")
RESULTS = Path(__file__).resolve().parent / "results"
SAMPLE_ROWS = 10_000
FIXED_CANDIDATES = 8

CONDITIONS = {
    "one": {"sex": "Female"},
    "two": {"sex": "Female", "income": ">50K"},
    "three (age 30..50)": {"sex": "Female", "income": ">50K", "age": (30, 50)},
    "three (age=40)": {"sex": "Female", "income": ">50K", "age": 40},
}


def load(table: str) -> pd.DataFrame:
    if table == "adult":
        return pd.read_parquet(DATA / "adult" / "train.parquet")
    return pd.read_parquet(DATA / "bikeshare" / "data.parquet")


# -- the rules, and their checks in plain pandas ------------------------------------------------


def rules_spec(table: str) -> list[dict]:
    if table == "adult":
        return [
            {"rule": "fixed_combinations", "columns": ["education", "education-num"]},
            {"rule": "inequality", "columns": ["education-num", "age"]},
        ]
    return [
        {"rule": "formula", "column": "bikers", "expression": "casual + registered"},
        {"rule": "inequality", "columns": ["casual", "bikers"]},
        {"rule": "fixed_combinations", "columns": ["season", "mnth"]},
    ]


def adherence(table: str, real: pd.DataFrame, rows: pd.DataFrame) -> dict:
    out = {}
    for spec in rules_spec(table):
        if spec["rule"] == "fixed_combinations":
            cols = spec["columns"]
            seen = set(map(tuple, real[cols].astype(str).to_numpy()))
            ok = np.array([tuple(r) in seen for r in rows[cols].astype(str).to_numpy()])
            name = "fixed " + "+".join(cols)
        elif spec["rule"] == "inequality":
            low, high = spec["columns"]
            ok = (rows[low] <= rows[high]).to_numpy()
            name = f"{low} <= {high}"
        else:
            ok = (rows["bikers"] == rows["casual"] + rows["registered"]).to_numpy()
            name = "bikers = casual + registered"
        out[name] = float(np.mean(ok))
    return out


def shapes(real: pd.DataFrame, synthetic: pd.DataFrame, columns=None) -> float:
    """1 - mean over columns of total variation (categorical) or the KS statistic (numeric)."""
    scores = []
    for column in columns or real.columns:
        a, b = real[column], synthetic[column]
        if pd.api.types.is_numeric_dtype(a) and a.nunique() > 20:
            x, y = np.sort(a.dropna().to_numpy(float)), np.sort(b.dropna().to_numpy(float))
            if not len(x) or not len(y):
                continue
            grid = np.concatenate([x, y])
            ks = np.abs(np.searchsorted(x, grid, "right") / len(x)
                        - np.searchsorted(y, grid, "right") / len(y)).max()  # fmt: skip
            scores.append(1 - ks)
        else:
            p = a.astype(str).value_counts(normalize=True)
            q = b.astype(str).value_counts(normalize=True)
            scores.append(1 - 0.5 * p.sub(q, fill_value=0).abs().sum())
    return float(np.mean(scores))


def meets(frame: pd.DataFrame, conditions: dict) -> np.ndarray:
    keep = np.ones(len(frame), dtype=bool)
    for column, value in conditions.items():
        if isinstance(value, tuple):
            keep &= frame[column].between(*value).to_numpy()
        else:
            keep &= (frame[column] == value).to_numpy()
    return keep


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


# -- synthgan ------------------------------------------------------------------------------------


def run_synthgan(args) -> dict:
    from synthgan import Synthesizer
    from synthgan.rules.definitions import rules_from_list

    results = {"library": "synthgan", "rules": {}, "conditions": {}}
    for table in args.tables:
        real = load(table)
        for with_rules in (False, True):
            params = dict(epochs=args.epochs, random_state=0, verbose=False, device="cpu")
            if with_rules:
                params["rules"] = rules_from_list(rules_spec(table))
            model, fit_s = timed(Synthesizer(**params).fit, real)
            model.sample(100, random_state=0)  # warm up
            rows, sample_s = timed(model.sample, SAMPLE_ROWS, random_state=1)
            key = f"{table}/{'rules' if with_rules else 'no rules'}"
            results["rules"][key] = {
                "fit_s": round(fit_s, 1), "rows_per_s": round(SAMPLE_ROWS / sample_s),
                "shapes": round(shapes(real, rows), 4), "adherence": adherence(table, real, rows),
            }  # fmt: skip
            print(key, results["rules"][key], flush=True)
            if table == "adult" and not with_rules:
                results["conditions"]["unconditional"] = {"shapes": round(shapes(real, rows), 4)}
                for name, conditions in CONDITIONS.items():
                    drawn, seconds = timed(
                        model.sample, SAMPLE_ROWS, conditions=conditions, random_state=2
                    )
                    subset = real[meets(real, conditions)]
                    others = [c for c in real.columns if c not in conditions]
                    fixed = fixed_candidates(model, conditions, FIXED_CANDIDATES)
                    results["conditions"][name] = {
                        "seconds": round(seconds, 2),
                        "adherence": float(meets(drawn, conditions).mean()),
                        "real_rows": int(len(subset)),
                        "shapes_given": round(shapes(subset, drawn, others), 4),
                        f"shapes_given_{FIXED_CANDIDATES}_draws": round(
                            shapes(subset, fixed, others), 4),
                        "shapes_unconditioned": round(shapes(subset, rows, others), 4),
                    }
                    print(name, results["conditions"][name], flush=True)
    return results


def fixed_candidates(model, conditions: dict, count: int) -> pd.DataFrame:
    """The same conditioned sample with a fixed number of noise draws per row (the rule before
    draws went on until their chances summed to one), for comparison."""
    import synthgan.model.conditioned as conditioned

    saved = conditioned.CANDIDATES, conditioned.MAX_CANDIDATES
    conditioned.CANDIDATES = conditioned.MAX_CANDIDATES = count
    try:
        return model.sample(SAMPLE_ROWS, conditions=conditions, random_state=2)
    finally:
        conditioned.CANDIDATES, conditioned.MAX_CANDIDATES = saved


# -- SDV -----------------------------------------------------------------------------------------


def sdv_constraints(table: str) -> list:
    from sdv.cag import FixedCombinations, Inequality

    out = []
    combined = {c for spec in rules_spec(table) if spec["rule"] == "fixed_combinations"
                for c in spec["columns"]}  # fmt: skip
    for spec in rules_spec(table):
        if spec["rule"] == "fixed_combinations":
            out.append(FixedCombinations(column_names=spec["columns"]))
        elif spec["rule"] == "inequality" and combined & set(spec["columns"]):
            continue  # SDV: a combined column is categorical, and Inequality needs a number
        elif spec["rule"] == "inequality":
            out.append(Inequality(low_column_name=spec["columns"][0],
                                  high_column_name=spec["columns"][1]))  # fmt: skip
    return out  # no formula constraint in SDV 2.0


def run_sdv(args) -> dict:
    from sdv.metadata import Metadata
    from sdv.sampling import Condition
    from sdv.single_table import CTGANSynthesizer, GaussianCopulaSynthesizer

    results = {"library": "sdv", "rules": {}, "conditions": {}}
    for table in args.tables:
        real = load(table)
        metadata = Metadata.detect_from_dataframes({"table": real})
        for spec in rules_spec(table):  # SDV combines categorical columns only
            if spec["rule"] == "fixed_combinations":
                for column in spec["columns"]:
                    metadata.update_column(column, sdtype="categorical", table_name="table")
        for kind in ("GaussianCopula", "CTGAN"):
            for with_rules in (False, True):
                if kind == "CTGAN":
                    model = CTGANSynthesizer(metadata, epochs=args.epochs, enable_gpu=False)
                else:
                    model = GaussianCopulaSynthesizer(metadata)
                if with_rules:
                    model.add_constraints(sdv_constraints(table))
                try:
                    _, fit_s = timed(model.fit, {"table": real})
                    model.sample(100)
                    rows, sample_s = timed(model.sample, SAMPLE_ROWS)
                    rows = next(iter(rows.values())) if isinstance(rows, dict) else rows
                except Exception as exc:  # noqa: BLE001 - recorded as the result
                    key = f"{table}/{kind}/{'rules' if with_rules else 'no rules'}"
                    results["rules"][key] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                    print(key, results["rules"][key], flush=True)
                    continue
                key = f"{table}/{kind}/{'rules' if with_rules else 'no rules'}"
                results["rules"][key] = {
                    "fit_s": round(fit_s, 1), "rows_per_s": round(SAMPLE_ROWS / sample_s),
                    "shapes": round(shapes(real, rows), 4),
                    "adherence": adherence(table, real, rows),
                }  # fmt: skip
                print(key, results["rules"][key], flush=True)
                if table == "adult" and not with_rules:
                    for name, conditions in CONDITIONS.items():
                        if any(isinstance(v, tuple) for v in conditions.values()):
                            continue  # SDV conditions are equalities
                        try:
                            condition = Condition(num_rows=SAMPLE_ROWS, column_values=conditions)
                            drawn, seconds = timed(model.sample_from_conditions, [condition])
                            if isinstance(drawn, dict):
                                drawn = next(iter(drawn.values()))
                            entry = {"seconds": round(seconds, 2), "rows": int(len(drawn)),
                                     "adherence": float(meets(drawn, conditions).mean())}  # fmt: skip
                            subset = real[meets(real, conditions)]
                            others = [c for c in real.columns if c not in conditions]
                            entry["shapes_given"] = round(shapes(subset, drawn, others), 4)
                        except Exception as exc:  # noqa: BLE001
                            entry = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                        results["conditions"][f"{kind}/{name}"] = entry
                        print(kind, name, entry, flush=True)
    return results


# -- table ---------------------------------------------------------------------------------------


def table(_args) -> None:
    parts = {p: json.loads((RESULTS / f"rules_{p}.json").read_text())
             for p in ("synthgan", "sdv") if (RESULTS / f"rules_{p}.json").exists()}  # fmt: skip
    print("| table / model | rules | fit s | rows/s | shapes | adherence (each rule) |")
    print("|---|---|---|---|---|---|")
    for part in parts.values():
        for key, r in part["rules"].items():
            bits = key.split("/")
            name = f"{bits[0]} / {part['library']}" + (f" {bits[1]}" if len(bits) == 3 else "")
            if "error" in r:
                print(f"| {name} | {bits[-1]} | - | - | - | {r['error'][:80]} |")
                continue
            adh = ", ".join(f"{k}: {v:.4f}" for k, v in r["adherence"].items())
            print(f"| {name} | {bits[-1]} | {r['fit_s']} | {r['rows_per_s']:,} | {r['shapes']:.4f} "
                  f"| {adh} |")  # fmt: skip
    print()
    print("| condition | synthgan s | synthgan adherence | shapes given | shapes unconditioned "
          "| SDV CTGAN s | SDV GaussianCopula s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    ours = parts.get("synthgan", {}).get("conditions", {})
    theirs = parts.get("sdv", {}).get("conditions", {})
    for name, r in ours.items():
        if name == "unconditional":
            continue

        def sdv(kind, name=name):
            entry = theirs.get(f"{kind}/{name}")
            if entry is None:
                return "no ranges"
            return entry.get("seconds", entry.get("error", "")[:40])

        print(f"| {name} | {r['seconds']} | {r['adherence']:.4f} | {r['shapes_given']:.4f} | "
              f"{r['shapes_unconditioned']:.4f} | {sdv('CTGAN')} | {sdv('GaussianCopula')} |")
    if "unconditional" in ours:
        print(f"\nUnconditional column shapes (all columns): {ours['unconditional']['shapes']:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["synthgan", "sdv", "table"])
    parser.add_argument("--epochs", type=lambda v: v if v == "auto" else int(v), default=5,
                        help='a number, or "auto" (synthgan\'s default length)')
    parser.add_argument("--tables", nargs="+", default=["adult", "bikeshare"])
    parser.add_argument("--tag", default="", help="results go to rules_<part>_<tag>.json")
    args = parser.parse_args()
    if args.part == "table":
        table(args)
        return
    results = run_synthgan(args) if args.part == "synthgan" else run_sdv(args)
    results["settings"] = {"epochs": args.epochs, "tables": args.tables,
                           "command": " ".join(sys.argv), "python": platform.python_version(),
                           "machine": "2 cores shared with other sessions (busy)"}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    name = f"rules_{args.part}_{args.tag}.json" if args.tag else f"rules_{args.part}.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
