#!/usr/bin/env bash
# One prepared command for a machine with a GPU: build the venv if needed, then train M for a
# fixed number of steps on CUDA (AMP) and on the CPU and print samples/s and their ratio.
# constraints.txt pins the CPU wheel of torch 2.13.0; on a GPU machine the venv needs a CUDA
# build of the same torch version installed over it for the CUDA leg to run.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 PYTHONHASHSEED=0 CUBLAS_WORKSPACE_CONFIG=:4096:8
[ -x .venv/bin/python ] || make setup
.venv/bin/python bench/gpu_check.py "$@"
