#!/usr/bin/env bash
# One prepared command for a machine with a GPU: build the venv if needed, then train M for a
# fixed number of steps on CUDA (AMP) and on the CPU and print samples/s and their ratio.
# With more than one GPU visible, a DDP leg follows: torchrun, one process per GPU (NCCL),
# samples/s of all GPUs against the single-GPU figure (build/bench/gpu_check_ddp.json).
# constraints.txt pins the CPU wheel of torch 2.13.0; on a GPU machine the venv needs a CUDA
# build of the same torch version installed over it for the CUDA legs to run.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 PYTHONHASHSEED=0 CUBLAS_WORKSPACE_CONFIG=:4096:8
[ -x .venv/bin/python ] || make setup
.venv/bin/python bench/gpu_check.py "$@"
n_gpus=$(.venv/bin/python -c "import torch; print(torch.cuda.device_count())")
if [ "$n_gpus" -gt 1 ]; then
    OMP_NUM_THREADS=1 .venv/bin/python -m torch.distributed.run --standalone --nproc_per_node "$n_gpus" \
        bench/gpu_check.py --ddp "$@"
else
    echo "DDP leg skipped: $n_gpus GPU(s) visible (needs 2 or more)"
fi
