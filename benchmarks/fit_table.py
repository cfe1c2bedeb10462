"""Print the markdown tables of docs/benchmarks.md's "Model" section from bench_fit.py's results.

python benchmarks/fit_table.py            # reads benchmarks/results/fit_adult*.json
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

ROWS = [
    ("fit_seconds", "fit seconds", "{:.0f}"),
    ("sample_rows_per_second", "sampling rows/s (32,561 rows)", "{:,.0f}"),
    ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
    ("utility_roc_auc", "train-on-synthetic ROC AUC", "{:.3f}"),
    ("utility_f1", "train-on-synthetic F1", "{:.3f}"),
    ("sdmetrics_quality", "SDMetrics quality", "{:.3f}"),
    ("sdmetrics_column_shapes", "SDMetrics column shapes", "{:.3f}"),
    ("sdmetrics_column_pair_trends", "SDMetrics pair trends", "{:.3f}"),
    ("detection_auc", "detection AUC (lower is better)", "{:.3f}"),
    ("column_shapes", "synthgan column shapes", "{:.3f}"),
    ("column_pairs", "synthgan column pairs", "{:.3f}"),
    ("dcr_share", "dcr_share (0.5 ideal)", "{:.3f}"),
    ("mia_auc", "mia_auc (0.5 ideal)", "{:.3f}"),
]


def cell(summary: dict, key: str, fmt: str) -> str:
    if key not in summary:
        return "-"
    entry = summary[key]
    text = fmt.format(entry["mean"])
    if entry["n"] > 1:
        text += " ± " + fmt.format(entry["std"])
    return f"{text} (n={entry['n']})"


def main() -> None:
    columns: list[tuple[str, dict]] = []
    for name, label in (("fit_adult.json", "synthgan defaults"),
                        ("fit_adult_target.json", "synthgan, target=income")):  # fmt: skip
        path = RESULTS / name
        if path.is_file():
            data = json.loads(path.read_text())
            if "synthgan" in data:
                columns.append((label, data["synthgan"]["summary"]))
    peers_path = RESULTS / "fit_adult_peers.json"
    if peers_path.is_file():
        for model, entry in json.loads(peers_path.read_text()).get("peers", {}).items():
            if "flush" in model:  # a diagnostic run, not the peer as users get it
                continue
            columns.append((f"{model} 0.12.1 defaults", entry["summary"]))
    print("| | " + " | ".join(label for label, _ in columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for key, label, fmt in ROWS:
        print(f"| {label} | " + " | ".join(cell(s, key, fmt) for _, s in columns) + " |")
    speed_path = RESULTS / "fit_adult_speed.json"
    speed = json.loads(speed_path.read_text()) if speed_path.is_file() else {}
    equal = speed.get("equal_settings") or json.loads((RESULTS / "fit_adult.json").read_text()).get(
        "equal_settings"
    )
    if equal and "ctgan" in equal:
        print()
        print("| equal settings (batch 500, pac 10, 1 critic step) | synthgan | ctgan | ratio |")
        print("|---|---:|---:|---:|")
        for key, label in (("seconds_per_1000_rows", "seconds per 1,000 critic rows (wall)"),
                           ("cpu_seconds_per_1000_rows", "CPU seconds per 1,000 critic rows")):  # fmt: skip
            print(f"| {label} | {equal['synthgan'][key]:.3f} | {equal['ctgan'][key]:.3f} | "
                  f"{equal['ratio_' + key]:.2f} |")  # fmt: skip
    for name in ("fit_adult_speed.json", "fit_adult_speed_2threads.json"):
        path = RESULTS / name
        data = json.loads(path.read_text()) if path.is_file() else {}
        sampling = data.get("sampling")
        if not (sampling and "ctgan" in sampling):
            continue
        exact = "synthgan-float32" in sampling
        print()
        print(f"| sampling, rows per second, {data['threads']} thread(s) | synthgan (default) | "
              + ("synthgan float32 | " if exact else "") + "ctgan | ratio"
              + (" | ratio, float32" if exact else "") + " |")  # fmt: skip
        print("|---|---:|---:|---:|" + ("---:|---:|" if exact else ""))
        for n in (32_561, 100_000):
            key = f"rows_per_second_{n}"
            row = f"| {n:,} rows | {sampling['synthgan'][key]:,.0f} | "
            if exact:
                row += f"{sampling['synthgan-float32'][key]:,.0f} | "
            row += f"{sampling['ctgan'][key]:,.0f} | {sampling[f'ratio_{n}']:.2f} |"
            if exact:
                row += f" {sampling[f'ratio_float32_{n}']:.2f} |"
            print(row)


if __name__ == "__main__":
    main()
