"""The forecasting part of the flow as a few functions that notebooks and benches share.

``panel ──► ForecastTask ──► train_forecaster ──► TrainedForecaster.forecast ──► backtest``

* :func:`scenario_task` turns a scenario (and a panel: the fused one in a case study, or the
  truth) into a :class:`ForecastTask`: targets q, k, d (+ demand in retail), the past covariates
  and distractors as extra input channels, the known-future columns (price, promotion) plus the
  calendar over the horizon.
* :func:`train_forecaster` scales the panel on the training part only
  (``PanelScaler("mean_abs", per="node")``), cuts leak-free windows (``end=train_end``), splits a
  time-ordered validation set and fits M with :func:`sclm.training.fit` (early stopping, best
  checkpoint restored).
* :meth:`TrainedForecaster.forecast` forecasts the H days after an origin in original units
  (clamped at 0 for non-negative targets), with quantiles.
* :func:`backtest` scores M and the baselines (:mod:`sclm.baselines`) on exactly the same
  origins and series, with the protocol of ``bench/forecast.py``: MASE per series with the
  in-sample seasonal-naive scale (m = 7) of the history up to each origin, relative MASE as the
  geometric mean over series of MASE / seasonal-naive MASE, WQL over the quantile levels and the
  share of actual values inside [q0.1, q0.9].

Long forecast frames have columns ``node, variable, ts, mean, q0.1 ... q0.9`` (``origin`` and
``y`` added by :func:`backtest`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sclm.baselines import DEFAULT_QUANTILES, forecast, quantile_column
from sclm.schema import UnknownNameError
from sclm.windows import PanelScaler, make_windows, train_val_split

if TYPE_CHECKING:
    from sclm.models import Forecaster
    from sclm.scenarios import Scenario
    from sclm.training import FitResult
    from sclm.windows import Windows

__all__ = [
    "BASELINE_LABELS",
    "ForecastTask",
    "TrainedForecaster",
    "backtest",
    "scenario_task",
    "score_forecasts",
    "train_forecaster",
]

BASELINE_LABELS: dict[str, str] = {
    "seasonal_naive": "Seasonal Naive",
    "auto_ets": "AutoETS",
    "auto_theta": "AutoTheta",
    "lightgbm": "LightGBM",
}
M_LABEL = "M"
QCOLS = tuple(quantile_column(q) for q in DEFAULT_QUANTILES)


@dataclass(frozen=True)
class ForecastTask:
    """What to forecast from which panel.

    Attributes
    ----------
    panel : pandas.DataFrame
        Index (``node``, ``ts``), daily without gaps, float columns (at least the ones below).
    targets : tuple of str, length K
        Forecast jointly; also the first input channels.
    covariates : tuple of str
        Past-only input channels after the targets.
    known_future : tuple of str
        Panel columns known over the horizon (the calendar is always added for M).
    horizon, input_size : int
        H and T in days.
    scaled : tuple of str
        Columns rescaled by the per-node scaler (binary flags are left as 0/1).
    """

    panel: pd.DataFrame
    targets: tuple[str, ...]
    covariates: tuple[str, ...] = ()
    known_future: tuple[str, ...] = ()
    horizon: int = 14
    input_size: int = 56
    scaled: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        missing = [c for c in (*self.targets, *self.covariates, *self.known_future) if c not in self.panel]
        if missing:
            raise ValueError(f"panel has no column(s) {missing}; it has {list(self.panel.columns)}")
        if not self.targets:
            raise ValueError("a ForecastTask needs at least one target")
        for name in ("horizon", "input_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")

    @property
    def columns(self) -> list[str]:
        return [*self.targets, *self.covariates, *self.known_future]

    @property
    def last_day(self) -> pd.Timestamp:
        return pd.Timestamp(self.panel.index.get_level_values("ts").max())


def scenario_task(
    scenario: Scenario,
    panel: pd.DataFrame | None = None,
    *,
    horizon: int = 14,
    input_size: int = 56,
    distractors: bool = True,
) -> ForecastTask:
    """The forecasting task of a scenario: its targets, covariates and known-future columns.

    Parameters
    ----------
    scenario : Scenario
        Supplies ``meta["targets"]`` (q, k, d, and demand in retail), ``meta["covariates"]``,
        ``meta["known_future"]`` and ``meta["distractors"]``.
    panel : pandas.DataFrame, optional
        The panel to forecast from (a case study passes the fused panel); default the truth.
    horizon, input_size : int
        H and T in days.
    distractors : bool
        Feed the distractor channels as inputs too (a plausible sensor an analyst would feed;
        explanations should find it irrelevant).
    """
    meta = scenario.meta
    tmap = meta["targets"]
    targets = [tmap["q"], tmap["k"], tmap["d"], *([tmap["demand"]] if "demand" in tmap else [])]
    kf = [c for c in meta["known_future"] if c not in targets]
    cov = [c for c in meta["covariates"] if c not in targets and c not in kf]
    if distractors:
        cov += [c for c in meta["distractors"] if c not in cov]
    source = scenario.truth if panel is None else panel
    frame = source[[*targets, *cov, *kf]].astype("float64")
    binary = [c for c in kf if set(np.unique(frame[c])) <= {0.0, 1.0}]
    return ForecastTask(
        panel=frame,
        targets=tuple(targets),
        covariates=tuple(cov),
        known_future=tuple(kf),
        horizon=horizon,
        input_size=input_size,
        scaled=tuple(c for c in frame.columns if c not in binary),
    )


def _windows(task: ForecastTask, scaled: pd.DataFrame, **options: Any) -> Windows:
    """The task's windows of an already scaled panel (the calendar is always a known-future input)."""
    return make_windows(
        scaled,
        targets=task.targets,
        covariates=task.covariates,
        known_future=[*task.known_future, "calendar"],
        input_size=task.input_size,
        horizon=task.horizon,
        **options,
    )


@dataclass
class TrainedForecaster:
    """M fitted on a task up to ``train_end``, with the scaler fitted on the same days."""

    task: ForecastTask
    model: Forecaster
    scaler: PanelScaler
    train_end: pd.Timestamp
    fit_result: FitResult

    def windows(self, origins: Sequence | None = None, *, end: object | None = None) -> Windows:
        """Scaled windows of the task (as the model sees them), e.g. for explanations."""
        return _windows(self.task, self.scaler.transform(self.task.panel), origins=origins, end=end)

    def forecast(self, origin: object | None = None, *, device: str = "auto") -> pd.DataFrame:
        """Forecast the H days after ``origin`` (default: the training end) for every node.

        Known-future columns must be in the panel up to ``origin + H``.

        Returns
        -------
        pandas.DataFrame
            ``node, variable, ts, mean, q0.1 ... q0.9`` in the panel's units, one row per node,
            target and day.
        """
        from sclm.training import predict

        origin = self.train_end if origin is None else pd.Timestamp(origin)
        w = self.windows([origin])
        inv = lambda a: self.scaler.inverse_transform(a, nodes=w.nodes, columns=w.targets)  # noqa: E731
        pred = predict(self.model, w.X, w.X_future, device=device, inverse=inv)
        days = origin + pd.to_timedelta(np.arange(1, self.task.horizon + 1), unit="D")
        parts = []
        for j, target in enumerate(w.targets):
            for i, node in enumerate(w.nodes):
                d = pd.DataFrame({"node": node, "variable": target, "ts": days, "mean": pred.point[i, :, j]})
                d[list(QCOLS)] = pred.quantiles[i, :, j, :]
                parts.append(d)
        return pd.concat(parts, ignore_index=True)


def train_forecaster(
    task: ForecastTask,
    *,
    train_end: object | None = None,
    backbone: str = "patch",
    epochs: int = 30,
    patience: int = 5,
    batch_size: int = 64,
    lr: float = 1e-3,
    window_stride: int = 1,
    val_fraction: float = 0.2,
    seed: int = 0,
    device: str = "auto",
    progress: bool = False,
    **config: Any,
) -> TrainedForecaster:
    """Fit M on the task's panel up to ``train_end`` (default: the last day).

    Parameters
    ----------
    task : ForecastTask
    train_end : date, optional
        Last day any training window (input or target) may touch; the scaler sees no later day.
    backbone : {"patch", "lm"}
        Patch transformer from scratch, or the frozen MiniLM backbone.
    epochs, patience, batch_size, lr : training settings of :func:`sclm.training.fit`.
    window_stride : int
        Days between training windows (``stride`` is the patch step of the model config).
    val_fraction : float
        Share of the latest origins used for early stopping (``purge="targets"``).
    seed, device, progress : see :func:`sclm.training.fit`.
    **config
        Further :class:`sclm.models.ForecasterConfig` fields (``patch_len``, ``d_model``,
        ``lm_layers``, ``revin``, ``linear_skip``, ``quantiles`` ...).  Defaults here: weekly
        patches (``patch_len = stride = 7``), the deciles as quantiles, ``revin`` and
        ``linear_skip`` on, non-negative targets.
    """
    from sclm.models import Forecaster, ForecasterConfig
    from sclm.repro import seed_everything
    from sclm.training import fit

    train_end = task.last_day if train_end is None else pd.Timestamp(train_end)
    panel = task.panel[task.columns]
    scaler = PanelScaler("mean_abs", per="node", columns=list(task.scaled)).fit(panel, end=train_end)
    scaled = scaler.transform(panel[panel.index.get_level_values("ts") <= train_end])
    w = _windows(task, scaled, end=train_end, stride=window_stride)
    tr, va = train_val_split(w, val_fraction, purge="targets")
    defaults: dict[str, Any] = {
        "patch_len": 7,
        "stride": 7,
        "quantiles": DEFAULT_QUANTILES,
        "nonneg": (True,) * len(task.targets),
        "revin": True,
        "linear_skip": True,
    }
    cfg = ForecasterConfig(
        n_channels=w.X.shape[2],
        n_future=w.X_future.shape[2],
        n_targets=len(task.targets),
        input_size=task.input_size,
        horizon=task.horizon,
        backbone=backbone,
        **{**defaults, **config},
    )
    seed_everything(seed)
    model = Forecaster(cfg)
    result = fit(
        model,
        (tr.X, tr.X_future, tr.Y),
        (va.X, va.X_future, va.Y),
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        patience=patience,
        device=device,
        progress=progress,
        seed=seed,
    )
    return TrainedForecaster(task, model, scaler, train_end, result)


def _long(task: ForecastTask) -> pd.DataFrame:
    """``unique_id, ds, y, node, variable`` (+ known-future columns): the history the baselines see."""
    p = task.panel.reset_index()
    parts = []
    for t in task.targets:
        d = pd.DataFrame({"unique_id": p["node"] + "/" + t, "ds": p["ts"], "y": p[t].to_numpy("float64")})
        d["node"], d["variable"] = p["node"].to_numpy(), t
        for c in task.known_future:
            d[c] = p[c].to_numpy("float64")
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def backtest(
    task: ForecastTask,
    *,
    n_origins: int = 3,
    truth: pd.DataFrame | None = None,
    baselines: Sequence[str] = ("seasonal_naive", "auto_ets", "lightgbm"),
    trained: TrainedForecaster | None = None,
    seed: int = 0,
    device: str = "auto",
    **train_options: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score M and the baselines on the last ``n_origins`` windows of H days.

    Origins are ``last_day - H·j`` for ``j = n_origins .. 1`` (non-overlapping test windows that
    end on the last day).  M is trained once, on every day up to the first origin (or ``trained``
    is used when its ``train_end`` is that day); the baselines are fitted at each origin on the
    history up to it.  Actual values come from ``truth`` when given (a synthetic scenario's
    answer key; the inputs are still the task's panel), else from the panel itself.

    Returns
    -------
    table : pandas.DataFrame
        Index: model label (``"M"`` first, then :data:`BASELINE_LABELS`); columns ``relMASE``,
        ``MASE``, ``MAE``, ``WQL``, ``cov80``, ``series``; see :func:`score_forecasts`.
    forecasts : pandas.DataFrame
        Long: ``model, origin, node, variable, ts, mean, q0.1..q0.9, y, scale``.
    """
    unknown = [b for b in baselines if b not in BASELINE_LABELS]
    if unknown:
        raise UnknownNameError(f"unknown baseline(s) {unknown}; choose from {list(BASELINE_LABELS)}")
    if "seasonal_naive" not in baselines:
        raise ValueError(
            "backtest needs 'seasonal_naive' among the baselines: relative MASE is measured to it"
        )
    if not isinstance(n_origins, int) or n_origins < 1:
        raise ValueError(f"n_origins must be a positive integer, got {n_origins!r}")
    h = task.horizon
    origins = [task.last_day - pd.Timedelta(days=h * j) for j in range(n_origins, 0, -1)]
    if trained is None or trained.train_end != origins[0]:
        trained = train_forecaster(task, train_end=origins[0], seed=seed, device=device, **train_options)
    data = _long(task)
    actual = data[["unique_id", "ds", "y"]]
    if truth is not None:
        tl = truth[list(task.targets)].rename_axis(columns="variable").stack().rename("y").reset_index()
        tl["unique_id"] = tl["node"] + "/" + tl["variable"]
        actual = tl.rename(columns={"ts": "ds"})[["unique_id", "ds", "y"]]
    parts = []
    for origin in origins:
        train = data[data["ds"] <= origin]
        scale = train.groupby("unique_id", sort=True)["y"].apply(_snaive).rename("scale")
        fx = data[(data["ds"] > origin) & (data["ds"] <= origin + pd.Timedelta(days=h))]
        fx = fx[["unique_id", "ds", *task.known_future]]
        fcs = {}
        for b in baselines:
            kw = {"use_exog": list(task.known_future) or False} if b == "lightgbm" else {}
            fcs[BASELINE_LABELS[b]] = forecast(
                b,
                train[["unique_id", "ds", "y", *task.known_future]],
                h,
                future_exog=fx if task.known_future else None,
                seed=seed,
                **kw,
            )
        m = trained.forecast(origin, device=device)
        fcs = {M_LABEL: m.assign(unique_id=m["node"] + "/" + m["variable"], ds=m["ts"])} | fcs
        for label, fc in fcs.items():
            fc = fc.merge(actual, on=["unique_id", "ds"], how="inner").merge(
                scale, left_on="unique_id", right_index=True
            )
            node_var = fc["unique_id"].str.split("/", n=1, expand=True)
            parts.append(
                pd.DataFrame(
                    {
                        "model": label,
                        "origin": origin,
                        "node": node_var[0],
                        "variable": node_var[1],
                        "ts": fc["ds"],
                    }
                ).join(fc[["mean", *QCOLS, "y", "scale"]])
            )
    forecasts = pd.concat(parts, ignore_index=True)
    return score_forecasts(forecasts), forecasts


def _snaive(y: pd.Series, m: int = 7) -> float:
    v = y.to_numpy("float64")
    return float(np.abs(v[m:] - v[:-m]).mean()) if v.size > m else float("nan")


def score_forecasts(forecasts: pd.DataFrame, *, reference: str = "Seasonal Naive") -> pd.DataFrame:
    """Accuracy table of long forecasts (``model, origin, node, variable, mean, q…, y, scale``).

    A series is one (node, variable).  ``MASE``: per series, the mean over origins of
    MAE(horizon) / scale, then the mean over series; ``relMASE``: geometric mean over series of
    MASE / the reference's MASE (series with a zero scale or zero reference error left out);
    ``MAE`` pooled; ``WQL`` mean over quantile levels of 2·Σ pinball / Σ|y|; ``cov80`` share of
    actual values in [q0.1, q0.9]; ``series`` used for relMASE.
    """
    f = forecasts.assign(ae=(forecasts["y"] - forecasts["mean"]).abs())
    per = f.groupby(["model", "node", "variable", "origin"]).agg(mae=("ae", "mean"), scale=("scale", "first"))
    per = per[per["scale"] > 0]
    mase = (per["mae"] / per["scale"]).groupby(level=["model", "node", "variable"]).mean()
    if reference not in mase.index.get_level_values("model"):
        raise ValueError(f"reference model {reference!r} is not among the forecasts")
    ref = mase.xs(reference, level="model")
    rows = {}
    for label in dict.fromkeys(f["model"]):
        g = f[f["model"] == label]
        y = g["y"].to_numpy()
        ratio = (mase.xs(label, level="model") / ref).replace([np.inf, -np.inf], np.nan).dropna()
        ratio = ratio[ratio > 0]
        wql = []
        for q, c in zip(DEFAULT_QUANTILES, QCOLS, strict=True):
            d = y - g[c].to_numpy()
            wql.append(2 * np.sum(np.maximum(q * d, (q - 1) * d)) / np.sum(np.abs(y)))
        rows[label] = {
            "relMASE": float(np.exp(np.mean(np.log(ratio)))) if len(ratio) else float("nan"),
            "MASE": float(mase.xs(label, level="model").mean()),
            "MAE": float(g["ae"].mean()),
            "WQL": float(np.mean(wql)),
            "cov80": float(np.mean((y >= g["q0.1"].to_numpy()) & (y <= g["q0.9"].to_numpy()))),
            "series": len(ratio),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
