#!/usr/bin/env bash
# The environment of benchmarks/peers/run_smartnoise.py: smartnoise-synth (MST, AIM, DP-CTGAN,
# PATE-CTGAN) in a virtual environment of its own, because it pins opacus 0.14, which synthgan's
# private path (opacus >= 1.4) cannot share. bench_privacy.py scores its tables from the peers'
# environment (setup_peers_venv.sh). A benchmark-only environment, kept outside the repository.
#
#   bash benchmarks/peers/setup_smartnoise_venv.sh              # makes /work/sn-venv
#   bash benchmarks/peers/setup_smartnoise_venv.sh /some/venv   # elsewhere
#
# torch==2.13.0 goes first, the CPU build: smartnoise-synth's DP-CTGAN pulls torch, and an
# unpinned install is a multi-GB CUDA build.
# Versions when this was written: torch 2.13.0+cpu, smartnoise-synth 1.0.8, opacus 0.14.0,
# mbi 1.1.0, sdmetrics 0.32.0, pandas 2.3.3, numpy 2.4.6 (Python 3.11).
set -euo pipefail

VENV="${1:-/work/sn-venv}"
PYTHON="${PYTHON:-python3}"

"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install torch==2.13.0
"$VENV/bin/pip" install smartnoise-synth sdmetrics pyarrow

"$VENV/bin/python" - <<'PY'
from importlib import metadata

from snsynth import Synthesizer  # noqa: F401  (fails here if the install is broken)

for dist in ("smartnoise-synth", "opacus", "mbi", "torch", "pandas", "numpy"):
    print(f"{dist} {metadata.version(dist)}")
PY
