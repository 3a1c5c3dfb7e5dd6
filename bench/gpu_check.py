"""GPU check: train forecaster M for a fixed number of steps on CUDA (with AMP) and on the CPU.

Prints samples per second on each device and the CUDA/CPU ratio, and writes
build/bench/gpu_check.json.  Without CUDA it runs the CPU leg only and says so (the
"cuda" figures are then absent), so the script itself is exercised everywhere.

One prepared command for a lent GPU machine:
    bash bench/gpu_check.sh            # builds .venv if needed, then runs this script
or  .venv/bin/python bench/gpu_check.py --steps 200 --backbone patch
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import sclm
from sclm.benchmarking import Bench
from sclm.models import Forecaster, ForecasterConfig
from sclm.training import fit
from sclm.windows import PanelScaler, make_windows


def windows(n_nodes: int, input_size: int, horizon: int):
    sc = sclm.make_scenario("retail", seed=0, n_nodes=n_nodes)
    panel = sc.truth
    targets = ["sales", "inventory", "shipments"]
    covariates = ["promotion", "price"]
    scaled = PanelScaler(method="mean_abs").fit(panel).transform(panel)
    w = make_windows(
        scaled,
        targets=targets,
        covariates=covariates,
        known_future=["promotion", "price", "calendar"],
        input_size=input_size,
        horizon=horizon,
    )
    return w


def leg(
    w, device: str, *, steps: int, batch_size: int, backbone: str, seed: int
) -> tuple[float, float, float]:
    """Train for ``steps`` optimizer steps on ``device``; return (samples/s, last train loss, seconds)."""
    sclm.seed_everything(seed)
    cfg = ForecasterConfig(
        n_channels=w.X.shape[2],
        n_future=w.X_future.shape[2],
        n_targets=w.Y.shape[2],
        input_size=w.X.shape[1],
        horizon=w.Y.shape[1],
        backbone=backbone,
        quantiles=(0.1, 0.5, 0.9),
    )
    model = Forecaster(cfg)
    t0 = time.perf_counter()
    res = fit(
        model,
        (w.X, w.X_future, w.Y),
        epochs=10_000,
        max_steps=steps,
        batch_size=batch_size,
        seed=seed,
        device=device,
        amp="auto",
        progress=False,
    )
    secs = time.perf_counter() - t0
    return res.samples_per_s, float(res.train_loss[-1]) if res.train_loss else float("nan"), secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=200, help="optimizer steps per device")
    ap.add_argument("--cpu-steps", type=int, default=None, help="steps for the CPU leg (default: --steps)")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--backbone", choices=["patch", "lm"], default="patch")
    ap.add_argument("--nodes", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out-dir", default=None, help="folder for gpu_check.json (default build/bench)")
    args = ap.parse_args()
    w = windows(args.nodes, input_size=56, horizon=14)
    bench = Bench("gpu_check", out_dir=args.out_dir)
    bench.add("windows", int(len(w.X)))
    bench.add("torch", torch.__version__)
    cpu_sps, cpu_loss, cpu_secs = leg(
        w,
        "cpu",
        steps=args.cpu_steps or args.steps,
        batch_size=args.batch_size,
        backbone=args.backbone,
        seed=args.seed,
    )
    bench.add("cpu samples/s", round(cpu_sps, 1))
    bench.add("cpu final train loss", round(cpu_loss, 5))
    if torch.cuda.is_available():
        bench.add("cuda device", torch.cuda.get_device_name(0))
        cuda_sps, cuda_loss, _ = leg(
            w, "cuda", steps=args.steps, batch_size=args.batch_size, backbone=args.backbone, seed=args.seed
        )
        bench.add("cuda samples/s (AMP)", round(cuda_sps, 1))
        bench.add("cuda final train loss", round(cuda_loss, 5))
        bench.add("cuda / cpu samples/s", round(cuda_sps / cpu_sps, 2), ">= 1")
        bench.add("loss finite on cuda", bool(np.isfinite(cuda_loss)), None)
    else:
        bench.add("cuda", "not available: CPU leg only")
    bench.finish()


if __name__ == "__main__":
    main()
