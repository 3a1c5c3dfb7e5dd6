"""Rolling-origin forecasts of one model, causal replay of a calibrator, and relative MASE.

Private module; the public names are re-exported by :mod:`sclm.monitor`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sclm._conformal import ConformalCalibrator, add_step
from sclm.baselines import DEFAULT_QUANTILES, quantile_column
from sclm.metrics import relative_mase_table
from sclm.pipeline import ForecastTask, TrainedForecaster, _windows

__all__ = ["calibrate_online", "rolling_forecasts", "score_relmase"]

QCOLS = tuple(quantile_column(q) for q in DEFAULT_QUANTILES)
_DAY = pd.Timedelta(days=1)


def _ts(panel: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(panel.index.get_level_values("ts"))


def _pad(
    task: ForecastTask, panel: pd.DataFrame, until: pd.Timestamp, pad_known_future: bool
) -> pd.DataFrame:
    """Append placeholder rows up to ``until`` (forward-filled; they only fill target slots)."""
    last = _ts(panel).max()
    if until <= last:
        return panel
    if task.known_future and not pad_known_future:
        raise ValueError(
            f"forecasting up to {until.date()} needs the known-future column(s) {list(task.known_future)} "
            f"on those days, but the panel ends on {last.date()}"
        )
    tail = panel[_ts(panel) == last].reset_index()
    extra = []
    for d in pd.date_range(last + _DAY, until):
        extra.append(tail.assign(ts=d))
    out = pd.concat([panel.reset_index(), *extra], ignore_index=True)
    return out.set_index(["node", "ts"]).sort_index()


def _actuals(panel: pd.DataFrame, targets: Sequence[str]) -> pd.Series:
    s = panel[list(targets)].rename_axis(columns="variable").stack()
    return s.reorder_levels(["node", "variable", "ts"]).rename("y")


def rolling_forecasts(
    trained: TrainedForecaster,
    origins: Sequence | pd.DatetimeIndex,
    *,
    panel: pd.DataFrame | None = None,
    device: str = "auto",
    pad_known_future: bool = False,
    actuals: bool = True,
) -> pd.DataFrame:
    """Forecast the H days after each origin with the same model (no refitting).

    Parameters
    ----------
    trained : TrainedForecaster
    origins : sequence of dates
        Last input day of each forecast.  Inputs are the panel's values up to the origin only.
    panel : pandas.DataFrame, optional
        The panel to read inputs (and actuals) from, e.g. observed data with anomalies or
        quarantined cells; default the task's.  Same columns as the task's panel.
    device : str
    pad_known_future : bool
        Past the panel's last day, repeat its known-future values (M adds a known-future
        column's effect day by day, so this changes only the forecasts of those unobserved
        days); otherwise such origins raise.

    Returns
    -------
    pandas.DataFrame
        ``node, variable, origin, step, ts, mean, q0.1 … q0.9, y``: one row per origin, node,
        target and day; ``y`` is the panel's value (NaN past its last day).  Days past the panel
        are padded with placeholders (with known-future columns only if ``pad_known_future``).
    """
    from sclm.training import predict

    task = trained.task
    src = task.panel if panel is None else panel
    missing = [c for c in task.columns if c not in src.columns]
    if missing:
        raise ValueError(f"panel has no column(s) {missing} of the task")
    o = pd.DatetimeIndex(pd.to_datetime(list(origins))).unique().sort_values()
    if o.empty:
        raise ValueError("origins is empty")
    T, H = task.input_size, task.horizon
    days = _ts(src)
    p = src.loc[(days >= o.min() - (T - 1) * _DAY) & (days <= o.max() + H * _DAY), list(task.columns)]
    padded = _pad(task, p, o.max() + H * _DAY, pad_known_future)
    scaled = trained.scaler.transform(padded)
    w = _windows(task, scaled, origins=o)
    inv = lambda a: trained.scaler.inverse_transform(a, nodes=w.nodes, columns=w.targets)  # noqa: E731
    pred = predict(trained.model, w.X, w.X_future, device=device, inverse=inv)
    n, _, k = pred.point.shape
    steps = np.tile(np.arange(1, H + 1), n)
    origin = np.repeat(w.meta["origin"].to_numpy(), H)
    node = np.repeat(w.nodes, H)
    parts = []
    for j, target in enumerate(w.targets):
        d = pd.DataFrame({"node": node, "variable": target, "origin": origin, "step": steps})
        d["ts"] = d["origin"] + pd.to_timedelta(d["step"], unit="D")
        d["mean"] = pred.point[:, :, j].ravel().astype(np.float64)
        q = pred.quantiles[:, :, j, :].reshape(n * H, -1).astype(np.float64)
        d[list(QCOLS)] = q
        parts.append(d)
    out = pd.concat(parts, ignore_index=True)
    if actuals:
        y = _actuals(p, task.targets)
        out["y"] = y.reindex(pd.MultiIndex.from_frame(out[["node", "variable", "ts"]])).to_numpy()
    return out.sort_values(["origin", "variable", "node", "step"], kind="stable", ignore_index=True)


def calibrate_online(calibrator: ConformalCalibrator, forecasts: pd.DataFrame) -> pd.DataFrame:
    """Replay a backtest causally through a fitted calibrator.

    Origins are taken in time order; before issuing the intervals of origin ``o``, the
    calibrator is updated (:meth:`ConformalCalibrator.update`) with every earlier row whose day
    ``ts <= o`` (its actual is known by then), using the interval issued for it.

    Parameters
    ----------
    calibrator : ConformalCalibrator
        Fitted on data before the first origin; not modified (a copy is updated).
    forecasts : pandas.DataFrame
        Long forecasts with ``origin`` and ``y`` (NaN allowed for rows never resolved).

    Returns
    -------
    pandas.DataFrame
        The forecasts with ``lo``, ``hi``, ``alpha_t`` as issued.
    """
    cal = copy.deepcopy(calibrator)
    issued, pending = [], []
    for o, block in forecasts.groupby("origin", sort=True):
        if pending:
            pend = pd.concat(pending, ignore_index=True)
            done = (pend["ts"] <= o) & pend["y"].notna()
            if done.any():
                cal.update(pend[done])
            pending = [pend[~(pend["ts"] <= o)]]
        out = cal.transform(block)
        issued.append(out)
        pending.append(out)
    return pd.concat(issued, ignore_index=True)


def score_relmase(
    forecasts: pd.DataFrame,
    panel: pd.DataFrame,
    *,
    ignore: str | None = None,
    season_length: int = 7,
) -> float:
    """Relative MASE of long forecasts against the seasonal-naive forecast from the same origins.

    Computed by :func:`sclm.metrics.relative_mase_table` (the protocol and edge-case rules of
    :mod:`sclm.metrics`, as :func:`sclm.pipeline.score_forecasts`): a series' MASE is the mean
    over its origins of MAE(horizon) / scale, scale = the in-sample seasonal-naive MAE (lag
    ``season_length``) of the panel's history up to the origin; the reference forecast is
    ``y[origin + h − season_length·⌈h/season_length⌉]``; relMASE is the geometric mean over series
    of the clipped model MASE / naive MASE.  Days where the naive forecast has no value (before
    the panel starts, or a missing reading) are scored for neither.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        ``node, variable, origin, ts, mean`` and the actual ``y``.
    panel : pandas.DataFrame
        History (index node, ts; daily without gaps) the scales and the naive forecasts come from.
    ignore : str, optional
        Boolean panel column: days where it is true are not scored (e.g. ``"closed"``).
    season_length : int
        Seasonal period in days.

    Returns
    -------
    float
        relMASE; ``nan`` when no series has a usable scale.
    """
    m = season_length
    f = forecasts[forecasts["y"].notna()].copy()
    if "step" not in f.columns:
        f = add_step(f)
    if ignore is not None:
        flag = panel[ignore].astype(bool)
        f = f[~flag.reindex(pd.MultiIndex.from_frame(f[["node", "ts"]])).fillna(False).to_numpy()]
    variables = list(pd.unique(f["variable"]))
    series = _actuals(panel, variables)
    lag = f["ts"] - pd.to_timedelta(m * np.ceil(f["step"] / m).astype(int), unit="D")
    f["naive"] = series.reindex(pd.MultiIndex.from_arrays([f["node"], f["variable"], lag])).to_numpy()
    f = f[f["naive"].notna()]
    if f.empty:
        return float("nan")
    hist = panel[variables].rename_axis(columns="variable").reset_index()
    hist = hist.melt(id_vars=["node", "ts"], value_vars=variables, var_name="variable", value_name="y")
    table = relative_mase_table(
        f,
        ["mean", "naive"],
        "naive",
        train_df=hist,
        season_length=m,
        id_col=["node", "variable"],
        cutoff_col="origin",
        time_col="ts",
    )
    return float(table.loc["mean", "relMASE"])
