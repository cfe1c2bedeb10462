#!/usr/bin/env bash
# synthgan's CUDA path on a machine with an NVIDIA GPU, in one run; logs and results in OUT_DIR.
#
#   bash benchmarks/gpu_check.sh OUT_DIR [TEST_SECONDS]
#
# Uses $PYTHON (default python3) as it is, with this checkout on PYTHONPATH: torch with CUDA,
# pandas, scikit-learn, pyarrow, click, tqdm, matplotlib, pytest, pytest-xdist and hypothesis
# must be there already (imbalanced-learn and opacus too, else their tests are skipped).
#   1. smoke: a small fit on the GPU, sampled, saved, loaded on the CPU
#   2. benchmarks/bench_device.py: Adult's default fit on the GPU
#   3. the default test suite, where device="auto" resolves to CUDA (tests that pin the CPU stay
#      there), cut off after TEST_SECONDS (default 180): its per-test lines are in tests.log
#   4. the same fit on this machine's CPUs
set -uo pipefail
out=${1:?usage: gpu_check.sh OUT_DIR [TEST_SECONDS]}
test_seconds=${2:-180}
python=${PYTHON:-python3}
cd "$(dirname "$0")/.."
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  "$python" -c 'import torch, pandas, sklearn, numpy
print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())
print("pandas", pandas.__version__, "sklearn", sklearn.__version__, "numpy", numpy.__version__)'
} 2>&1 | tee "$out/versions.txt"

echo "== smoke"
"$python" - <<'EOF' 2>&1 | tee "$out/smoke.log"
import tempfile, time
from pathlib import Path
import pandas as pd
from synthgan import Synthesizer, load
from synthgan.datasets import adult_path

train = pd.read_parquet(adult_path("train")).head(2000)
tick = time.perf_counter()
model = Synthesizer(epochs=2, random_state=0, verbose=False).fit(train)
print("device", model.device_, "fit", round(time.perf_counter() - tick, 1), "s")
rows = model.sample(500, random_state=0)
print("same rows from the same seed:", model.sample(500, random_state=0).equals(rows))
twin = Synthesizer(epochs=2, random_state=0, verbose=False).fit(train)
print("a second fit with the same seed samples the same rows:",
      twin.sample(500, random_state=0).equals(rows))
assert list(rows.columns) == list(train.columns) and len(rows) == 500
assert rows.dtypes.equals(train.dtypes), (rows.dtypes, train.dtypes)
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "adult.synthgan"
    model.save(path)
    again = load(path, device="cpu")
    print("loaded on the GPU, same rows:", load(path).sample(500, random_state=0).equals(rows))
    print("loaded on the CPU, same rows:", again.sample(500, random_state=0).equals(rows),
          "(CUDA and the CPU draw different random streams)")
EOF

echo "== Adult, defaults, GPU"
"$python" benchmarks/bench_device.py --devices cuda --tables adult --seed 0 \
  --out "$out/device_adult_cuda.json" 2>&1 | tee "$out/bench.log"

echo "== tests (cut off after ${test_seconds} s)"
OMP_NUM_THREADS=1 timeout "$test_seconds" "$python" -m pytest -p no:cacheprovider -n "$(nproc)" -v -rfE \
  --tb=short tests >"$out/tests.log" 2>&1
echo "pytest exit $? (124: cut off)"
grep -a -c " PASSED" "$out/tests.log" | sed 's/^/passed: /'
grep -a -E " (FAILED|ERROR)" "$out/tests.log" | head -40

echo "== Adult, defaults, CPU"
"$python" benchmarks/bench_device.py --devices cpu --tables adult --seed 0 \
  --out "$out/device_adult_cpu.json" 2>&1 | tee -a "$out/bench.log"
