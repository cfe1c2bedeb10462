#!/usr/bin/env bash
# The default test suite against the oldest versions pyproject.toml claims (scripts/lower_bounds.py
# pins each `>=` bound), in its own .venv-oldest. CI runs it after the newest-versions run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv-oldest/bin/python ]; then
  "$PY" -m venv .venv-oldest
fi
"$PY" scripts/lower_bounds.py > .venv-oldest/constraints.txt
.venv-oldest/bin/python -m pip install -q --upgrade pip
.venv-oldest/bin/python -m pip install -q "torch==2.13.0"
.venv-oldest/bin/python -m pip install -q -c .venv-oldest/constraints.txt -e ".[test]"
.venv-oldest/bin/python -m pip list --format=freeze | grep -i -E "^(torch|numpy|pandas|scikit-learn|scipy|pyarrow|matplotlib|click|tqdm|threadpoolctl|opacus|imbalanced-learn|hypothesis|pytest|pytest-xdist)=="
source scripts/_workers.sh
.venv-oldest/bin/python -m pytest -q "${XDIST[@]}" "$@"
