#!/usr/bin/env bash
# Install synthgan into .venv and run the default test suite (slow tests excluded), one worker
# per core (scripts/_workers.sh).
source "$(dirname "$0")/_env.sh"
source scripts/_workers.sh
.venv/bin/python -m pytest -q "${XDIST[@]}" "$@"
