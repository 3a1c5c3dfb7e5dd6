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
  in-sample seasonal-naive scale (``season_length`` = 7) of the history up to each origin,
  relative MASE as the geometric mean over series of MASE / seasonal-naive MASE
  (:func:`sclm.metrics.relative_mase_table`: one rule for every model), WQL over the quantile
  levels and the share of actual values inside [q0.1, q0.9].

Causal or not.  Give :func:`scenario_task` a :class:`CausalPanels` (raw readings, cleaner and
fuser fitted up to the training end) instead of a panel and every input of a forecast at an
origin comes from the panel as known at that origin (:meth:`ForecastTask.panel_at`): M's
training windows and scaler from ``panel_at(train_end)``, its input at origin ``o`` and the
baselines' history from ``panel_at(o)``.  A plain panel (e.g. one cleaned and fused on the whole
period) is used as it is for every origin: **not causal** when it was cleaned or fused with days
after the origins (rolling medians, gap filling and fitted noise rates see the test days).

Frames: long forecast frames have columns ``node, variable, ts, mean, q0.1 ... q0.9``
(``origin`` and ``y`` added by :func:`backtest`); a series is always named by its ``node`` and
``variable`` columns, never by a joined string id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sclm._causal import CausalPanels
from sclm.baselines import DEFAULT_QUANTILES, forecast, quantile_column
from sclm.metrics import coverage, mae, relative_mase_table, seasonal_naive_scale, wql
from sclm.schema import UnknownNameError
from sclm.windows import PanelScaler, make_windows, train_val_split

if TYPE_CHECKING:
    from sclm.models import Forecaster
    from sclm.models._pretrain import Pretrained
    from sclm.scenarios import Scenario
    from sclm.training import FitResult
    from sclm.windows import Windows

__all__ = [
    "BASELINE_LABELS",
    "CausalPanels",
    "ForecastTask",
    "TrainedForecaster",
    "backtest",
    "scenario_task",
    "score_forecasts",
    "train_forecaster",
    "training_windows",
    "validation_forecasts",
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
    panels : CausalPanels, optional
        Where the inputs at each origin come from (:meth:`panel_at`); ``panel`` is then the
        whole-period panel, read only for the actual values of real data and the last day.
        None: ``panel`` itself at every origin (not causal if it was cleaned on later days).
    """

    panel: pd.DataFrame
    targets: tuple[str, ...]
    covariates: tuple[str, ...] = ()
    known_future: tuple[str, ...] = ()
    horizon: int = 14
    input_size: int = 56
    scaled: tuple[str, ...] = ()
    panels: CausalPanels | None = None

    def __post_init__(self) -> None:
        missing = [c for c in (*self.targets, *self.covariates, *self.known_future) if c not in self.panel]
        if missing:
            raise ValueError(f"panel has no column(s) {missing}; it has {list(self.panel.columns)}")
        if not self.targets:
            raise ValueError("a ForecastTask needs at least one target")
        unused = [c for c in self.scaled if c not in self.columns]
        if unused:  # a scaled column the model never reads is a mistake in the task, not a no-op
            raise ValueError(f"scaled column(s) {unused} are not among the task's columns {self.columns}")
        for name in ("horizon", "input_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")

    @property
    def columns(self) -> list[str]:
        """Targets, covariates, known-future columns, each once (a column can be both a past
        covariate and known in advance)."""
        return list(dict.fromkeys([*self.targets, *self.covariates, *self.known_future]))

    @property
    def last_day(self) -> pd.Timestamp:
        return pd.Timestamp(self.panel.index.get_level_values("ts").max())

    @property
    def causal(self) -> bool:
        """True when the inputs at each origin come from :class:`CausalPanels`."""
        return self.panels is not None

    def panel_at(self, origin: object, *, horizon: int = 0) -> pd.DataFrame:
        """The task's columns (float64) as known at ``origin``, plus ``horizon`` days after it.

        Causal task: :meth:`CausalPanels.panel_at` (readings up to the origin; the days after it
        hold the planned known-future values and placeholders).  Otherwise ``panel`` itself, all
        its days.
        """
        if self.panels is None:
            return self.panel[self.columns]
        p = self.panels.panel_at(origin, horizon=horizon, known_future=self.known_future)
        return p[self.columns].astype("float64")


def scenario_task(
    scenario: Scenario,
    panel: pd.DataFrame | CausalPanels | None = None,
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
    panel : pandas.DataFrame or CausalPanels, optional
        What to forecast from: a panel (the truth by default; a panel cleaned and fused on the
        whole period is *not causal*), or :class:`CausalPanels` of the scenario's raw readings
        (the case studies: every input as known at its origin; the roles are read from the
        panel at its ``train_end``).
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
    panels = panel if isinstance(panel, CausalPanels) else None
    source = scenario.truth if panel is None else panel.full if panels is not None else panel
    frame = source[[*targets, *cov, *kf]].astype("float64")
    seen = frame if panels is None else panels.panel_at(panels.train_end)[kf].astype("float64")
    binary = [c for c in kf if set(np.unique(seen[c])) <= {0.0, 1.0}]
    return ForecastTask(
        panel=frame,
        targets=tuple(targets),
        covariates=tuple(cov),
        known_future=tuple(kf),
        horizon=horizon,
        input_size=input_size,
        scaled=tuple(c for c in frame.columns if c not in binary),
        panels=panels,
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
    holdout_model: Forecaster | None = None
    """With ``refit``: the early-stopped model, trained without the validation windows (``model``
    is then the one refitted on every window); every figure on the validation windows reads it."""
    refit_result: FitResult | None = None
    """With ``refit``: what training ``model`` on every window did (no validation)."""

    @property
    def validation_model(self) -> Forecaster:
        """The model that never saw the validation windows: ``holdout_model`` if refitted, else ``model``."""
        return self.model if self.holdout_model is None else self.holdout_model

    def windows(self, origins: Sequence | None = None, *, end: object | None = None) -> Windows:
        """Scaled windows of the task (as the model sees them), e.g. for explanations."""
        return _windows(self.task, self.scaler.transform(self.task.panel), origins=origins, end=end)

    def validation_windows(self, *, window_stride: int = 1, val_fraction: float = 0.2) -> Windows:
        """The scaled windows :func:`train_forecaster` held out for early stopping (the last
        ``val_fraction`` of the training windows, ``purge="targets"``; same ``window_stride``)."""
        _, w = training_windows(self.task, train_end=self.train_end, window_stride=window_stride)
        return train_val_split(w, val_fraction, purge="targets")[1]

    def forecast(self, origin: object | None = None, *, device: str = "auto") -> pd.DataFrame:
        """Forecast the H days after ``origin`` (default: the training end) for every node.

        The input is the task's panel as known at the origin (:meth:`ForecastTask.panel_at`:
        causal for a task built on :class:`CausalPanels`).  Known-future columns must be in the
        panel (or the plans) up to ``origin + H``.

        Returns
        -------
        pandas.DataFrame
            ``node, variable, ts, mean, q0.1 ... q0.9`` in the panel's units, one row per node,
            target and day.
        """
        from sclm.training import predict

        origin = self.train_end if origin is None else pd.Timestamp(origin)
        panel = self.task.panel_at(origin, horizon=self.task.horizon)
        w = _windows(self.task, self.scaler.transform(panel), origins=[origin])
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
    init: Pretrained | None = None,
    refit: bool = False,
    **config: Any,
) -> TrainedForecaster:
    """Fit M on the task's panel up to ``train_end`` (default: the last day).

    Parameters
    ----------
    task : ForecastTask
    train_end : date, optional
        Last day any training window (input or target) may touch; the scaler sees no later day.
        A causal task trains on its panel as known at ``train_end``.
    backbone : {"patch", "lm"}
        Patch transformer from scratch, or the frozen MiniLM backbone.
    epochs, patience, batch_size, lr : training settings of :func:`sclm.training.fit`.
    window_stride : int
        Days between training windows (``stride`` of :func:`sclm.windows.make_windows`; the
        patch step of the model is ``patch_stride``).
    val_fraction : float
        Share of the latest origins used for early stopping (``purge="targets"``).
    seed, device, progress : see :func:`sclm.training.fit`.
    init : sclm.models._pretrain.Pretrained, optional
        Warm start (fine-tuning): the freshly built model takes the pretrained weights
        (:func:`sclm.models._pretrain.warm_start`: same-shaped tensors, known-future channels
        mapped by name, unmatched ones from zero) before training; its configuration should be
        the one it was pretrained with.
    refit : bool
        After early stopping has chosen the best epoch E on the latest ``val_fraction`` of the
        windows, train a fresh model (same seed, configuration and warm start) on every window up
        to ``train_end`` for E epochs, so the days just before the origin, which early stopping
        held out, are learned from too (as a refit on all data after choosing the iteration
        count).  The returned ``model`` is the refitted one; ``holdout_model`` keeps the
        early-stopped one for figures on the validation windows
        (:attr:`TrainedForecaster.validation_model`).
    **config
        Further :class:`sclm.models.ForecasterConfig` fields (``patch_len``, ``d_model``,
        ``lm_layers``, ``revin``, ``linear_skip``, ``quantiles`` ...).  Defaults here: weekly
        patches (``patch_len = patch_stride = 7``), the deciles as quantiles, ``revin`` and
        ``linear_skip`` on, non-negative targets.
    """
    from sclm.models import Forecaster, ForecasterConfig
    from sclm.repro import seed_everything
    from sclm.training import fit

    train_end = task.last_day if train_end is None else pd.Timestamp(train_end)
    scaler, w = training_windows(task, train_end=train_end, window_stride=window_stride)
    tr, va = train_val_split(w, val_fraction, purge="targets")
    defaults: dict[str, Any] = {
        "patch_len": 7,
        "patch_stride": 7,
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

    def fresh() -> Forecaster:
        seed_everything(seed)
        model = Forecaster(cfg)
        if init is not None:
            from sclm.models._pretrain import warm_start

            binary = [c for c in task.known_future if c not in task.scaled]
            warm_start(model, init, w.known_future, binary)
        return model

    model = fresh()
    settings = dict(batch_size=batch_size, lr=lr, device=device, progress=progress, seed=seed)
    result = fit(
        model,
        (tr.X, tr.X_future, tr.Y),
        (va.X, va.X_future, va.Y),
        epochs=epochs,
        patience=patience,
        **settings,
    )
    if not refit:
        return TrainedForecaster(task, model, scaler, train_end, result)
    full = fresh()
    again = fit(full, (w.X, w.X_future, w.Y), None, epochs=result.best_epoch, **settings)
    return TrainedForecaster(task, full, scaler, train_end, result, holdout_model=model, refit_result=again)


def training_windows(
    task: ForecastTask, *, train_end: object, window_stride: int = 1
) -> tuple[PanelScaler, Windows]:
    """The scaler and the scaled windows M is trained on (before the validation split).

    The scaler (``PanelScaler("mean_abs", per="node")``) is fitted on the task's panel as known
    at ``train_end`` (:meth:`ForecastTask.panel_at`), up to that day; every window ends on or
    before it.  ``X`` (N, T, C), ``X_future`` (N, H, F), ``Y`` (N, H, K).
    """
    train_end = pd.Timestamp(train_end)
    panel = task.panel_at(train_end)
    scaler = PanelScaler("mean_abs", per="node", columns=list(task.scaled)).fit(panel, end=train_end)
    scaled = scaler.transform(panel[panel.index.get_level_values("ts") <= train_end])
    return scaler, _windows(task, scaled, end=train_end, stride=window_stride)


def validation_forecasts(
    members: Sequence[TrainedForecaster],
    *,
    window_stride: int = 1,
    val_fraction: float = 0.2,
    device: str = "auto",
) -> pd.DataFrame:
    """The forecasts of M's own validation windows, with their actuals, in original units.

    The windows are those :func:`train_forecaster` held out for early stopping (the last
    ``val_fraction`` of the training windows, ``purge="targets"``): every forecast day lies on or
    before ``train_end``, so nothing after the origin is read.  With several ``members`` (a seed
    ensemble of one configuration: the same task, training end and windows) every column is the
    median over members, cell by cell, as the bench combines them.  The use: calibration
    scores for :class:`sclm.monitor.ConformalCalibrator` (the intervals of a forecast at
    ``train_end`` calibrated on days before it).

    Parameters
    ----------
    members : sequence of TrainedForecaster
        Trained on the same task (equal layout and panel) up to the same ``train_end``; the
        windows are cut from the first member's task and scaler.
    window_stride : int
        Days between training windows, as in :func:`train_forecaster`.
    val_fraction : float
        As in :func:`train_forecaster`.
    device : str
        Where to run the model.

    Returns
    -------
    pandas.DataFrame
        Long frame ``node, variable, origin, ts, y, mean, q0.1 ... q0.9``: one row per validation
        window, target and forecast day (``origin``: the window's last input day).
    """
    from sclm.training import predict

    if not members:
        raise ValueError("validation_forecasts needs at least one member")
    first = members[0]
    layout = ("targets", "covariates", "known_future", "horizon", "input_size", "scaled")

    def same(m: TrainedForecaster) -> bool:
        t, u = m.task, first.task
        return (
            m.train_end == first.train_end
            and all(getattr(t, a) == getattr(u, a) for a in layout)
            and (t.panel is u.panel or t.panel.equals(u.panel))
        )

    if not all(same(m) for m in members[1:]):
        raise ValueError("validation_forecasts: members must share their task and training end")
    va = first.validation_windows(window_stride=window_stride, val_fraction=val_fraction)
    if len(va) == 0:
        raise ValueError("no validation windows: the training period is too short for the split")
    inv = lambda a: first.scaler.inverse_transform(a, nodes=va.nodes, columns=va.targets)  # noqa: E731
    preds = [predict(m.validation_model, va.X, va.X_future, device=device, inverse=inv) for m in members]
    point = np.median(np.stack([p.point for p in preds]), axis=0)  # N, H, K
    quant = np.median(np.stack([p.quantiles for p in preds]), axis=0)  # N, H, K, Q
    y = inv(va.Y)
    n, h, k = va.Y.shape
    step = np.arange(1, h + 1)
    parts = []
    for j, target in enumerate(va.targets):
        d = pd.DataFrame(
            {
                "node": np.repeat(va.nodes, h),
                "variable": target,
                "origin": np.repeat(va.meta["origin"].to_numpy(), h),
                "ts": (va.meta["origin"].to_numpy()[:, None] + step * np.timedelta64(1, "D")).ravel(),
                "y": y[:, :, j].ravel(),
                "mean": point[:, :, j].ravel(),
            }
        )
        d[list(QCOLS)] = quant[:, :, j, :].reshape(n * h, -1)
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def _series_ids(task: ForecastTask) -> pd.DataFrame:
    """``node, variable, unique_id``: one integer id per series, in (node, variable) order.

    The baselines' ``unique_id`` only; every frame that leaves this module names a series by
    its ``node`` and ``variable`` columns.
    """
    nodes = sorted(pd.unique(task.panel.index.get_level_values("node")))
    keys = pd.MultiIndex.from_product([nodes, sorted(task.targets)], names=["node", "variable"])
    return keys.to_frame(index=False).assign(unique_id=np.arange(len(keys)))


def _long(task: ForecastTask, panel: pd.DataFrame, ids: pd.DataFrame) -> pd.DataFrame:
    """``node, variable, unique_id, ds, y`` (+ known-future columns) of ``panel``: what the baselines see."""
    p = panel.reset_index()
    parts = []
    for t in task.targets:
        d = pd.DataFrame({"node": p["node"].to_numpy(), "variable": t, "ds": p["ts"]})
        d["y"] = p[t].to_numpy("float64")
        for c in task.known_future:
            d[c] = p[c].to_numpy("float64")
        parts.append(d)
    long = pd.concat(parts, ignore_index=True)
    return long.merge(ids, on=["node", "variable"], how="left", sort=False)


def backtest(
    task: ForecastTask,
    *,
    n_origins: int = 3,
    truth: pd.DataFrame | None = None,
    baselines: Sequence[str] = ("seasonal_naive", "auto_ets", "auto_theta", "lightgbm"),
    trained: TrainedForecaster | None = None,
    panels: CausalPanels | None = None,
    seed: int = 0,
    device: str = "auto",
    **train_options: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score M and the baselines on the last ``n_origins`` windows of H days.

    Origins are ``last_day - H·j`` for ``j = n_origins .. 1`` (non-overlapping test windows that
    end on the last day).  M is trained once, on every day up to the first origin (or ``trained``
    is used when its ``train_end`` is that day); the baselines are fitted at each origin on the
    history up to it.  The inputs at an origin are the task's panel as known at it
    (:meth:`ForecastTask.panel_at`): causal when the task was built on :class:`CausalPanels`
    (or ``panels`` is given), else the task's panel as it is (not causal if it was cleaned with
    later days).  Actual values come from ``truth`` when given (a synthetic scenario's answer
    key), else from the task's (whole-period) panel — scoring only.

    Parameters
    ----------
    task : ForecastTask
    n_origins : int
        Test windows of H days at the end of the data.
    truth : pandas.DataFrame, optional
        Panel of actual values (index ``node, ts``, the targets as columns).
    baselines : sequence of str
        Names from :data:`BASELINE_LABELS`; ``"seasonal_naive"`` is required (the reference).
    trained : TrainedForecaster, optional
        M trained up to the first origin on this task (with the same ``panels``).
    panels : CausalPanels, optional
        Make a task built on a plain panel causal: its inputs come from ``panels``.
    seed, device : int, str
        Seed of M's training and of LightGBM; M's device.
    **train_options
        :func:`train_forecaster` arguments when M is trained here.

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
    if panels is not None:
        task = replace(task, panels=panels)
    if trained is not None and task.panels is not None and trained.task.panels is not task.panels:
        raise ValueError(
            "trained was fitted on other panels than the task's CausalPanels: its inputs would differ"
        )
    h = task.horizon
    origins = [task.last_day - pd.Timedelta(days=h * j) for j in range(n_origins, 0, -1)]
    if trained is None or trained.train_end != origins[0]:
        trained = train_forecaster(task, train_end=origins[0], seed=seed, device=device, **train_options)
    ids = _series_ids(task)
    actual = truth if truth is not None else task.panel
    actual = actual[list(task.targets)].rename_axis(columns="variable").stack().rename("y").reset_index()
    actual = actual.rename(columns={"ts": "ds"})[["node", "variable", "ds", "y"]]
    parts = []
    for origin in origins:
        data = _long(task, task.panel_at(origin, horizon=h), ids)
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
        fcs = {label: fc.merge(ids, on="unique_id", how="left") for label, fc in fcs.items()}
        m = trained.forecast(origin, device=device)
        fcs = {M_LABEL: m.rename(columns={"ts": "ds"}).merge(ids, on=["node", "variable"], how="left")} | fcs
        for label, fc in fcs.items():
            fc = fc.merge(actual, on=["node", "variable", "ds"], how="inner").merge(
                scale, left_on="unique_id", right_index=True
            )
            parts.append(
                fc[["node", "variable", "ds"]]
                .rename(columns={"ds": "ts"})
                .assign(model=label, origin=origin)[["model", "origin", "node", "variable", "ts"]]
                .join(fc[["mean", *QCOLS, "y", "scale"]])
            )
    forecasts = pd.concat(parts, ignore_index=True)
    return score_forecasts(forecasts), forecasts


def _snaive(y: pd.Series, season_length: int = 7) -> float:
    """One series' seasonal-naive scale (:func:`sclm.metrics.seasonal_naive_scale`); nan if too short."""
    v = y.to_numpy("float64")
    return seasonal_naive_scale(v, season_length=season_length) if v.size > season_length else float("nan")


def score_forecasts(
    forecasts: pd.DataFrame, *, reference: str = "Seasonal Naive", point: str = "mean"
) -> pd.DataFrame:
    """Accuracy table of long forecasts (``model, origin, node, variable, ts, mean, q…, y, scale``).

    A series is one (node, variable); every model must forecast the same cells.  ``relMASE``,
    ``MASE``, ``series``, ``excluded`` and ``clipped`` come from
    :func:`sclm.metrics.relative_mase_table` (the ``scale`` column is each origin's
    seasonal-naive scale): per series, the mean over origins of MAE(horizon) / scale, then the
    geometric mean over series of MASE / the reference's MASE, each ratio clipped to
    :data:`sclm.metrics.RELATIVE_ERROR_BOUNDS`; an origin with a zero scale is left out and a
    series with none left is excluded, for every model alike (the rules are in
    :mod:`sclm.metrics`).  ``MAE`` pooled; ``WQL`` (:func:`sclm.metrics.wql`) over the
    quantile levels; ``cov80`` share of actual values in [q0.1, q0.9].

    ``point``: the column scored as every model's point forecast (``relMASE``, ``MASE``,
    ``MAE``): ``"mean"`` (default) or ``"q0.5"``, the median, which minimises the expected
    absolute error and so suits MASE (``bench/forecast.py`` scores every row on it).  The
    reference is always scored on its ``mean`` (the seasonal naive forecast itself).
    """
    if point not in ("mean", "q0.5"):
        raise ValueError(f"point must be 'mean' or 'q0.5', got {point!r}")
    if point != "mean":
        forecasts = forecasts.copy()
        other = forecasts["model"] != reference
        forecasts.loc[other, "mean"] = forecasts.loc[other, point]
    if "model" not in forecasts or reference not in set(forecasts["model"]):
        raise ValueError(f"reference model {reference!r} is not among the forecasts")
    labels = list(dict.fromkeys(forecasts["model"]))
    cell = ["node", "variable", "origin", "ts"]
    dup = forecasts.duplicated([*cell, "model"])
    if dup.any():
        raise ValueError(f"{int(dup.sum())} duplicated (model, node, variable, origin, ts) rows")
    wide = forecasts.pivot(index=cell, columns="model", values="mean")[labels]
    if wide.isna().any().any():
        short = [m for m in labels if wide[m].isna().any()]
        raise ValueError(f"model(s) {short} lack forecasts on cells other models are scored on")
    keys = forecasts.groupby(cell, sort=True)[["y", "scale"]].first()
    wide = wide.join(keys).reset_index()
    rel = relative_mase_table(
        wide, labels, reference, scale="scale", id_col=["node", "variable"], cutoff_col="origin"
    )
    qs = list(DEFAULT_QUANTILES)
    rows = {}
    for label in labels:
        g = forecasts[forecasts["model"] == label]
        y = g["y"].to_numpy("float64")
        rows[label] = {
            "relMASE": rel.loc[label, "relMASE"],
            "MASE": rel.loc[label, "MASE"],
            "MAE": mae(y, g["mean"].to_numpy("float64")),
            "WQL": wql(y, g[list(QCOLS)].to_numpy("float64"), qs),
            "cov80": coverage(y, g["q0.1"].to_numpy("float64"), g["q0.9"].to_numpy("float64")),
            "series": int(rel.loc[label, "series"]),
            "excluded": int(rel.loc[label, "excluded"]),
            "clipped": int(rel.loc[label, "clipped"]),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
