#!/usr/bin/env bash
# One command for a GPU loan (see benchmarks/gpu/README.md). On the GPU machine, from the
# repository root, with .gpu/ carried (made here by benchmarks/gpu/prepare.sh):
#     bash benchmarks/gpu/run.sh            # results land in $OUT (or ./gpu-out)
#     bash benchmarks/gpu/run.sh --dry-run  # anywhere: CPU, tiny sizes (the test suite runs it)
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-$PWD/gpu-out}"
DRY=""
[ "${1:-}" = "--dry-run" ] && DRY="--dry-run"
mkdir -p "$OUT"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PYTHON="${PYTHON:-python3}"

if [ -z "$DRY" ]; then
    # The GPU image has torch, numpy, scipy, numba...; the audio packages travel as wheels.
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .gpu/whl/*.whl || exit 1
    export PYTHONPATH="$PYTHONPATH:/tmp/site"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt"
    # The CUDA tests, then the CPU-only suite is CI's business, not the loan's.
    timeout 120 "$PYTHON" -m pytest -q -p no:cacheprovider tests/gpu 2>&1 | tail -25 \
        > "$OUT/tests.txt"
    DATA=.gpu/data
    HELDOUT=.gpu/heldout
else
    DATA="${DATA:?--dry-run needs DATA=folder of a few wavs}"
    HELDOUT="${HELDOUT:-$DATA}"
fi
"$PYTHON" benchmarks/gpu/device_run.py --data "$DATA" --heldout "$HELDOUT" --out "$OUT" $DRY \
    --work "${WORK:-/tmp/cadenza-gpu}"
