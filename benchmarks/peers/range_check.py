"""Values outside the real range in the peers' saved synthetic Adult tables.

ctgan's and TVAE's inverse transforms do not clip to the observed range, so synthetic rows can
hold ages under 17 or negative capital gains; this counts them (and checks the 99999 spike of
capital-gain, the sentinel a mixture smears). Quality scores are the evaluator's job, not this.

    /opt/peers/bin/python benchmarks/peers/range_check.py   # a Markdown table on stdout
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from synthgan.datasets import load_adult

RESULTS_DIR = Path(__file__).resolve().parents[1] / "results" / "peers"


def range_report(synthetic: pd.DataFrame, real: pd.DataFrame) -> dict[str, int]:
    """Rows below the real minimum or above the real maximum, per numeric column."""
    out = {}
    for column in real.columns:
        if pd.api.types.is_numeric_dtype(real[column]):
            values = synthetic[column]
            out[column] = int(((values < real[column].min()) | (values > real[column].max())).sum())
    out["capital-gain == 99999"] = int((synthetic["capital-gain"] == 99999).sum())
    return out


def main() -> None:
    real, _ = load_adult()
    rows = {"real (Adult train)": range_report(real, real)}
    for path in sorted(RESULTS_DIR.glob("*_seed*.parquet")):
        rows[path.stem] = range_report(pd.read_parquet(path), real)
    columns = list(next(iter(rows.values())))
    print("| table | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for name, report in rows.items():
        print(f"| {name} | " + " | ".join(str(report[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()
