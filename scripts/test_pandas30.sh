#!/usr/bin/env bash
# The tests where pandas' behaviour matters most (input and output, the transformer, rules, the
# fuzz suite) on the pandas 3.0 line, which sits between the oldest version CI tests (2.2) and
# today's release and behaves like neither in places: object columns' hashing of strings with
# NUL characters, zoning dates beyond the year 9999. pandas 3.0 goes into .venv/pandas30 beside
# the packages of .venv (scripts/test.sh makes it) and first on the path. CI runs it after the
# newest-versions run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
.venv/bin/python -m pip install -q --no-deps --upgrade --target .venv/pandas30 "pandas>=3.0,<3.1"
export PYTHONPATH=.venv/pandas30
.venv/bin/python -c "import pandas; print('pandas', pandas.__version__, 'from', pandas.__file__)"
source scripts/_workers.sh
.venv/bin/python -m pytest -q "${XDIST[@]}" tests/fuzz tests/unit/transform tests/unit/test_io.py \
  tests/unit/test_rules.py tests/unit/test_rules_discover.py tests/unit/test_schema.py "$@"
