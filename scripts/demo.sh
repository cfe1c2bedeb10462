#!/usr/bin/env bash
# Install synthgan into .venv and run it on the bundled Adult data.
source "$(dirname "$0")/_env.sh"
.venv/bin/synthgan inspect datasets/adult/train.parquet
