"""``explain(model, X, method=..., target=...)``: one verb over Captum and SHAP.

Models
------
* **Forecasters** — any ``torch.nn.Module`` whose ``forward(x)`` or ``forward(x, x_future)``
  returns a :class:`sclm.models.ForecastOutput` / tuple ``(point, quantiles)`` or a tensor of
  shape (N,), (N, K) or (N, H, K) (e.g. :class:`sclm.models.Forecaster`).  ``X`` is a
  :class:`sclm.windows.Windows` (channel and target names are taken from it) or an array
  (N, T, C) with ``x_future`` (N, H, F) where the model needs it.
* **Document taggers** — any object with ``.model`` (a Hugging Face ``*ForTokenClassification``),
  ``.tokenizer`` (a fast tokenizer) and ``.labels`` (BIO label strings); ``X`` is a list of texts.

Targets
-------
A forecast has N×H×K outputs; a method explains one scalar per sample, chosen by

* ``target``: the target variable (name from ``Windows.targets``, or index; default the first),
  or a tuple ``(horizon, target)``;
* ``horizon``: the step(s) ahead, 1-based — an int (e.g. ``1`` = the day after the origin), a
  sequence of steps (``range(1, 8)`` = next week), or ``"all"`` (default) — reduced by
  ``reduce`` (``"sum"``, default, or ``"mean"``) over the chosen steps;
* ``output``: ``"point"`` (default) or a quantile level present in the model config.

For texts, ``target=(word_index, label)``: the logit of ``label`` (name or index) at the first
sub-word token of word ``word_index`` (words = ``text.split()``); ``position="token"`` makes the
index a token index instead (0 = ``[CLS]``).

Methods (:data:`METHODS`)
-------------------------
Windows: ``integrated_gradients`` (primary; delta = completeness gap), ``gradient_shap``,
``feature_ablation``, ``occlusion`` (whole time steps), ``shapley_value_sampling`` (grouped by
channel or time), ``shap_gradient`` (SHAP GradientExplainer = expected gradients),
``shap_permutation`` (SHAP Permutation explainer, model as a black box); ``deep_lift`` and
``shap_deep`` only for models without LayerNorm/attention (refused on transformers).
Texts: ``layer_integrated_gradients`` (token embeddings; baseline ``[CLS] [PAD]… [SEP]``) and
``shap_partition`` (SHAP Partition explainer with a Text masker, masked tokens → ``[MASK]``).

Baselines
---------
``baseline="mean"`` (default): each channel's mean over the explained windows and days,
constant in time — "a flat series at the usual level" (on per-node scaled data, the node's
normal level).  ``"zeros"``, or an array broadcastable to (N, T, C) (a tuple (past, future)
for both inputs).  SHAP/GradientShap draw baselines from ``background`` (default: up to 100
of the explained windows, chosen with ``seed``).

Reproducibility and devices: every call seeds with :func:`sclm.repro.seed_everything` (same seed
→ same attributions); ``device`` goes through :func:`sclm.training.resolve_device`; the caller's
model is neither moved nor left in another mode (a model on another device is copied), and
all results are numpy on the CPU.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from sclm.explain.attribution import Attribution
from sclm.repro import seed_everything
from sclm.training import resolve_device

__all__ = ["METHODS", "REFUSED", "TEXT_METHODS", "WINDOW_METHODS", "explain", "is_transformer"]

WINDOW_METHODS: tuple[str, ...] = (
    "integrated_gradients",
    "gradient_shap",
    "feature_ablation",
    "occlusion",
    "shapley_value_sampling",
    "shap_gradient",
    "shap_permutation",
    "deep_lift",
    "shap_deep",
)
TEXT_METHODS: tuple[str, ...] = ("layer_integrated_gradients", "shap_partition")
METHODS: tuple[str, ...] = WINDOW_METHODS + TEXT_METHODS
"""Every method name :func:`explain` accepts."""

ALIASES = {
    "ig": "integrated_gradients",
    "deeplift": "deep_lift",
    "deep_explainer": "shap_deep",
    "shap_deep_explainer": "shap_deep",
    "shap_gradient_explainer": "shap_gradient",
    "lig": "layer_integrated_gradients",
    "svs": "shapley_value_sampling",
}

REFUSED = {
    "deep_lift": (
        "DeepLift is refused on transformer models: Captum's DeepLift has no propagation rules for "
        "LayerNorm or attention (softmax of products of inputs), so its attributions are not "
        "meaningful and its summation-to-delta property fails. Use method='integrated_gradients' "
        "(or 'gradient_shap', 'shap_gradient') instead."
    ),
    "shap_deep": (
        "SHAP's DeepExplainer is refused on transformer models: it has no DeepLift rules for "
        "LayerNorm or attention, so its additivity check fails (SHAP values do not sum to f(x) - "
        "E[f]). Use method='shap_gradient' (SHAP GradientExplainer, expected gradients) or "
        "'integrated_gradients' instead."
    ),
}
"""Why each method is refused on transformers, and what to use instead."""


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
    horizon: Any,
    reduce: str,
    output: Any,
    *,
    n_targets: int,
    n_steps: int,
    target_names: Sequence[str],
    quantiles: Sequence[float],
) -> _Spec:
    if isinstance(target, tuple):
        if len(target) != 2:
            raise ValueError(f"a target tuple must be (horizon, target), got {target!r}")
        horizon, target = target
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
        raise ValueError(f"target must be a target name, an index or (horizon, target), got {target!r}")
    if isinstance(horizon, str):
        if horizon not in ("all", "sum", "mean"):
            raise ValueError(
                f"horizon must be a step 1..{n_steps}, a sequence of steps or 'all', got {horizon!r}"
            )
        steps = list(range(1, n_steps + 1))
        if horizon == "mean":
            reduce = "mean"
    elif isinstance(horizon, int | np.integer) and not isinstance(horizon, bool):
        steps = [int(horizon)]
    else:
        try:
            steps = [int(h) for h in horizon]
        except TypeError:
            raise ValueError(
                f"horizon must be a step, a sequence of steps or 'all', got {horizon!r}"
            ) from None
    if not steps or any(not 1 <= h <= n_steps for h in steps):
        raise ValueError(f"horizon steps must be in 1..{n_steps} (1 = the day after the origin), got {steps}")
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
    info = {"target": name, "index": k, "horizon": steps, "reduce": reduce, "output": output}
    return _Spec(k=k, steps=[h - 1 for h in steps], reduce=reduce, quantile=q, info=info)


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


# --------------------------------------------------------------------------------------------------
# Window methods
# --------------------------------------------------------------------------------------------------


def _run_window_method(
    method: str,
    f: _Scalar,
    data: _Data,
    dev: torch.device,
    *,
    baseline: Any,
    background: Any,
    seed: int,
    batch_size: int,
    attribute_future: bool,
    opts: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None, dict[str, Any]]:
    """→ values (N,T,C), future values (N,H,F) or None, delta (N,) or None, base values, meta."""
    import captum.attr as ca

    x, xf = data.x, data.xf
    use_f = attribute_future and xf is not None
    if isinstance(baseline, tuple):
        b_past, b_fut = baseline
    else:
        b_past, b_fut = baseline, ("mean" if isinstance(baseline, str) else "zeros")
    bx = _baseline(b_past, x, "baseline")
    bf = None if xf is None else _baseline(b_fut, xf, "baseline (future)")
    n, t, c = x.shape
    h, nf = (0, 0) if xf is None else xf.shape[1:]
    meta: dict[str, Any] = {}

    def inputs(sl: slice) -> tuple[torch.Tensor, ...]:
        return (_t(x[sl], dev), _t(xf[sl], dev)) if use_f else (_t(x[sl], dev),)

    def baselines(sl: slice) -> tuple[torch.Tensor, ...]:
        pick = lambda b: b[sl] if b.shape[0] == n and n > 1 else b  # noqa: E731
        return (_t(pick(bx), dev), _t(pick(bf), dev)) if use_f else (_t(pick(bx), dev),)

    def extra(sl: slice) -> tuple[Any, ...] | None:
        return None if use_f or xf is None else (_t(xf[sl], dev),)

    def used(nm: str, default: Any) -> Any:
        v = opts.pop(nm, default)
        meta[nm] = v
        return v

    vals, fvals, deltas = [], [], []

    def keep(attr: tuple[torch.Tensor, ...] | torch.Tensor, delta: torch.Tensor | None = None, rep: int = 1):
        attr = attr if isinstance(attr, tuple) else (attr,)
        vals.append(_np(attr[0]))
        if use_f:
            fvals.append(_np(attr[1]))
        if delta is not None:
            d = _np(delta).reshape(-1)
            deltas.append(d.reshape(-1, rep).mean(axis=1) if rep > 1 else d)

    if method == "integrated_gradients":
        n_steps = used("n_steps", 32)
        ig = ca.IntegratedGradients(f)
        for sl in _chunks(n, batch_size):
            a, d = ig.attribute(
                inputs(sl),
                baselines=baselines(sl),
                additional_forward_args=extra(sl),
                n_steps=n_steps,
                method=used("integration", "gausslegendre"),
                return_convergence_delta=True,
            )
            keep(a, d)
        meta["baseline"] = b_past if isinstance(b_past, str) else "array"
    elif method == "gradient_shap":
        n_samples = used("n_samples", 20)
        bgx, bgf = _background(background, data, seed)
        gs = ca.GradientShap(f)
        bgs = (_t(bgx, dev), _t(bgf, dev)) if use_f else (_t(bgx, dev),)
        for sl in _chunks(n, max(1, batch_size // max(1, n_samples // 4))):
            if xf is not None and not use_f:
                raise ValueError("gradient_shap needs attribute_future=True when the model takes x_future")
            a, d = gs.attribute(
                inputs(sl),
                baselines=bgs,
                n_samples=n_samples,
                stdevs=used("stdevs", 0.0),
                return_convergence_delta=True,
            )
            keep(a, d, rep=n_samples)
        meta["background"] = len(bgx)
    elif method in ("feature_ablation", "shapley_value_sampling"):
        group = used("group", "cell" if method == "feature_ablation" else "channel")
        mask = _group_mask(group, t, c, h if use_f else 0, nf if use_f else 0, dev)
        if method == "feature_ablation":
            alg = ca.FeatureAblation(f)
            kw = {"perturbations_per_eval": used("perturbations_per_eval", 8)}
        else:
            alg = ca.ShapleyValueSampling(f)
            kw = {
                "n_samples": used("n_samples", 25),
                "perturbations_per_eval": used("perturbations_per_eval", 8),
            }
        # Captum gives every cell of a group the group's value: spread it evenly instead, so
        # the cells of a window sum to the group totals (per-channel sums stay comparable)
        counts = torch.bincount(torch.cat([mk.reshape(-1) for mk in mask]).cpu()).to(dev, torch.float32)
        for sl in _chunks(n, batch_size):
            a = alg.attribute(
                inputs(sl),
                baselines=baselines(sl),
                additional_forward_args=extra(sl),
                feature_mask=mask,
                **kw,
            )
            a = a if isinstance(a, tuple) else (a,)
            keep(tuple(ai / counts[mk] for ai, mk in zip(a, mask, strict=True)))
    elif method == "occlusion":
        window = used("window", 1)
        stride = used("stride", 1)
        if not 1 <= window <= t:
            raise ValueError(f"window must be in 1..{t} time steps, got {window}")
        occ = ca.Occlusion(f)
        shapes = ((window, c), (min(window, h), nf)) if use_f else ((window, c),)
        strides = ((stride, c), (stride, nf)) if use_f else ((stride, c),)
        for sl in _chunks(n, batch_size):
            a = occ.attribute(
                inputs(sl),
                sliding_window_shapes=shapes if use_f else shapes[0],
                strides=strides if use_f else strides[0],
                baselines=baselines(sl),
                additional_forward_args=extra(sl),
                perturbations_per_eval=used("perturbations_per_eval", 8),
            )
            a = a if isinstance(a, tuple) else (a,)
            # each cell holds the mean effect of the windows covering it: spread over the window's cells
            keep(tuple(ai / (s[0] * s[1]) for ai, s in zip(a, shapes, strict=False)))
    elif method == "shap_gradient":
        import shap

        if xf is not None and not use_f:
            raise ValueError("shap_gradient needs attribute_future=True when the model takes x_future")
        bgx, bgf = _background(background, data, seed)
        nsamples = used("nsamples", 32)
        bg = [_t(bgx, dev), _t(bgf, dev)] if use_f else _t(bgx, dev)
        expl = shap.GradientExplainer(_Shap1(f), bg, batch_size=used("shap_batch_size", nsamples))
        for sl in _chunks(n, batch_size):
            xin = [_t(x[sl], dev), _t(xf[sl], dev)] if use_f else _t(x[sl], dev)
            sv = expl.shap_values(xin, nsamples=nsamples, rseed=seed)
            sv = sv if isinstance(sv, list) else [sv]
            vals.append(np.asarray(sv[0], np.float64).reshape(x[sl].shape))
            if use_f:
                fvals.append(np.asarray(sv[1], np.float64).reshape(xf[sl].shape))
        with torch.no_grad():
            base = float(_np(f(*([_t(bgx, dev), _t(bgf, dev)] if use_f else [_t(bgx, dev)]))).mean())
        meta["background"] = len(bgx)
        meta["expected_value"] = base
    elif method == "shap_permutation":
        vals_p, fvals_p = _shap_permutation(f, data, bx, bf, use_f, dev, seed, opts, meta)
        vals.append(vals_p)
        if use_f:
            fvals.append(fvals_p)
    elif method in ("deep_lift", "shap_deep"):
        if is_transformer(f.model):
            raise ValueError(REFUSED[method])
        if method == "deep_lift":
            dl = ca.DeepLift(f)
            for sl in _chunks(n, batch_size):
                a, d = dl.attribute(
                    inputs(sl),
                    baselines=baselines(sl),
                    additional_forward_args=extra(sl),
                    return_convergence_delta=True,
                )
                keep(a, d)
        else:
            import shap

            if xf is not None and not use_f:
                raise ValueError("shap_deep needs attribute_future=True when the model takes x_future")
            bgx, bgf = _background(background, data, seed)
            bg = [_t(bgx, dev), _t(bgf, dev)] if use_f else _t(bgx, dev)
            expl = shap.DeepExplainer(_Shap1(f), bg)
            xin = [_t(x, dev), _t(xf, dev)] if use_f else _t(x, dev)
            sv = expl.shap_values(xin, check_additivity=True)
            sv = sv if isinstance(sv, list) else [sv]
            vals.append(np.asarray(sv[0], np.float64).reshape(x.shape))
            if use_f:
                fvals.append(np.asarray(sv[1], np.float64).reshape(xf.shape))
    else:  # pragma: no cover - guarded by explain()
        raise ValueError(method)

    values = np.concatenate(vals)
    fut = np.concatenate(fvals) if use_f else None
    delta = np.concatenate(deltas) if deltas else None
    base = None
    if method in (
        "integrated_gradients",
        "feature_ablation",
        "occlusion",
        "shapley_value_sampling",
        "deep_lift",
    ):
        with torch.no_grad():
            outs = []
            for sl in _chunks(n, max(batch_size, 256)):
                b = baselines(sl)
                bb = tuple(v.expand(sl.stop - sl.start, *v.shape[1:]) for v in b)
                outs.append(_np(f(*bb, *(extra(sl) or ()))))
            base = np.concatenate(outs)
    elif method == "shap_permutation":
        base = np.asarray(meta.pop("_base"))
    elif method == "shap_gradient":
        base = np.full(n, meta["expected_value"])
    return values, fut, delta, base, meta


def _shap_permutation(
    f: _Scalar,
    data: _Data,
    bx: np.ndarray,
    bf: np.ndarray | None,
    use_f: bool,
    dev: torch.device,
    seed: int,
    opts: dict[str, Any],
    meta: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray | None]:
    """SHAP's Permutation explainer per window over M features (cells, channels or time steps).

    Each window is explained on its own: a feature vector z ∈ {0, 1}^M switches groups of cells
    between the window (1) and the baseline (0), so the explainer sees the model as a black box
    of M binary inputs; ``max_evals`` defaults to ``n_permutations · (2M + 1)`` (the Permutation
    explainer needs at least 2M + 1 evaluations for one forward-and-back permutation).
    """
    import shap

    x, xf = data.x, data.xf
    n, t, c = x.shape
    h, nf = (0, 0) if xf is None else xf.shape[1:]
    group = opts.pop("group", "cell")
    meta["group"] = group
    masks = _group_mask(group, t, c, h if use_f else 0, nf if use_f else 0, torch.device("cpu"))
    gp = masks[0][0].numpy()
    gf = masks[1][0].numpy() if use_f else None
    m = int(max(gp.max(), -1 if gf is None else gf.max())) + 1
    n_perm = opts.pop("n_permutations", 2)
    max_evals = opts.pop("max_evals", None) or n_perm * (2 * m + 1)
    if max_evals < 2 * m + 1:
        raise ValueError(f"max_evals={max_evals} is below 2M + 1 = {2 * m + 1} for M = {m} features")
    meta.update(max_evals=int(max_evals), n_features=m)
    out_p = np.zeros((n, t, c))
    out_f = np.zeros((n, h, nf)) if use_f else None
    bases = np.zeros(n)
    bxi = bx if bx.shape[0] == n else np.broadcast_to(bx, x.shape)
    bfi = None if bf is None else (bf if bf.shape[0] == n else np.broadcast_to(bf, xf.shape))
    masker = shap.maskers.Independent(np.zeros((1, m)), max_samples=1)
    for i in range(n):
        xi, b0 = x[i], bxi[i]
        fi = None if xf is None else xf[i]
        fb = None if bfi is None else bfi[i]

        def fz(z: np.ndarray, xi=xi, b0=b0, fi=fi, fb=fb) -> np.ndarray:
            z = np.asarray(z, np.float32)
            xp = b0[None] + z[:, gp] * (xi - b0)[None]
            args = [_t(xp, dev)]
            if use_f:
                args.append(_t(fb[None] + z[:, gf] * (fi - fb)[None], dev))
            elif fi is not None:
                args.append(_t(np.repeat(fi[None], len(z), axis=0), dev))
            with torch.no_grad():
                return _np(f(*args))

        expl = shap.PermutationExplainer(fz, masker, seed=seed + i)
        ex = expl(np.ones((1, m)), max_evals=max_evals, batch_size=int(max_evals), silent=True)
        phi = np.asarray(ex.values[0], np.float64)
        bases[i] = float(np.asarray(ex.base_values).reshape(-1)[0])
        # spread a group's value evenly over its cells (cells when group == "cell")
        cnt = np.bincount(gp.reshape(-1), minlength=m) + (
            np.bincount(gf.reshape(-1), minlength=m) if use_f else 0
        )
        per = phi / np.maximum(cnt, 1)
        out_p[i] = per[gp]
        if use_f:
            out_f[i] = per[gf]
    meta["_base"] = bases
    return out_p, out_f


# --------------------------------------------------------------------------------------------------
# The verb
# --------------------------------------------------------------------------------------------------


def _is_tagger(model: Any) -> bool:
    return all(hasattr(model, a) for a in ("model", "tokenizer", "labels")) and not isinstance(
        model, nn.Module
    )


def explain(
    model: Any,
    X: Any,
    method: str = "integrated_gradients",
    target: Any = None,
    *,
    horizon: int | Sequence[int] | str = "all",
    reduce: str = "sum",
    output: str | float = "point",
    x_future: np.ndarray | torch.Tensor | None = None,
    target_names: Sequence[str] | None = None,
    baseline: Any = "mean",
    background: Any = None,
    attribute_future: bool = True,
    batch_size: int = 128,
    seed: int = 0,
    device: str | torch.device = "auto",
    keep_inputs: bool = True,
    **options: Any,
) -> Attribution:
    """Attribute one scalar of a model's output to its inputs with Captum or SHAP.

    Parameters
    ----------
    model : torch.nn.Module or tagger
        A forecaster (see the module docstring) or an object with ``.model``, ``.tokenizer``,
        ``.labels`` (document tagger).
    X : Windows, array (N, T, C), or list of str
        Windows to explain (scaled as the model was trained), or texts for a tagger.
    method : str
        One of :data:`METHODS` (aliases: ``"ig"``, ``"lig"``, ``"svs"``, ...).
    target : str, int, tuple, or None
        Forecast: the target variable (name or index; default the first), or ``(horizon,
        target)``.  Text: ``(word_index, label)``.
    horizon : int, sequence of int, or "all"
        Forecast steps ahead (1-based) whose values are reduced to the explained scalar.
    reduce : {"sum", "mean"}
        Reduction over the chosen steps.
    output : "point" or float
        The point forecast or one of the model's quantile levels.
    x_future : array (N, H, F), optional
        Known-future covariates when ``X`` is an array.
    target_names : sequence of str, optional
        Names of the K targets when ``X`` is an array.
    baseline : "mean", "zeros", array, or (past, future)
        Reference input of IntegratedGradients, FeatureAblation, Occlusion,
        ShapleyValueSampling, DeepLift and SHAP Permutation (see the module docstring).
    background : Windows, array (B, T, C) or (X, X_future), optional
        Baseline distribution of GradientShap and the SHAP explainers (default: up to 100 of
        the explained windows, drawn with ``seed``).
    attribute_future : bool
        Also attribute the known-future input (default True; False keeps it fixed).
    batch_size : int
        Windows per Captum call (IntegratedGradients evaluates ``batch_size · n_steps`` at once).
    seed : int
        Seeds torch/NumPy (and SHAP's sampling); same seed → same attributions.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"mps"`` (:func:`sclm.training.resolve_device`).
    keep_inputs : bool
        Keep the explained inputs in the result (for plots and ``to_shap_explanation``).
    **options
        Method parameters: ``n_steps`` (IG, LIG; default 32 / 50), ``n_samples`` (GradientShap
        20, ShapleyValueSampling 25), ``nsamples`` (SHAP gradient, 32), ``group`` ("cell",
        "channel", "time": FeatureAblation, ShapleyValueSampling, SHAP Permutation),
        ``window``/``stride`` (Occlusion, in days), ``max_evals``/``n_permutations`` (SHAP
        Permutation/Partition), ``position`` ("word"/"token", texts).

    Returns
    -------
    Attribution
        ``values`` shaped like ``X`` ((N, T, C) or (N, L) tokens), numpy on the CPU.

    Raises
    ------
    ValueError
        Unknown method or option, bad shapes, unknown target, or a method refused for this
        model (DeepLift / DeepExplainer on transformers, with the reason and an alternative).
    """
    if not isinstance(method, str):
        raise ValueError(f"method must be a string, one of {list(METHODS)}")
    method = ALIASES.get(method.lower(), method.lower())
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; available: {list(METHODS)}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    seed_everything(seed)
    dev = resolve_device(device)
    opts = dict(options)
    t0 = time.perf_counter()

    if _is_tagger(model):
        if method not in TEXT_METHODS:
            raise ValueError(
                f"method {method!r} is for windows; for a document tagger use one of {list(TEXT_METHODS)}"
            )
        from sclm.explain.text import explain_text

        att = explain_text(model, X, method, target, dev=dev, seed=seed, opts=opts)
        _check_unused(opts, method)
        att.meta["seconds"] = time.perf_counter() - t0
        return att
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module (forecaster) or a tagger with .model/.tokenizer/.labels, "
            f"got {type(model).__name__}"
        )
    if method in TEXT_METHODS:
        raise ValueError(
            f"method {method!r} explains texts of a document tagger; for windows use {list(WINDOW_METHODS)}"
        )
    if method in REFUSED and is_transformer(model):
        raise ValueError(REFUSED[method])

    data = _windows_data(model, X, x_future, target_names)
    cfg = getattr(model, "config", None)
    with _on_device(model, dev) as m:
        takes_future = data.xf is not None or (cfg is not None and getattr(cfg, "n_future", None) is not None)
        with torch.no_grad():
            probe_args = [_t(data.x[:1], dev)]
            if data.xf is not None:
                probe_args.append(_t(data.xf[:1], dev))
            elif takes_future:
                probe_args.append(None)
            point, _ = _as_point(m(*probe_args))
        point = _normalise_point(point)
        n_steps_out, k = point.shape[1], point.shape[2]
        tnames = data.target_names if len(data.target_names) == k else tuple(f"y{j}" for j in range(k))
        spec = _parse_target(
            target,
            horizon,
            reduce,
            output,
            n_targets=k,
            n_steps=n_steps_out,
            target_names=tnames,
            quantiles=getattr(cfg, "quantiles", ()) or (),
        )
        use_f = attribute_future and data.xf is not None
        f = _Scalar(m, spec, with_future=takes_future)
        values, fut, delta, base, meta = _run_window_method(
            method,
            f,
            data,
            dev,
            baseline=baseline,
            background=background,
            seed=seed,
            batch_size=batch_size,
            attribute_future=attribute_future,
            opts=opts,
        )
        _check_unused(opts, method)
        with torch.no_grad():
            outs = []
            for sl in _chunks(len(data.x), 256):
                args = [_t(data.x[sl], dev)] + ([_t(data.xf[sl], dev)] if data.xf is not None else [])
                outs.append(_np(f(*args)))
            fx = np.concatenate(outs)
    meta["seconds"] = time.perf_counter() - t0
    meta["seed"] = seed
    meta["device"] = str(dev)
    return Attribution(
        values=values,
        feature_names=data.channels,
        method=method,
        target=spec.info,
        kind="windows",
        delta=delta,
        future_values=fut,
        future_names=data.future_names if use_f else (),
        inputs=data.x.astype(np.float64) if keep_inputs else None,
        future_inputs=data.xf.astype(np.float64) if (keep_inputs and data.xf is not None) else None,
        outputs=fx,
        base_values=base,
        meta=meta,
    )


def _check_unused(opts: dict[str, Any], method: str) -> None:
    if opts:
        raise ValueError(f"option(s) {sorted(opts)} are not used by method {method!r}")


def scalar_for(model: nn.Module, target_info: dict[str, Any]) -> nn.Module:
    """The (N,) function an :class:`Attribution` of ``model`` explains (from its ``target`` dict).

    Call it as ``f(x)`` or ``f(x, x_future)``; the caller puts ``model`` in eval mode.
    """
    cfg = getattr(model, "config", None)
    out = target_info.get("output", "point")
    q = None
    if out != "point":
        q = [float(v) for v in getattr(cfg, "quantiles", ())].index(float(out))
    spec = _Spec(
        k=int(target_info["index"]),
        steps=[int(h) - 1 for h in target_info["horizon"]],
        reduce=target_info["reduce"],
        quantile=q,
        info=dict(target_info),
    )
    return _Scalar(model, spec, with_future=cfg is not None)
