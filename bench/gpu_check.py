"""GPU check: train forecaster M for a fixed number of steps on CUDA (with AMP) and on the CPU.

Prints samples per second on each device and the CUDA/CPU ratio, and writes
build/bench/gpu_check.json.  Without CUDA it runs the CPU leg only and says so (the
"cuda" figures are then absent), so the script itself is exercised everywhere.

One prepared command for a lent GPU machine:
    bash bench/gpu_check.sh            # builds .venv if needed, then runs this script
or  .venv/bin/python bench/gpu_check.py --steps 200 --backbone patch

DDP leg (``--ddp``, run by gpu_check.sh when more than one GPU is visible): under
``torchrun --standalone --nproc_per_node N`` every rank trains M on ``cuda:LOCAL_RANK`` with a
global batch of ``N x --batch-size`` (each GPU gets the single-GPU batch), NCCL all-reduce.
Rank 0 writes build/bench/gpu_check_ddp.json: samples/s of all GPUs together, the ratio to the
single-GPU figure of gpu_check.json (when the plain leg ran first), and whether the weights
are identical on every rank after training.  ``--ddp-device cpu`` runs the same leg on gloo
(for a check without GPUs).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

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
    w, device: str, *, steps: int, batch_size: int, backbone: str, seed: int, model_out: list | None = None
) -> tuple[float, float, float]:
    """Train for ``steps`` optimizer steps on ``device``; return (samples/s, last train loss, seconds).

    ``model_out``: a list the trained model is appended to (for the DDP checks).
    """
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
    if model_out is not None:
        model_out.append(model)
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
    ap.add_argument("--ddp", action="store_true", help="DDP leg (run under torchrun, one rank per GPU)")
    ap.add_argument(
        "--ddp-device", default=None, help="device kind of the DDP leg (default cuda if available, else cpu)"
    )
    args = ap.parse_args()
    if args.ddp:
        ddp_leg(args)
        return
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


def ddp_leg(args: argparse.Namespace) -> None:
    """The data-parallel leg: one process per GPU under torchrun (see the module docstring)."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world < 2:
        raise SystemExit("--ddp runs under torchrun with --nproc_per_node >= 2")
    kind = args.ddp_device or ("cuda" if torch.cuda.is_available() else "cpu")
    w = windows(args.nodes, input_size=56, horizon=14)
    models: list = []
    sps, loss, secs = leg(
        w, kind, steps=args.steps, batch_size=args.batch_size * world, backbone=args.backbone,
        seed=args.seed, model_out=models,
    )  # fmt: skip
    model = models[0]
    dev = next(model.parameters()).device
    flat = torch.cat([p.detach().float().reshape(-1) for p in model.parameters()])
    lo, hi = flat.clone(), flat.clone()
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    identical = bool(torch.equal(lo, hi))
    if dist.get_rank() != 0:
        return
    bench = Bench("gpu_check_ddp", out_dir=args.out_dir)
    bench.add("ddp processes", world)
    bench.add("ddp device", str(dev) if kind == "cpu" else torch.cuda.get_device_name(dev))
    bench.add("ddp backend", str(dist.get_backend()))
    bench.add("ddp global batch", args.batch_size * world, note=f"{args.batch_size} per process")
    bench.add("ddp samples/s (all processes)", round(sps, 1), note=f"{args.steps} steps, {secs:.1f} s")
    bench.add("ddp final train loss", round(loss, 5))
    bench.add("ddp loss finite", bool(torch.isfinite(torch.tensor(loss))), None)
    bench.add("ddp weights identical on all ranks", identical, None)
    single = (Path(args.out_dir) if args.out_dir else sclm.config.BUILD_DIR / "bench") / "gpu_check.json"
    key = "cuda samples/s (AMP)" if kind == "cuda" else "cpu samples/s"
    if single.is_file() and key in (ref := json.loads(single.read_text(encoding="utf-8"))):
        one = float(ref[key]["value"])
        bench.add(
            "ddp / one-device samples/s", round(sps / one, 2), f">= {0.7 * world:g}", note="70% scaling"
        )
    else:
        bench.add(
            "ddp / one-device samples/s", None, note=f"{single} has no {key!r}: run the plain leg first"
        )
    bench.finish()


if __name__ == "__main__":
    main()
