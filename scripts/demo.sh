#!/usr/bin/env bash
# Install synthgan into .venv, then the main job on the bundled Adult data: fit, sample, evaluate.
source "$(dirname "$0")/_env.sh"
mkdir -p out
data=$(.venv/bin/python -c "from synthgan.datasets import adult_path; print(adult_path('train'))")
holdout=$(.venv/bin/python -c "from synthgan.datasets import adult_path; print(adult_path('test'))")
.venv/bin/synthgan inspect "$data"
.venv/bin/synthgan fit "$data" -o out/adult.synthgan --seed 0
.venv/bin/synthgan sample out/adult.synthgan -n 32561 -o out/synthetic.parquet --seed 0
.venv/bin/synthgan evaluate "$data" out/synthetic.parquet --holdout "$holdout" --target income \
  --json out/scores.json --report out/report.html
echo "Model, synthetic table, scores and report are in out/"
