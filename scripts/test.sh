#!/usr/bin/env bash
# Install synthgan into .venv and run the default test suite (slow tests excluded).
source "$(dirname "$0")/_env.sh"
.venv/bin/python -m pytest -q "$@"
