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
  or a tuple ``(step, target)``;
* ``step``: the step(s) ahead to explain, 1-based, within the model's horizon H — an int (e.g.
  ``1`` = the day after the origin), a sequence of steps (``range(1, 8)`` = next week), or
  ``"all"`` (default, 1..H) — reduced by ``reduce`` (``"sum"``, default, or ``"mean"``) over the
  chosen steps (``horizon=``, the old name of ``step=``, is accepted with a ``FutureWarning``:
  across sclm ``horizon`` means H, the forecast length);
* ``output``: ``"point"`` (default) or a quantile level present in the model config.

For texts, ``target=(word_index, label)``: the logit of ``label`` (name or index) at the first
sub-word token of word ``word_index`` (words = ``text.split()``); ``position="token"`` makes the
index a token index instead (0 = ``[CLS]``).

Methods (:data:`METHODS`)
-------------------------
Windows: ``integrated_gradients`` (primary; delta = completeness gap), ``gradient_shap``,
``feature_ablation``, ``occlusion`` (whole time steps), ``shapley_value_sampling`` (grouped by
channel or time), ``temporal_saliency_rescaling`` (``"tsr"``: Ismail et al. 2020 — rank the time
steps first, then the features within the important steps, over IG or the gradient), ``shap_gradient`` (SHAP GradientExplainer = expected gradients),
``shap_permutation`` (SHAP Permutation explainer, model as a black box); ``deep_lift`` and
``shap_deep`` only for models without LayerNorm/attention (refused on transformers).
Texts: ``layer_integrated_gradients`` (token embeddings; baseline ``[CLS] [PAD]… [SEP]``) and
``shap_partition`` (SHAP Partition explainer with a Text masker, masked tokens → ``[MASK]``).
Each method is one adapter in the registry of :mod:`sclm.explain._registry`.

Baselines
---------
``baseline="mean"`` (default): each channel's mean over the explained windows and days,
constant in time — "a flat series at the usual level" (on per-node scaled data, the node's
normal level).  ``"zeros"``, or an array broadcastable to (N, T, C) (a tuple (past, future)
for both inputs).  SHAP/GradientShap draw baselines from ``background`` (default: up to 100
of the explained windows, chosen with ``seed``).

Reproducibility and devices: every call seeds with :func:`sclm.repro.seed_everything` (same seed
→ same attributions); ``device`` (default ``"auto"``: cuda, else mps, else cpu) goes through
:func:`sclm.training.resolve_device`; the caller's
model is neither moved nor left in another mode (a model on another device is copied), and
all results are numpy on the CPU.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from sclm.explain._inputs import (
    _UNSET,
    _as_point,
    _chunks,
    _normalise_point,
    _np,
    _on_device,
    _parse_target,
    _renamed,
    _Scalar,
    _Spec,
    _t,
    _windows_data,
    is_transformer,
)
from sclm.explain._registry import REGISTRY, adapter, run_window_adapter
from sclm.explain.attribution import Attribution
from sclm.repro import seed_everything
from sclm.training import resolve_device

__all__ = ["METHODS", "REFUSED", "TEXT_METHODS", "WINDOW_METHODS", "explain", "is_transformer", "scalar_for"]

WINDOW_METHODS: tuple[str, ...] = tuple(n for n, a in REGISTRY.items() if a.kind == "windows")
"""Methods that explain forecaster windows, in registry order."""
TEXT_METHODS: tuple[str, ...] = tuple(n for n, a in REGISTRY.items() if a.kind == "text")
"""Methods that explain the texts of a document tagger."""
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
    "tsr": "temporal_saliency_rescaling",
}

REFUSED: dict[str, str] = {n: a.refused for n, a in REGISTRY.items() if a.refused is not None}
"""Why each method is refused on transformers, and what to use instead."""


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
    step: int | Sequence[int] | str = "all",
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
        Forecast: the target variable (name or index; default the first), or ``(step,
        target)``.  Text: ``(word_index, label)``.
    step : int, sequence of int, or "all"
        The forecast step(s) ahead to explain, 1-based within the model's horizon H (``1`` =
        the day after the origin, ``range(1, 8)`` = the next week, ``"all"`` = 1..H); their
        values are reduced to the explained scalar.  ``horizon=`` is its old name (accepted with
        a ``FutureWarning``).
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
    device : str or torch.device
        ``"auto"`` (default: cuda, else mps, else cpu), ``"cpu"``, ``"cuda"``, ``"mps"``
        (:func:`sclm.training.resolve_device`).
    keep_inputs : bool
        Keep the explained inputs in the result (for plots and ``to_shap_explanation``).
    **options
        Method parameters: ``n_steps`` (IG, LIG; default 32 / 50), ``n_samples`` (GradientShap
        20, ShapleyValueSampling 25), ``nsamples`` (SHAP gradient, 32), ``group`` ("cell",
        "channel", "time": FeatureAblation, ShapleyValueSampling, SHAP Permutation),
        ``window``/``stride`` (Occlusion, in days), ``max_evals``/``n_permutations`` (SHAP
        Permutation/Partition), ``position`` ("word"/"token", texts), ``internal_batch_size``
        (IG: samples per forward/backward pass), ``base`` ("integrated_gradients" or
        "saliency") and ``time_threshold`` ("mean" or a quantile) for TSR (IG base ``n_steps``
        8).

    Returns
    -------
    Attribution
        ``values`` shaped like ``X`` ((N, T, C) or (N, L) tokens), numpy on the CPU.

    Raises
    ------
    ValueError
        Unknown method or option, bad shapes, unknown target, or a method refused for this
        model (DeepLift / DeepExplainer on transformers, with the reason and an alternative).
    TypeError
        ``step=`` and its old name ``horizon=`` both passed; a model that is neither a
        forecaster nor a tagger.

    Warns
    -----
    FutureWarning
        ``horizon=`` passed (use ``step=``).
    """
    if not isinstance(method, str):
        raise ValueError(f"method must be a string, one of {list(METHODS)}")
    method = ALIASES.get(method.lower(), method.lower())
    ad = adapter(method)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    opts = dict(options)
    step = _renamed(
        step, opts.pop("horizon", _UNSET), new_name="step", old_name="horizon", where="explain", default="all"
    )
    seed_everything(seed)
    dev = resolve_device(device)
    t0 = time.perf_counter()

    if _is_tagger(model):
        if ad.kind != "text":
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
    if ad.kind != "windows":
        raise ValueError(
            f"method {method!r} explains texts of a document tagger; for windows use {list(WINDOW_METHODS)}"
        )
    if ad.refused is not None and is_transformer(model):
        raise ValueError(ad.refused)

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
        h_out, k = point.shape[1], point.shape[2]
        tnames = data.target_names if len(data.target_names) == k else tuple(f"y{j}" for j in range(k))
        spec = _parse_target(
            target,
            step,
            reduce,
            output,
            n_targets=k,
            horizon=h_out,
            target_names=tnames,
            quantiles=getattr(cfg, "quantiles", ()) or (),
        )
        use_f = attribute_future and data.xf is not None
        f = _Scalar(m, spec, with_future=takes_future)
        values, fut, delta, base, meta = run_window_adapter(
            ad,
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

    Call it as ``f(x)`` or ``f(x, x_future)``; the caller puts ``model`` in eval mode.  The
    chosen steps are read from ``target_info["step"]`` (``"horizon"`` in records made before
    the rename).
    """
    cfg = getattr(model, "config", None)
    out = target_info.get("output", "point")
    q = None
    if out != "point":
        q = [float(v) for v in getattr(cfg, "quantiles", ())].index(float(out))
    spec = _Spec(
        k=int(target_info["index"]),
        steps=[int(h) - 1 for h in target_info.get("step", target_info.get("horizon", ()))],
        reduce=target_info["reduce"],
        quantile=q,
        info=dict(target_info),
    )
    return _Scalar(model, spec, with_future=cfg is not None)
