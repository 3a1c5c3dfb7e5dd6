"""One training loop for every forecaster: :func:`fit`, :func:`predict`, :func:`resolve_device`.

Model protocol
--------------
``fit`` trains any ``torch.nn.Module`` with ``forward(x, x_future)`` and ``loss(output, y)``
(e.g. :class:`sclm.models.Forecaster`); only parameters with ``requires_grad`` are optimised
(AdamW), so frozen LM weights stay untouched.

Reproducibility
---------------
``fit`` calls :func:`sclm.repro.seed_everything` (deterministic torch algorithms), shuffles with
a ``torch.Generator`` seeded from ``seed`` (``num_workers=0``), so two CPU runs with the same
seed and the same initial model give bit-identical weights.  Seed *before* building the model
too if its initialisation must match.

Checkpoints (``checkpoint_dir``)
--------------------------------
After every epoch: ``epoch-NNNN/`` with ``model.safetensors`` (weights),
``optimizer.safetensors`` (AdamW moment tensors, flattened as ``state.<param>.<name>``),
``rng.safetensors`` (torch CPU/CUDA generator states and the shuffling generator),
``best.safetensors`` (best weights so far, with validation data) and ``state.json`` (epoch,
steps, history, early-stopping counters, optimizer param-group scalars); then ``latest.json``
is atomically switched to the new folder and the previous folder removed.  Nothing is pickled.
``resume=True`` reloads the latest checkpoint and continues; the result equals an
uninterrupted run (same final weights, same history).

Devices and mixed precision
---------------------------
``device="auto"`` → CUDA, else MPS, else CPU.  ``amp="auto"`` → autocast on CUDA only (bf16
where supported, else fp16 with a GradScaler); ``amp=True`` on CPU uses bf16 autocast (slow, for
tests).  ``pin_memory="auto"`` → pinned host memory and non-blocking copies on CUDA only.

Several processes (DistributedDataParallel)
-------------------------------------------
Under ``torchrun --nproc_per_node N`` (or ``accelerate launch``), ``fit`` reads ``WORLD_SIZE`` /
``RANK`` / ``LOCAL_RANK``, joins or creates the process group (``gloo`` on CPU, ``nccl`` on CUDA,
each rank on ``cuda:LOCAL_RANK``), wraps the model in DDP and trains each rank on its share of
the *same* seeded global batch of ``batch_size`` windows (:mod:`sclm._distributed`): with
dropout off, the weights equal a single-process run's to float tolerance (the sums are taken
in another order).  Epoch and validation losses are all-reduced, so early stopping decides
alike on every rank; only rank 0 shows progress and writes checkpoints (``checkpoint_dir`` must
be visible to all ranks for ``resume``).  Every rank returns the trained model.  A group that
``fit`` created is kept for later calls and destroyed at exit.  Dropout masks are drawn per rank, so with
dropout the run is reproducible but not equal to the single-process one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from sclm import _distributed
from sclm.repro import seed_everything

__all__ = ["FitResult", "Prediction", "fit", "predict", "resolve_device"]

Arrays = tuple[np.ndarray, np.ndarray | None, np.ndarray]


# --------------------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------------------


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → ``cuda`` if available, else ``mps``, else ``cpu``; an explicit device is checked.

    Raises
    ------
    RuntimeError
        The requested accelerator is not available in this torch build / on this machine.
    ValueError
        Unknown device string.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind = device.split(":", 1)[0]
    if kind == "cpu":
        return torch.device(device)
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device={device!r} requested but CUDA is not available (torch {torch.__version__}, "
                f"built with CUDA {torch.version.cuda}); use device='auto' or 'cpu'"
            )
        dev = torch.device(device)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device={device!r} requested but only {torch.cuda.device_count()} GPU(s) visible"
            )
        return dev
    if kind == "mps":
        if not _mps_available():
            raise RuntimeError(f"device={device!r} requested but MPS (Apple GPU) is not available")
        return torch.device(device)
    raise ValueError(f"device must be 'auto', 'cpu', 'cuda[:i]' or 'mps', got {device!r}")


def _resolve_flag(value: bool | str, dev: torch.device, name: str) -> bool:
    if value == "auto":
        return dev.type == "cuda"
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise ValueError(f"{name} must be 'auto', True or False, got {value!r}")


def _amp_dtype(dev: torch.device) -> torch.dtype:
    if dev.type == "cuda" and not torch.cuda.is_bf16_supported():
        return torch.float16  # pragma: no cover - pre-Ampere GPUs
    return torch.bfloat16


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


def _tensors(data: Sequence[Any], name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    if len(data) != 3:
        raise ValueError(f"{name} must be a tuple (X, X_future, Y), got {len(data)} item(s)")
    x, xf, y = data
    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.ascontiguousarray(y, dtype=np.float32)
    if x.ndim != 3 or y.ndim != 3 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{name}: X must be (N, T, C) and Y (N, H, K) with the same N; got {x.shape}, {y.shape}"
        )
    xf = (
        np.zeros((x.shape[0], y.shape[1], 0), np.float32)
        if xf is None
        else np.ascontiguousarray(xf, np.float32)
    )
    if xf.ndim != 3 or xf.shape[:2] != (x.shape[0], y.shape[1]):
        raise ValueError(
            f"{name}: X_future must be (N, H, F) = ({x.shape[0]}, {y.shape[1]}, F), got {xf.shape}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} has no windows")
    return torch.from_numpy(x), torch.from_numpy(xf), torch.from_numpy(y)


def _to(t: torch.Tensor, dev: torch.device, non_blocking: bool) -> torch.Tensor:
    return t.to(dev, non_blocking=non_blocking)


# --------------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------------


@dataclass
class FitResult:
    """What :func:`fit` did.

    Attributes
    ----------
    train_loss, val_loss : list of float
        Mean loss per epoch (``val_loss`` empty without validation data); over all epochs,
        including those before a resume.
    best_epoch : int
        1-based epoch whose weights the model holds at the end (the last epoch without val).
    best_val_loss : float or None
    epochs_run, steps : int
        Epochs completed and optimizer steps taken in total.
    stopped_early : bool
        Early stopping (patience) ended the run.
    seconds, samples_per_s : float
        Wall time of this call and training throughput (this call only).
    device : str
    amp : bool
    resumed_from : int
        Epoch restored from a checkpoint (0: fresh start).
    world_size : int
        Processes that trained together (1: no DDP); ``samples_per_s`` counts all of them.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float | None = None
    epochs_run: int = 0
    steps: int = 0
    stopped_early: bool = False
    seconds: float = 0.0
    samples_per_s: float = 0.0
    device: str = "cpu"
    amp: bool = False
    resumed_from: int = 0
    world_size: int = 1

    @property
    def history(self) -> list[dict[str, float | None]]:
        """One dict per epoch: ``epoch`` (1-based), ``train_loss``, ``val_loss``."""
        return [
            {
                "epoch": i + 1,
                "train_loss": t,
                "val_loss": self.val_loss[i] if i < len(self.val_loss) else None,
            }
            for i, t in enumerate(self.train_loss)
        ]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------------


def _cpu_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in module.state_dict().items()}


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _save_checkpoint(
    ckpt: Path,
    epoch: int,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    gen: torch.Generator,
    best_state: dict[str, torch.Tensor] | None,
    state: dict[str, Any],
) -> None:
    ckpt.mkdir(parents=True, exist_ok=True)
    folder = ckpt / f"epoch-{epoch:04d}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    save_file(_cpu_state(model), str(folder / "model.safetensors"))
    osd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in osd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"state.{pid}.{k}"] = v.detach().to("cpu", copy=True).contiguous()
            else:
                scalars.setdefault(str(pid), {})[k] = v
    save_file(tensors, str(folder / "optimizer.safetensors"))
    rng = {"torch_cpu": torch.get_rng_state(), "loader": gen.get_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            rng[f"cuda.{i}"] = s
    save_file(rng, str(folder / "rng.safetensors"))
    if best_state is not None:
        save_file(best_state, str(folder / "best.safetensors"))
    full = {**state, "epoch": epoch, "optimizer_groups": osd["param_groups"], "optimizer_scalars": scalars}
    (folder / "state.json").write_text(json.dumps(full, indent=1, sort_keys=True), encoding="utf-8")
    previous = _latest_folder(ckpt)
    _atomic_write_text(ckpt / "latest.json", json.dumps({"folder": folder.name}) + "\n")
    if previous is not None and previous != folder and previous.exists():
        shutil.rmtree(previous)


def _latest_folder(ckpt: Path) -> Path | None:
    marker = ckpt / "latest.json"
    if not marker.is_file():
        return None
    return ckpt / json.loads(marker.read_text(encoding="utf-8"))["folder"]


def _load_checkpoint(
    folder: Path, model: nn.Module, opt: torch.optim.Optimizer, gen: torch.Generator, dev: torch.device
) -> tuple[dict[str, Any], dict[str, torch.Tensor] | None]:
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    model.load_state_dict(load_file(str(folder / "model.safetensors")), strict=True)
    per_param: dict[int, dict[str, Any]] = {}
    for key, v in load_file(str(folder / "optimizer.safetensors")).items():
        _, pid, name = key.split(".", 2)
        per_param.setdefault(int(pid), {})[name] = v
    for pid, sc in state["optimizer_scalars"].items():
        per_param.setdefault(int(pid), {}).update(sc)
    groups = state["optimizer_groups"]
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    opt.load_state_dict({"state": per_param, "param_groups": groups})
    rng = load_file(str(folder / "rng.safetensors"))
    torch.set_rng_state(rng["torch_cpu"])
    gen.set_state(rng["loader"])
    if torch.cuda.is_available():
        cuda_states = [rng[k] for k in sorted(k for k in rng if k.startswith("cuda."))]
        if cuda_states:
            torch.cuda.set_rng_state_all(cuda_states)
    best = load_file(str(folder / "best.safetensors")) if (folder / "best.safetensors").is_file() else None
    return state, best


# --------------------------------------------------------------------------------------------------
# Fit
# --------------------------------------------------------------------------------------------------


def _evaluate(
    model: nn.Module,
    loader: DataLoader | None,
    dev: torch.device,
    autocast: Callable,
    non_blocking: bool,
    ctx: _distributed.DistContext | None = None,
) -> float:
    """Mean validation loss over all windows (over all ranks' shards under DDP)."""
    model.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for xb, xfb, yb in loader if loader is not None else ():
            xb, xfb, yb = (_to(t, dev, non_blocking) for t in (xb, xfb, yb))
            with autocast():
                loss = model.loss(model(xb, xfb), yb)
            total += float(loss) * len(xb)
            n += len(xb)
    if ctx is not None:
        total, n = _distributed.all_reduce_sums([total, float(n)], dev)
    return total / n


def _fit_device(device: str | torch.device) -> torch.device:
    """``resolve_device``; under a launcher with several processes CUDA means ``cuda:LOCAL_RANK``."""
    dev = resolve_device(device)
    if dev.type == "cuda" and _distributed.env_world_size() > 1:
        if dev.index is None:
            dev = torch.device("cuda", _distributed.local_rank())
        torch.cuda.set_device(dev)
    return dev


def fit(
    model: nn.Module,
    train: Arrays,
    val: Arrays | None = None,
    *,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    device: str = "auto",
    amp: bool | Literal["auto"] = "auto",
    pin_memory: bool | Literal["auto"] = "auto",
    patience: int | None = None,
    max_steps: int | None = None,
    grad_clip: float | None = 1.0,
    progress: bool = True,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
) -> FitResult:
    """Train ``model`` with AdamW on scaled windows; early stopping on the validation loss.

    Parameters
    ----------
    model : nn.Module
        ``forward(x, x_future)`` and ``loss(output, y)``; moved to the device and trained in place.
    train, val : tuple (X, X_future, Y)
        numpy arrays N×T×C, N×H×F (or None when F = 0), N×H×K; ``val`` optional.
    epochs : int
        Total epochs (a resumed run continues up to this count).
    batch_size, lr, weight_decay, seed : training hyper-parameters.
    device : {"auto", "cpu", "cuda", "mps"}
    amp, pin_memory : bool or "auto"
        Autocast / pinned host memory; "auto" = on iff the device is CUDA.
    patience : int, optional
        Stop after this many epochs without a lower validation loss (needs ``val``).  With
        ``val``, the best epoch's weights are restored at the end whether or not it stopped.
    max_steps : int, optional
        Cap on optimizer steps (counted across resumes); the epoch in progress is then
        validated and training ends.
    grad_clip : float, optional
        Max gradient norm (None: no clipping).
    progress : bool
        tqdm bar over epochs.
    checkpoint_dir : path, optional
        Save a resumable checkpoint after every epoch (see the module docstring).
    resume : bool
        Continue from the latest checkpoint in ``checkpoint_dir`` (fresh start if none).

    Returns
    -------
    FitResult

    Notes
    -----
    Under ``torchrun`` with ``WORLD_SIZE > 1`` (or inside an initialised default process group)
    the run is data-parallel; ``batch_size`` stays the *global* batch (each of the W ranks gets
    about ``batch_size / W`` windows of it).  See the module docstring.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
    if patience is not None and patience < 1:
        raise ValueError(f"patience must be >= 1 or None, got {patience}")
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"max_steps must be >= 1 or None, got {max_steps}")
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs checkpoint_dir")
    t0 = time.perf_counter()
    dev = _fit_device(device)
    ctx = _distributed.setup(dev.type)
    result = _fit(
        model,
        train,
        val,
        dev,
        ctx,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        seed=seed,
        amp=amp,
        pin_memory=pin_memory,
        patience=patience,
        max_steps=max_steps,
        grad_clip=grad_clip,
        progress=progress,
        checkpoint_dir=checkpoint_dir,
        resume=resume,
        t0=t0,
    )
    _distributed.teardown(ctx, dev)
    return result


def _fit(
    model: nn.Module,
    train: Arrays,
    val: Arrays | None,
    dev: torch.device,
    ctx: _distributed.DistContext | None,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    seed: int,
    amp: bool | Literal["auto"],
    pin_memory: bool | Literal["auto"],
    patience: int | None,
    max_steps: int | None,
    grad_clip: float | None,
    progress: bool,
    checkpoint_dir: str | os.PathLike[str] | None,
    resume: bool,
    t0: float,
) -> FitResult:
    main = ctx is None or ctx.is_main
    use_amp = _resolve_flag(amp, dev, "amp")
    pin = _resolve_flag(pin_memory, dev, "pin_memory")
    amp_dtype = _amp_dtype(dev)
    seed_everything(seed)

    tr = _tensors(train, "train")
    va = _tensors(val, "val") if val is not None else None
    gen = torch.Generator()
    gen.manual_seed(seed)
    loader_kw = {"batch_size": batch_size, "num_workers": 0, "pin_memory": pin}
    val_loader: DataLoader | None = None
    if ctx is None:
        train_loader = DataLoader(TensorDataset(*tr), shuffle=True, generator=gen, **loader_kw)
        if va is not None:
            val_loader = DataLoader(TensorDataset(*va), shuffle=False, **loader_kw)
        global_sizes = local_sizes = None
    else:
        sampler = _distributed.GlobalBatchSampler(len(tr[0]), batch_size, gen, ctx.rank, ctx.world_size)
        train_loader = DataLoader(
            TensorDataset(*tr), batch_sampler=sampler, generator=gen, num_workers=0, pin_memory=pin
        )
        global_sizes, local_sizes = sampler.global_sizes, sampler.local_sizes()
        if va is not None:
            shard = np.array_split(np.arange(len(va[0])), ctx.world_size)[ctx.rank]
            if len(shard):
                val_loader = DataLoader(TensorDataset(*(t[shard] for t in va)), shuffle=False, **loader_kw)

    model.to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)

    def autocast() -> contextlib.AbstractContextManager:
        if not use_amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type=dev.type, dtype=amp_dtype)

    fingerprint = {
        "n_train": len(tr[0]),
        "n_val": 0 if va is None else len(va[0]),
        "batch_size": batch_size,
        "seed": seed,
        "n_params": sum(p.numel() for p in model.parameters()),
    }
    result = FitResult(device=str(dev), amp=use_amp, world_size=1 if ctx is None else ctx.world_size)
    best_state: dict[str, torch.Tensor] | None = None
    best_val, bad_epochs, start_epoch = math.inf, 0, 0
    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if resume and ckpt is not None and (folder := _latest_folder(ckpt)) is not None:
        state, best_state = _load_checkpoint(folder, model, opt, gen, dev)
        if state["fingerprint"] != fingerprint:
            raise ValueError(
                f"checkpoint {folder} was written for {state['fingerprint']}, this run is {fingerprint}"
            )
        model.to(dev)
        start_epoch = result.resumed_from = int(state["epoch"])
        result.train_loss, result.val_loss = list(state["train_loss"]), list(state["val_loss"])
        result.steps, result.best_epoch = int(state["steps"]), int(state["best_epoch"])
        best_val = math.inf if state["best_val"] is None else float(state["best_val"])
        bad_epochs = int(state["bad_epochs"])
        result.stopped_early = bool(state["stopped_early"])

    net: nn.Module = model
    if ctx is not None:  # after a resume: DDP starts from (and broadcasts) the loaded weights
        net = nn.parallel.DistributedDataParallel(
            model, device_ids=[dev.index] if dev.type == "cuda" else None
        )
    n_samples = 0
    train_seconds = 0.0
    bar = tqdm(total=epochs, initial=start_epoch, disable=not (progress and main), desc="fit", unit="epoch")
    epoch = start_epoch

    def done() -> bool:
        steps_left = max_steps is None or result.steps < max_steps
        return result.stopped_early or epoch >= epochs or not steps_left

    while not done():
        epoch += 1
        model.train()
        if ctx is not None:
            sampler.set_epoch(epoch)
        t_ep = time.perf_counter()
        total, n = 0.0, 0
        for i, (xb, xfb, yb) in enumerate(train_loader):
            xb, xfb, yb = (_to(t, dev, pin) for t in (xb, xfb, yb))
            with autocast():
                loss = model.loss(net(xb, xfb), yb)
            n_local = len(xb)
            if ctx is not None:  # weight the rank's mean so DDP's average is the global-batch mean
                n_local = local_sizes[i]
                (step_loss,) = _distributed.all_reduce_sums([float(loss.detach()) * n_local], dev)
                finite = math.isfinite(step_loss)
                loss = loss * _distributed.share_weight(n_local, global_sizes[i], ctx.world_size)
            else:
                finite = bool(torch.isfinite(loss))
            if not finite:
                raise FloatingPointError(f"non-finite training loss {float(loss)} at epoch {epoch}")
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if grad_clip is not None:
                scaler.unscale_(opt)
                nn.utils.clip_grad_norm_(params, grad_clip)
            scaler.step(opt)
            scaler.update()
            result.steps += 1
            if ctx is not None:
                total += step_loss
                n += global_sizes[i]
            else:
                total += float(loss.detach()) * len(xb)
                n += len(xb)
            if max_steps is not None and result.steps >= max_steps:
                break
        train_seconds += time.perf_counter() - t_ep
        n_samples += n
        result.train_loss.append(total / n)
        if va is not None:
            v = _evaluate(model, val_loader, dev, autocast, pin, ctx)
            result.val_loss.append(v)
            if v < best_val:
                best_val, bad_epochs, result.best_epoch = v, 0, epoch
                best_state = _cpu_state(model)
            else:
                bad_epochs += 1
                if patience is not None and bad_epochs >= patience:
                    result.stopped_early = True
        else:
            result.best_epoch = epoch
        bar.update(1)
        bar.set_postfix(
            train=f"{result.train_loss[-1]:.4g}", val=f"{result.val_loss[-1]:.4g}" if va is not None else "-"
        )
        if ckpt is not None and main:
            state = {
                "fingerprint": fingerprint,
                "train_loss": result.train_loss,
                "val_loss": result.val_loss,
                "steps": result.steps,
                "best_epoch": result.best_epoch,
                "best_val": None if math.isinf(best_val) else best_val,
                "bad_epochs": bad_epochs,
                "stopped_early": result.stopped_early,
            }
            _save_checkpoint(ckpt, epoch, model, opt, gen, best_state, state)
    bar.close()

    if best_state is not None:
        model.load_state_dict(best_state)
    result.best_val_loss = None if math.isinf(best_val) else best_val
    result.epochs_run = len(result.train_loss)
    result.seconds = time.perf_counter() - t0
    result.samples_per_s = n_samples / train_seconds if train_seconds > 0 else 0.0
    model.eval()
    return result


# --------------------------------------------------------------------------------------------------
# Predict
# --------------------------------------------------------------------------------------------------


class Prediction(NamedTuple):
    """``point`` (N, H, K) and ``quantiles`` (N, H, K, Q) or None, numpy float32."""

    point: np.ndarray
    quantiles: np.ndarray | None = None


def predict(
    model: nn.Module,
    X: np.ndarray,
    X_future: np.ndarray | None = None,
    *,
    batch_size: int = 256,
    device: str = "auto",
    inverse: Callable[[np.ndarray], np.ndarray] | None = None,
    sort_quantiles: bool = True,
) -> Prediction:
    """Forecast in eval mode, batch by batch, without gradients.

    Parameters
    ----------
    model : nn.Module
        Returns ``(point, quantiles)`` (e.g. :class:`sclm.models.Forecaster`); moved to ``device``.
    X, X_future : numpy arrays (N, T, C) and (N, H, F) (X_future may be None when F = 0).
    inverse : callable, optional
        Maps a scaled array whose last axis is K (shape (N, ..., K)) to original units, e.g.
        ``lambda a: scaler.inverse_transform(a, nodes=w.nodes, columns=w.targets)``.  Quantiles
        are passed as (N, Q, H, K).  After it, targets flagged ``config.nonneg`` are clamped at 0.
        Without it, outputs stay on the scaled axis and are not clamped.
    sort_quantiles : bool
        Sort the quantile outputs along Q (removes crossings; never increases pinball loss).
    """
    dev = resolve_device(device)
    x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    cfg = getattr(model, "config", None)
    horizon = getattr(cfg, "horizon", None)
    if X_future is None:
        if horizon is None:
            raise ValueError("X_future is None and the model has no config.horizon")
        xf = torch.zeros(x.shape[0], horizon, 0)
    else:
        xf = torch.from_numpy(np.ascontiguousarray(X_future, dtype=np.float32))
    model.to(dev)
    model.eval()
    points, quants = [], []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch_size):
            out = model(x[i : i + batch_size].to(dev), xf[i : i + batch_size].to(dev))
            point, q = (out[0], out[1]) if isinstance(out, tuple) else (out, None)
            points.append(point.float().cpu().numpy())
            if q is not None:
                quants.append(q.float().cpu().numpy())
    point = np.concatenate(points) if points else np.zeros((0, horizon or 0, 0), np.float32)
    quant = np.concatenate(quants) if quants else None
    if quant is not None and sort_quantiles:
        quant = np.sort(quant, axis=-1)
    if inverse is not None:
        point = np.asarray(inverse(point))
        if quant is not None:
            quant = np.moveaxis(np.asarray(inverse(np.moveaxis(quant, -1, 1))), 1, -1)
        nonneg = np.asarray(getattr(cfg, "nonneg", ()) or (), dtype=bool)
        if nonneg.any():
            point = point.copy()
            point[..., nonneg] = np.maximum(point[..., nonneg], 0)
            if quant is not None:
                quant = quant.copy()
                quant[..., nonneg, :] = np.maximum(quant[..., nonneg, :], 0)
    return Prediction(point, quant)
