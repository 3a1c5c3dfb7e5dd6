"""The inputs of every attribution method: the explained scalar, windows, baselines, devices.

Private helpers of :func:`sclm.explain.explain` shared by the method adapters
(:mod:`sclm.explain._registry`) and the checks (:mod:`sclm.explain.checks`):

* :class:`_Spec` / :func:`_parse_target` / :class:`_Scalar` — which forecast cell(s) are
  explained (target, 1-based ``step`` ahead, reduction, output) and the ``(N,)`` function of them;
* :class:`_Data` / :func:`_windows_data` — windows (N, T, C) and known-future inputs (N, H, F)
  with their names, checked against the model's config;
* :func:`_baseline`, :func:`_background` — reference inputs and background distributions;
* :func:`_on_device` — the model in eval mode on the explaining device, the caller's untouched.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn


def is_transformer(model: nn.Module) -> bool:
    """True when ``model`` contains LayerNorm or attention (where DeepLift rules are missing)."""
    for m in model.modules():
        if isinstance(m, nn.LayerNorm | nn.MultiheadAttention | nn.TransformerEncoderLayer):
            return True
        name = type(m).__name__
        if "Attention" in name or "LayerNorm" in name:
            return True
    return False


# --------------------------------------------------------------------------------------------------
# Devices and modes
# --------------------------------------------------------------------------------------------------


def _model_device(model: nn.Module) -> torch.device | None:
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return None


@contextlib.contextmanager
def _on_device(model: nn.Module, dev: torch.device) -> Iterator[nn.Module]:
    """``model`` in eval mode on ``dev``: a copy when it lives elsewhere, else itself (mode restored)."""
    cur = _model_device(model)
    if cur is not None and cur != dev:
        m = copy.deepcopy(model).to(dev).eval()
        yield m
        return
    was = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was)


# --------------------------------------------------------------------------------------------------
# Forecast target → one scalar per sample
# --------------------------------------------------------------------------------------------------


@dataclass
class _Spec:
    """What to explain of a forecaster: target index, steps (0-based), reduction, output."""

    k: int
    steps: list[int]
    reduce: str
    quantile: int | None
    info: dict[str, Any]


def _as_point(out: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    if isinstance(out, tuple):  # ForecastOutput is a NamedTuple
        return out[0], (out[1] if len(out) > 1 else None)
    return out, None


def _normalise_point(p: torch.Tensor) -> torch.Tensor:
    """(N,), (N, K) or (N, H, K) → (N, H, K)."""
    if p.ndim == 1:
        return p[:, None, None]
    if p.ndim == 2:
        return p[:, None, :]
    if p.ndim == 3:
        return p
    raise ValueError(f"model output must be (N,), (N, K) or (N, H, K), got shape {tuple(p.shape)}")


def _parse_target(
    target: Any,
    step: Any,
    reduce: str,
    output: Any,
    *,
    n_targets: int,
    horizon: int,
    target_names: Sequence[str],
    quantiles: Sequence[float],
) -> _Spec:
    """Resolve ``target``/``step``/``reduce``/``output`` against a model forecasting ``horizon`` steps.

    ``step`` is 1-based (1 = the day after the origin): an int, a sequence of ints or ``"all"``
    (``"sum"``/``"mean"`` are accepted too: all steps with that reduction); ``target`` may be a
    tuple ``(step, target)``.  The explained record ``info`` lists the chosen steps under ``"step"``.
    """
    if isinstance(target, tuple):
        if len(target) != 2:
            raise ValueError(f"a target tuple must be (step, target), got {target!r}")
        step, target = target
    names = list(target_names)
    if target is None:
        k = 0
    elif isinstance(target, str):
        if target not in names:
            raise ValueError(f"unknown target {target!r}; the model forecasts {names}")
        k = names.index(target)
    elif isinstance(target, int | np.integer) and not isinstance(target, bool):
        k = int(target)
        if not 0 <= k < n_targets:
            raise ValueError(f"target index {k} out of range: the model forecasts {n_targets} target(s)")
    else:
        raise ValueError(f"target must be a target name, an index or (step, target), got {target!r}")
    if isinstance(step, str):
        if step not in ("all", "sum", "mean"):
            raise ValueError(f"step must be a step 1..{horizon}, a sequence of steps or 'all', got {step!r}")
        steps = list(range(1, horizon + 1))
        if step == "mean":
            reduce = "mean"
    elif isinstance(step, int | np.integer) and not isinstance(step, bool):
        steps = [int(step)]
    else:
        try:
            steps = [int(h) for h in step]
        except TypeError:
            raise ValueError(f"step must be a step, a sequence of steps or 'all', got {step!r}") from None
    if not steps or any(not 1 <= h <= horizon for h in steps):
        raise ValueError(
            f"step must be in 1..{horizon} (the model's horizon; 1 = the day after the origin), got {steps}"
        )
    if reduce not in ("sum", "mean"):
        raise ValueError(f"reduce must be 'sum' or 'mean', got {reduce!r}")
    q = None
    if output != "point":
        levels = [float(x) for x in quantiles]
        if not isinstance(output, float | int) or float(output) not in levels:
            raise ValueError(
                f"output must be 'point' or one of the model's quantile levels {levels}, got {output!r}"
            )
        q = levels.index(float(output))
    name = names[k] if k < len(names) else str(k)
    info = {"target": name, "index": k, "step": steps, "reduce": reduce, "output": output}
    return _Spec(k=k, steps=[h - 1 for h in steps], reduce=reduce, quantile=q, info=info)


_UNSET: Any = object()
"""Default of a deprecated keyword: tells "not passed" from any value."""


def _renamed(new: Any, old: Any, *, new_name: str, old_name: str, where: str, default: Any) -> Any:
    """The value of a renamed keyword: ``new``, or ``old`` with a :class:`FutureWarning`.

    Raises
    ------
    TypeError
        Both names were passed.
    """
    if old is _UNSET:
        return new
    if new is not default:
        raise TypeError(f"{where}() got both {new_name}= and its old name {old_name}=; pass {new_name}= only")
    warnings.warn(
        f"{where}(): {old_name}= is renamed {new_name}= ({old_name!r} means the forecast length H "
        f"across sclm); pass {new_name}={old!r} instead",
        FutureWarning,
        stacklevel=3,
    )
    return old


class _Scalar(nn.Module):
    """``forward(x[, x_future]) → (N,)``: the selected forecast cell(s) of the wrapped model."""

    def __init__(self, model: nn.Module, spec: _Spec, with_future: bool):
        super().__init__()
        self.model = model
        self.spec = spec
        self.with_future = with_future

    def forward(self, x: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        if rest:
            out = self.model(x, rest[0])
        elif self.with_future:
            out = self.model(x, None)
        else:
            out = self.model(x)
        point, quant = _as_point(out)
        s = self.spec
        if s.quantile is not None:
            if quant is None:
                raise ValueError("output= a quantile level, but the model returned no quantiles")
            y = quant[..., s.quantile]
        else:
            y = point
        y = _normalise_point(y)[:, s.steps, s.k]
        return y.sum(dim=1) if s.reduce == "sum" else y.mean(dim=1)


class _Shap1(nn.Module):
    """SHAP GradientExplainer wants an (N, 1) output."""

    def __init__(self, f: nn.Module):
        super().__init__()
        self.f = f

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.f(*inputs)[:, None]


# --------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------


@dataclass
class _Data:
    x: np.ndarray  # N, T, C
    xf: np.ndarray | None  # N, H, F or None
    channels: tuple[str, ...]
    future_names: tuple[str, ...]
    target_names: tuple[str, ...]


def _windows_data(model: nn.Module, X: Any, x_future: Any, target_names: Sequence[str] | None) -> _Data:
    from sclm.windows import Windows

    cfg = getattr(model, "config", None)
    if isinstance(X, Windows):
        x, xf = X.X, X.X_future
        channels, fut, tnames = X.channels, X.known_future, X.targets
        if x_future is not None:
            raise ValueError("x_future is taken from the Windows; do not pass it as well")
    else:
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        x = np.asarray(X)
        if x.ndim != 3:
            raise ValueError(f"X must be Windows or an array of shape (N, T, C), got shape {x.shape}")
        xf = None
        if x_future is not None:
            xf = (
                x_future.detach().cpu().numpy()
                if isinstance(x_future, torch.Tensor)
                else np.asarray(x_future)
            )
            if xf.ndim != 3 or xf.shape[0] != x.shape[0]:
                raise ValueError(f"x_future must be (N={x.shape[0]}, H, F), got shape {xf.shape}")
        channels = tuple(f"x{j}" for j in range(x.shape[2]))
        fut = tuple(f"f{j}" for j in range(0 if xf is None else xf.shape[2]))
        k = getattr(cfg, "n_targets", None)
        tnames = tuple(f"y{j}" for j in range(k)) if k else ()
    if not np.issubdtype(x.dtype, np.number) or not np.isfinite(x).all():
        raise ValueError("X must be finite numbers (scale and clean the windows first)")
    if len(x) == 0:
        raise ValueError("X holds no windows")
    if xf is not None and xf.shape[2] == 0:
        xf = None
        fut = ()
    if target_names is not None:
        tnames = tuple(target_names)
    if cfg is not None and hasattr(cfg, "input_size"):
        want = (cfg.input_size, cfg.n_channels)
        if x.shape[1:] != want:
            raise ValueError(f"X has windows of shape {x.shape[1:]} but the model expects (T, C) = {want}")
        nf = getattr(cfg, "n_future", 0)
        if nf and (xf is None or xf.shape[1:] != (cfg.horizon, nf)):
            got = None if xf is None else xf.shape[1:]
            raise ValueError(f"the model needs x_future of shape (N, {cfg.horizon}, {nf}); got {got}")
    return _Data(
        x=x.astype(np.float32),
        xf=None if xf is None else xf.astype(np.float32),
        channels=tuple(channels),
        future_names=tuple(fut),
        target_names=tuple(tnames),
    )


def _baseline(spec: Any, x: np.ndarray, name: str) -> np.ndarray:
    """(1 or N, T, C) baseline array."""
    if isinstance(spec, str):
        if spec == "mean":
            return np.broadcast_to(x.mean(axis=(0, 1), keepdims=True), (1, *x.shape[1:])).astype(np.float32)
        if spec in ("zeros", "zero"):
            return np.zeros((1, *x.shape[1:]), np.float32)
        raise ValueError(f"{name} must be 'mean', 'zeros' or an array, got {spec!r}")
    b = np.asarray(spec, dtype=np.float32)
    try:
        if b.ndim == 3 and b.shape[0] == x.shape[0]:
            return np.ascontiguousarray(np.broadcast_to(b, x.shape))
        return np.ascontiguousarray(np.broadcast_to(b, x.shape[1:])[None])
    except ValueError:
        raise ValueError(f"{name} of shape {b.shape} does not broadcast to the input {x.shape}") from None


def _background(
    background: Any, data: _Data, seed: int, n_max: int = 100
) -> tuple[np.ndarray, np.ndarray | None]:
    from sclm.windows import Windows

    if background is None:
        n = len(data.x)
        rows = np.sort(np.random.default_rng(seed).choice(n, size=min(n, n_max), replace=False))
        return data.x[rows], None if data.xf is None else data.xf[rows]
    if isinstance(background, Windows):
        bx, bf = background.X, background.X_future
    elif isinstance(background, tuple):
        bx, bf = background
    else:
        bx, bf = background, None
    bx = np.asarray(bx, np.float32)
    if bx.ndim != 3 or bx.shape[1:] != data.x.shape[1:]:
        raise ValueError(
            f"background must be windows of shape (B, {data.x.shape[1]}, {data.x.shape[2]}), got {bx.shape}"
        )
    if data.xf is not None:
        if bf is None:
            raise ValueError("background needs its known-future part too: pass Windows or (X, X_future)")
        bf = np.asarray(bf, np.float32)
    else:
        bf = None
    return bx, bf


def _t(a: np.ndarray | None, dev: torch.device) -> torch.Tensor | None:
    return None if a is None else torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(dev)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy().astype(np.float64)


def _chunks(n: int, size: int) -> Iterator[slice]:
    for i in range(0, n, size):
        yield slice(i, min(n, i + size))


def _group_mask(group: str, t: int, c: int, h: int, f: int, dev: torch.device) -> tuple[torch.Tensor, ...]:
    """Captum feature masks (1, T, C) [and (1, H, F)]: one id per cell, channel or time step."""
    if group == "cell":
        past = torch.arange(t * c).reshape(1, t, c)
        fut = (t * c + torch.arange(h * f)).reshape(1, h, f)
    elif group == "channel":
        past = torch.arange(c).repeat(t, 1)[None]
        fut = (c + torch.arange(f)).repeat(h, 1)[None]
    elif group == "time":
        past = torch.arange(t)[:, None].repeat(1, c)[None]
        fut = (t + torch.arange(h))[:, None].repeat(1, f)[None]
    else:
        raise ValueError(f"group must be 'cell', 'channel' or 'time', got {group!r}")
    return (past.to(dev), fut.to(dev)) if f else (past.to(dev),)
