"""Monitoring and feedback: compare forecasts with what happens, raise alerts, feed the next forecast.

``forecast ──► calibrate (conformal) ──► compare with actuals ──► alerts, drift ──► update M ──► next forecast``

* :func:`rolling_forecasts` — M's forecasts at many origins in one pass (a rolling-origin
  backtest without retraining), long frame ``node, variable, origin, step, ts, mean, q…, y``.
* :class:`ConformalCalibrator` — split conformal or adaptive conformal inference (ACI) on those
  backtests (CQR or absolute-residual scores, per group such as (variable, horizon step));
  :func:`calibrate_online` replays a backtest causally, issuing each origin's intervals with
  only the actuals known by then.  See :mod:`sclm._conformal` for the exact rules.
* :func:`check_actuals` — actuals outside a (calibrated) interval, with a severity.
* :class:`CusumDetector` — drift on standardised one-step residuals (two-sided clipped CUSUM,
  threshold calibrated on clean data; :mod:`sclm._drift`).
* :class:`ShiftDetector` — level shifts in the cleaned actuals themselves (the latest week
  against a lagged four-week reference, threshold calibrated on clean data), which M's
  adaptation cannot hide.
* :func:`inject_anomalies` / :func:`score_alerts` — spikes, drops and level shifts with their
  answer key, and precision/recall of alerts against it (:mod:`sclm._anomalies`).
* :func:`update_forecaster` — fine-tune M from its weights on windows that include new days.
* :class:`Monitor` — the whole loop, day by day, returning a :class:`MonitorResult`.

Typical use::

    m = train_forecaster(task, train_end=t0)
    mon = Monitor(m).calibrate(t0 + pd.Timedelta(days=140))   # clean days after t0
    result = mon.run(observed_panel)                           # day by day after that
    result.figures["coverage_calibrated"], result.alerts, result.drift
    print(result.summary())

    # or the pieces: intervals calibrated on a rolling backtest
    fc = rolling_forecasts(m, origins)                          # node, variable, origin, step, ts, ...
    cal = ConformalCalibrator(alpha=0.2, method="aci").fit(fc[fc["ts"] <= t1])
    issued = calibrate_online(cal, fc[fc["origin"] >= t1])      # lo, hi as issued, causally
    alerts = check_actuals(issued)                              # actuals outside [lo, hi]

The conformal code is this package's own (tested against the definitions): MAPIE is not
installed, and statsforecast's ``ConformalIntervals`` calibrates statsforecast's own models by
refitting them in cross-validation windows, not the forecasts of an external model such as M.

Anomaly alerts use their own conformal level
--------------------------------------------
An 80 % interval misses 20 % of normal days by design, so flagging every actual outside it would
bury an operator.  :class:`Monitor` therefore raises anomaly alerts against a separate band
around the one-step-ahead forecasts — CQR score on M's own 10 %/90 % quantiles (so the band
widens where M expects more spread, e.g. on promotion days), scaled by the series' calibration
MAE — fitted on the clean calibration days only, never on an answer key: by default
(``alert_alpha=None``) one threshold per variable, the largest clean score of that variable
(split conformal at ``α = 1/(n + 1)``, the narrowest band that covers every clean day; a float
``alert_alpha`` is the earlier band, ``1 − alert_alpha`` pooled over all series) — and at least
``± min_deviation`` (default 40 %) of a normal day wide: an alert must be statistically unusual
*and* material.  A flagged value is *quarantined*: replaced by its forecast in the panel M reads
(and left out of the conformal updates), so one spike does not distort the next forecasts.
While a series' drift statistic is high (above ``hold · h``) its new values are *held* the same
way, so that neither M nor its updates learn a possible level shift before the detector has
decided; without this, M's one-step forecasts follow a shift within days and its residuals
shrink before a CUSUM can confirm it.  A drift alarm is reported; with ``accept_drift=True`` it
also restores the series' quarantined values since the estimated onset and stops quarantining
that series for one horizon, so that M follows a genuine new level (off by default: a temporary
shift would otherwise be learnt, and then its end raises alerts too).

Alerts and drift read a fixed yardstick
---------------------------------------
Both read the one-step forecasts of the model *as calibrated* (``watch="reference"``), not of
the model being fine-tuned: the thresholds were calibrated on that model's clean errors, and an
update changes the error behaviour (measured on the scenarios: fine-tuning every 14 days made
one-step residuals more persistent — lag-1 autocorrelation 0.25 → 0.36 in manufacturing — and
tripled false drift alarms).  The issued forecasts and their intervals come from the current,
updated model; ACI keeps their coverage on target as the model changes.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self

import numpy as np
import pandas as pd

from sclm._anomalies import KINDS, inject_anomalies, score_alerts
from sclm._conformal import ConformalCalibrator, conformal_quantile
from sclm._drift import ALARM_COLUMNS, CusumDetector
from sclm._feedback import update_forecaster, update_windows
from sclm._rolling import _DAY, _actuals, _ts, calibrate_online, rolling_forecasts, score_relmase
from sclm._shift import SHIFT_COLUMNS, ShiftDetector
from sclm.pipeline import TrainedForecaster, train_forecaster

__all__ = [
    "KINDS",
    "ConformalCalibrator",
    "CusumDetector",
    "Monitor",
    "MonitorResult",
    "ShiftDetector",
    "calibrate_online",
    "check_actuals",
    "conformal_quantile",
    "inject_anomalies",
    "rolling_forecasts",
    "score_alerts",
    "score_relmase",
    "update_forecaster",
    "update_windows",
]

ALERT_COLUMNS = ["node", "variable", "ts", "origin", "step", "y", "lo", "hi", "side", "excess", "severity"]


# --------------------------------------------------------------------------------------------------
# Alerts
# --------------------------------------------------------------------------------------------------


def _long_actuals(actuals: pd.DataFrame | pd.Series, variables: Sequence[str]) -> pd.Series:
    if isinstance(actuals, pd.Series):
        return actuals.rename("y")
    if isinstance(actuals.index, pd.MultiIndex) and list(actuals.index.names[:2]) == ["node", "ts"]:
        cols = [v for v in variables if v in actuals.columns]
        return _actuals(actuals, cols)
    value = "y" if "y" in actuals.columns else "value"
    need = ["node", "variable", "ts", value]
    missing = [c for c in need if c not in actuals.columns]
    if missing:
        raise ValueError(
            f"actuals must be a Panel (index node, ts) or a long frame with {need}; missing {missing}"
        )
    idx = pd.MultiIndex.from_frame(actuals[["node", "variable", "ts"]])
    return pd.Series(actuals[value].to_numpy(np.float64), index=idx, name="y")


def check_actuals(
    forecast: pd.DataFrame,
    actuals: pd.DataFrame | pd.Series | None = None,
    *,
    lower: str | None = None,
    upper: str | None = None,
    severity_edges: tuple[float, float] = (0.25, 1.0),
) -> pd.DataFrame:
    """Alerts for actuals outside a forecast interval.

    Parameters
    ----------
    forecast : pandas.DataFrame
        Long forecasts ``node, variable, ts`` with the interval columns (``lo``/``hi`` of a
        :class:`ConformalCalibrator`, else ``q0.1``/``q0.9``).
    actuals : Panel, long frame or Series, optional
        A Panel (index ``node, ts``; one column per variable), a long frame ``node, variable,
        ts, y`` (or ``value``), or a Series indexed (node, variable, ts).  Default: the
        forecast's own ``y`` column.
    lower, upper : str, optional
        Interval columns to check against.
    severity_edges : (float, float)
        ``excess`` = distance outside the interval / its width (the width floored at 1e-9 of
        the bound's size); severity ``"low"`` below the first edge, ``"medium"`` below the
        second, ``"high"`` from it.

    Returns
    -------
    pandas.DataFrame
        One row per checked forecast row outside its interval: ``node, variable, ts, origin,
        step`` (NaN/NaT if the forecast has none), ``y, lo, hi, side`` (``"above"``/``"below"``),
        ``excess``, ``severity``; sorted by day, node, variable.  Rows without an actual are
        skipped.
    """
    lo_c = lower or ("lo" if "lo" in forecast.columns else "q0.1")
    hi_c = upper or ("hi" if "hi" in forecast.columns else "q0.9")
    for c in ("node", "variable", "ts", lo_c, hi_c):
        if c not in forecast.columns:
            raise ValueError(f"forecast has no column {c!r}; it has {list(forecast.columns)}")
    a, b = severity_edges
    if not 0 < a < b:
        raise ValueError(f"severity_edges must be increasing positive numbers, got {severity_edges!r}")
    f = forecast
    if actuals is None:
        if "y" not in f.columns:
            raise ValueError("no actuals given and the forecast has no 'y' column")
        y = f["y"].to_numpy(np.float64)
    else:
        s = _long_actuals(actuals, pd.unique(f["variable"]))
        y = s.reindex(pd.MultiIndex.from_frame(f[["node", "variable", "ts"]])).to_numpy(np.float64)
    lo, hi = f[lo_c].to_numpy(np.float64), f[hi_c].to_numpy(np.float64)
    known = ~np.isnan(y)
    above, below = known & (y > hi), known & (y < lo)
    out_rows = above | below
    width = np.maximum(hi - lo, 1e-9 * np.maximum(np.abs(hi), 1.0))
    dist = np.where(above, y - hi, lo - y)
    excess = dist / width
    sev = np.where(excess < a, "low", np.where(excess < b, "medium", "high"))
    res = pd.DataFrame(
        {
            "node": f["node"].to_numpy()[out_rows],
            "variable": f["variable"].to_numpy()[out_rows],
            "ts": pd.to_datetime(f["ts"].to_numpy()[out_rows]),
            "origin": pd.to_datetime(f["origin"].to_numpy()[out_rows]) if "origin" in f else pd.NaT,
            "step": f["step"].to_numpy()[out_rows] if "step" in f else np.nan,
            "y": y[out_rows],
            "lo": lo[out_rows],
            "hi": hi[out_rows],
            "side": np.where(above[out_rows], "above", "below"),
            "excess": excess[out_rows],
            "severity": sev[out_rows],
        },
        columns=ALERT_COLUMNS,
    )
    return res.sort_values(["ts", "node", "variable"], kind="stable", ignore_index=True)


# --------------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------------


@dataclass
class MonitorResult:
    """What :meth:`Monitor.run` saw and did.

    Attributes
    ----------
    forecasts : pandas.DataFrame
        Every forecast issued (one per day and series and step) with ``lo, hi`` (calibrated
        ``1 − alpha``), ``alpha_t``, the model's quantiles and the actual ``y`` (NaN if it came
        after the run's end).
    alerts : pandas.DataFrame
        Anomaly alerts on the one-step-ahead forecasts (:func:`check_actuals` columns, with
        ``quarantined``: the value was replaced by its forecast in the panel M reads).
    drift : pandas.DataFrame
        Drift alarms (:meth:`CusumDetector.update` columns).
    updates : pandas.DataFrame
        One row per model update: ``end``, ``seconds``, ``windows``, ``retrain_seconds`` (NaN
        where no retrain was compared).
    comparison : pandas.DataFrame
        Forecasts from each update's new last day by ``model`` = ``"stale"`` (the model never
        updated), ``"updated"`` and, where compared, ``"retrained"``.
    watched : pandas.DataFrame
        The one-step-ahead forecasts the alerts and the drift detector read (the reference
        model's, see ``Monitor(watch=...)``) with the anomaly band ``alert_lo, alert_hi`` and ``y``.
    held : pandas.DataFrame
        ``node, variable, ts`` of values held out of M's inputs (replaced by their forecast)
        while the series' drift statistic was above ``hold · h`` (``Monitor(hold=...)``).
    shifts : pandas.DataFrame
        Level-shift alarms of the :class:`ShiftDetector` on the cleaned actuals
        (:meth:`ShiftDetector.update` columns).
    figures : dict
        Numbers a report can quote (:meth:`Monitor.run` lists them).
    """

    forecasts: pd.DataFrame
    alerts: pd.DataFrame
    drift: pd.DataFrame
    updates: pd.DataFrame
    comparison: pd.DataFrame
    watched: pd.DataFrame
    held: pd.DataFrame
    shifts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SHIFT_COLUMNS))
    figures: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """One paragraph with the figures (English)."""
        g = self.figures
        text = (
            f"Over {g['days']:.0f} monitored days, the 80 % intervals of M covered "
            f"{100 * g['coverage_raw']:.1f} % of the actuals as issued and {100 * g['coverage_calibrated']:.1f} % "
            f"after conformal calibration (target {100 * (1 - g['alpha']):.0f} %). "
            f"{g['alerts']:.0f} anomaly alert(s) were raised ({g['alerts_high']:.0f} high), "
            f"{g['drift_alarms']:.0f} drift alarm(s) on the residuals"
            + (
                f" and {g['shift_alarms']:.0f} level-shift alarm(s) on the actuals. "
                if "shift_alarms" in g
                else ". "
            )
        )
        if g.get("updates", 0):
            text += (
                f"M was updated {g['updates']:.0f} time(s) from its checkpoint, {g['update_seconds']:.1f} s each "
                f"on average; relative MASE on the next window was {g['relmase_stale']:.3f} without updates and "
                f"{g['relmase_updated']:.3f} with them"
            )
            if np.isfinite(g.get("relmase_retrained", np.nan)):
                text += (
                    f" ({g['relmase_retrained']:.3f} for a full retrain taking {g['retrain_seconds']:.1f} s, "
                    f"update/retrain time {g['time_ratio']:.2f})"
                )
            text += "."
        return text


class Monitor:
    """forecast → calibrate → compare with actuals → alerts and drift → update → next forecast.

    Parameters
    ----------
    trained : TrainedForecaster
        M as trained (its ``train_end`` is where calibration starts).
    alpha : float
        Miscoverage of the reported intervals (0.2: 80 %).
    method, by, gamma, window : see :class:`ConformalCalibrator` (score ``"cqr"``, scaled per
        series).
    alert_alpha : float or None
        ``None``: per variable, the largest clean one-step score (module docstring; measured in
        :mod:`sclm._anomalies`); a float: miscoverage of one band pooled over all series, which
        needs at least ``1/alert_alpha − 1`` clean one-step forecasts in calibration.
    alert_score : {"cqr", "abs"}
        Score of the anomaly band (:class:`ConformalCalibrator`).
    drift : CusumDetector, optional
        Drift detector (default ``CusumDetector()``); fitted on the clean calibration residuals.
    shift : ShiftDetector or None or False
        Level-shift test on the cleaned actuals (default ``ShiftDetector(covariates=...,
        regressors=...)`` with the task's known-future columns that are not targets, e.g.
        promotion and price, whose effects it removes first, and as the policy regressors the
        task's covariates and those columns, e.g. orders, so that a series set by a
        replenishment rule is tested on its residual from that rule (:mod:`sclm._shift`);
        ``False``: none), fitted on the clean days up to the calibration end (the calibration
        stretch and the ``shift_history`` training days before it).  Each day it reads the
        actuals with their anomaly alerts replaced by
        their one-step forecasts, so a spike or a drop does not move the weekly mean — unless
        the alert is one of ``shift_run`` in a row on the same side of that series: a run of
        alerts is a new level, which M (reading quarantined values) keeps missing, and the
        detector reads those values as they are (so it reads each day ``shift_run − 1`` days
        late; alarms are dated the day they are raised); its alarms are reported (``MonitorResult.shifts``), typed ``level_shift``, apart from the
        residual drift alarms (typed ``drift``) and the point alerts (``spike`` above the band,
        ``drop`` below).
    quarantine : bool
        Replace flagged values by their forecast in the panel M reads (module docstring).
    accept_drift : bool
        After a drift alarm, restore and accept the series' new values (module docstring).
    min_deviation : float
        Materiality: the anomaly band is at least ``± min_deviation · L`` around the forecast,
        ``L`` the series' level (median ``|y|`` on the calibration days), so that a deviation
        that is statistically unusual but operationally negligible (1 % on a very accurate
        series) raises nothing.
    hold : float or None
        While a series' CUSUM is above ``hold · h`` (a change is being tested), its new values
        are held out of M's inputs like quarantined ones, so that the models do not learn a
        possible level shift before it is confirmed (None: never).
    watch : {"reference", "current"}
        Whose one-step forecasts the alerts and the drift detector read: the model as
        calibrated (``trained``, default: the yardstick whose normal errors were measured) or
        the current, updated one (module docstring).
    shift_run : int
        Alerts in a row, on one side of a series, that make a level and not points (``shift``;
        1: every alert is read as a level, nothing is cleaned).
    shift_history : int
        Training days before the calibration stretch on which the shift detector is fitted too
        (its policy regressions need more clean days than its two-sample test).
    update_every : int or None
        Fine-tune M every this many new days (None: never).
    update_options : dict, optional
        Arguments of :func:`update_forecaster`.
    ignore : str, optional
        Boolean panel column of days not to score, calibrate on or alert on (e.g. ``"closed"``).
    floor : float or None
        Lower clip of calibrated bounds (0 for non-negative quantities).
    device : {"auto", "cpu", "cuda", "mps"}
        Device of the rolling forecasts and updates; ``"auto"`` (default) is CUDA, else MPS, else
        CPU (:func:`sclm.training.resolve_device`).
    """

    def __init__(
        self,
        trained: TrainedForecaster,
        *,
        alpha: float = 0.2,
        method: Literal["split", "aci"] = "aci",
        by: Sequence[str] = ("variable", "step"),
        gamma: float = 0.05,
        window: int | None = None,
        alert_alpha: float | None = None,
        alert_score: Literal["cqr", "abs"] = "cqr",
        drift: CusumDetector | None = None,
        shift: ShiftDetector | None | Literal[False] = None,
        quarantine: bool = True,
        accept_drift: bool = False,
        min_deviation: float = 0.4,
        hold: float | None = 0.75,
        watch: Literal["reference", "current"] = "reference",
        shift_history: int = 365,
        shift_run: int = 3,
        update_every: int | None = 14,
        update_options: dict[str, Any] | None = None,
        ignore: str | None = None,
        floor: float | None = 0.0,
        device: str = "auto",
    ) -> None:
        self.trained = trained
        self.alpha, self.method, self.by, self.gamma, self.window = alpha, method, by, gamma, window
        if alert_alpha is not None and not 0 < alert_alpha < 1:
            raise ValueError(f"alert_alpha must be in (0, 1) or None, got {alert_alpha!r}")
        self.alert_alpha, self.alert_score = alert_alpha, alert_score
        self.drift = drift
        self.shift = shift
        self.quarantine, self.accept_drift = quarantine, accept_drift
        if watch not in ("reference", "current"):
            raise ValueError(f"watch must be 'reference' or 'current', got {watch!r}")
        self.watch = watch
        if hold is not None and not 0 < hold <= 1:
            raise ValueError(f"hold must be in (0, 1] or None, got {hold!r}")
        self.hold = hold
        if not min_deviation >= 0:
            raise ValueError(f"min_deviation must be >= 0, got {min_deviation!r}")
        self.min_deviation = min_deviation
        if update_every is not None and (not isinstance(update_every, int) or update_every < 1):
            raise ValueError(f"update_every must be a positive integer or None, got {update_every!r}")
        self.update_every = update_every
        if not isinstance(shift_history, int) or shift_history < 0:
            raise ValueError(f"shift_history must be a non-negative integer, got {shift_history!r}")
        self.shift_history = shift_history
        if not isinstance(shift_run, int) or shift_run < 1:
            raise ValueError(f"shift_run must be a positive integer, got {shift_run!r}")
        self.shift_run = shift_run
        self.update_options = dict(update_options or {})
        self.ignore = ignore
        self.floor = floor
        self.device = device

    def _drop_ignored(self, frame: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
        if self.ignore is None or frame.empty:
            return frame
        flag = panel[self.ignore].astype(bool)
        skip = flag.reindex(pd.MultiIndex.from_frame(frame[["node", "ts"]])).fillna(False).to_numpy()
        return frame[~skip]

    def calibrate(self, end: object, *, panel: pd.DataFrame | None = None) -> Self:
        """Rolling backtest on the clean days after ``train_end`` up to ``end``; fit the calibrators.

        Forecasts are issued daily at origins ``train_end … end − 1``; every row whose day is
        ``≤ end`` is a calibration row (later steps of the last origins are dropped).

        Returns
        -------
        Monitor
            ``self`` with ``calibrator_`` (reported intervals), ``alert_calibrator_`` (anomaly
            band), ``drift_`` (fitted detector), ``shift_`` (fitted :class:`ShiftDetector`, or
            None), ``level_`` (median ``|y|`` per series),
            ``calibration_`` (the backtest) and ``cal_end_``.
        """
        tr = self.trained
        end = pd.Timestamp(end)
        H = tr.task.horizon
        origins = pd.date_range(tr.train_end, end - _DAY)
        if len(origins) < H:
            raise ValueError(
                f"calibration end {end.date()} leaves {len(origins)} origin(s) after train_end "
                f"{tr.train_end.date()}; need at least the horizon, {H}"
            )
        src = tr.task.panel if panel is None else panel
        fc = rolling_forecasts(tr, origins, panel=src, device=self.device, pad_known_future=True)
        fc = self._drop_ignored(fc[fc["ts"] <= end], src)
        self.calibrator_ = ConformalCalibrator(
            alpha=self.alpha,
            method=self.method,
            by=self.by,
            gamma=self.gamma,
            window=self.window,
            floor=self.floor,
        ).fit(fc)
        one = fc[fc["step"] == 1]
        lower, upper = self.calibrator_._bounds  # the band widens M's own (1 - alpha) quantiles
        self.alert_calibrator_ = ConformalCalibrator(
            alpha=0.5 if self.alert_alpha is None else self.alert_alpha,  # None: set per group below
            method="split",
            by=("variable",) if self.alert_alpha is None else (),
            score=self.alert_score,
            scale="series",
            lower=lower,
            upper=upper,
            floor=self.floor,
        ).fit(one)
        if self.alert_alpha is None:  # each variable's largest clean score: k = n
            self.alert_calibrator_.set_alpha(1.0 / (self.alert_calibrator_.n_scores_ + 1.0))
        if not np.isfinite(self.alert_calibrator_.quantiles_).all():
            if self.alert_alpha is None:
                raise ValueError(
                    f"a variable has no clean one-step forecast among the {len(one)} in calibration: "
                    "calibrate on more days"
                )
            need = int(np.ceil(1 / self.alert_alpha)) - 1
            raise ValueError(
                f"{len(one)} clean one-step forecasts are too few for alert_alpha={self.alert_alpha} "
                f"(need at least {need}): calibrate on more days or raise alert_alpha"
            )
        self.drift_ = copy.deepcopy(self.drift or CusumDetector()).fit(one)
        self.shift_ = None
        if self.shift is not False:
            task = tr.task
            known = [c for c in task.known_future if c not in task.targets and c != self.ignore]
            policy = [c for c in (*task.covariates, *known) if c not in task.targets and c != self.ignore]
            shift = copy.deepcopy(self.shift or ShiftDetector(covariates=known, regressors=policy))
            # the clean days: the calibration stretch and up to shift_history training days before it
            first = tr.train_end - self.shift_history * _DAY
            days = _ts(src)
            part = src[(days >= first) & (days <= end)]
            clean = self._with_covariates(_actuals(part, list(tr.task.targets)).reset_index(), part, shift)
            self.shift_ = shift.fit(self._drop_ignored(clean.dropna(subset=["y"]), src))
        self.level_ = one["y"].abs().groupby([one["node"], one["variable"]]).median().rename("level")
        self.calibration_ = fc
        self.cal_end_ = end
        return self

    @staticmethod
    def _with_covariates(frame: pd.DataFrame, panel: pd.DataFrame, shift: ShiftDetector) -> pd.DataFrame:
        """``frame`` (``node, variable, ts, y``) with the shift detector's columns of that node and day."""
        if not shift.columns:
            return frame
        idx = pd.MultiIndex.from_frame(frame[["node", "ts"]])
        return frame.assign(**{c: panel[c].reindex(idx).to_numpy() for c in shift.columns})

    def _feed_shift(
        self, shift: ShiftDetector, rows: pd.DataFrame, sides: dict, today: pd.Timestamp, panel: pd.DataFrame
    ) -> pd.DataFrame:
        """Feed one day's watched rows to the shift detector, its point anomalies replaced by their forecasts.

        ``sides``: day → {(node, variable): side} of the anomaly alerts so far.  An alert on the
        day of ``rows`` is a point anomaly (its value replaced by the one-step forecast) unless
        it is part of ``shift_run`` alerts in a row on the same side: a run of alerts is a new
        level (which M, reading quarantined values, keeps missing), whose values the detector
        must read.  Alarms are dated ``today``, when they are raised.
        """
        day = pd.Timestamp(rows["ts"].iloc[0]) if len(rows) else today
        run = self.shift_run
        window = [sides.get(day + j * _DAY, {}) for j in range(1 - run, run)]
        then = window[run - 1]

        def point(k: tuple) -> bool:
            s = then.get(k)
            if s is None:
                return False
            return not any(all(w.get(k) == s for w in window[i : i + run]) for i in range(run))

        keys = list(zip(rows["node"], rows["variable"], strict=True))
        hit = np.fromiter((point(k) for k in keys), bool, len(keys))
        cleaned = rows[["node", "variable", "ts"]].assign(y=np.where(hit, rows["mean"], rows["y"]))
        found = shift.update(self._with_covariates(cleaned, panel, shift))
        return found.assign(ts=today, kind="level_shift")

    def _issue(
        self, model: TrainedForecaster, panel: pd.DataFrame, origin: pd.Timestamp, cal
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Forecasts from ``origin`` with calibrated intervals, and the one-step rows to watch."""
        kw = {"panel": panel, "device": self.device, "pad_known_future": True, "actuals": False}
        out = cal.transform(rolling_forecasts(model, [origin], **kw))
        if self.watch == "current" or model is self.trained:
            one = out[out["step"] == 1]
        else:
            ref = rolling_forecasts(self.trained, [origin], **kw)
            one = ref[ref["step"] == 1]
        band = self.alert_calibrator_.transform(one)
        idx = pd.MultiIndex.from_frame(one[["node", "variable"]])
        material = self.min_deviation * self.level_.reindex(idx).fillna(0.0).to_numpy()
        mean = one["mean"].to_numpy()
        watch = one.assign(
            alert_lo=np.minimum(band["lo"].to_numpy(), mean - material),
            alert_hi=np.maximum(band["hi"].to_numpy(), mean + material),
        )
        return out, watch[[c for c in watch.columns if c not in ("lo", "hi", "alpha_t")]]

    def run(
        self,
        panel: pd.DataFrame,
        *,
        end: object | None = None,
        compare_retrain: int = 0,
        retrain_options: dict[str, Any] | None = None,
    ) -> MonitorResult:
        """Monitor the days after the calibration end, one day at a time.

        Each day ``t``: the actuals of ``t`` arrive (``panel``: what was observed, anomalies
        included); forecasts issued earlier for ``t`` are resolved and fed to the calibrator
        (ACI levels and score pools; quarantined cells excluded); the one-step forecast made
        at ``t − 1`` is checked against the anomaly band (:func:`check_actuals`) and fed to the
        drift detector; flagged values are quarantined or, after a drift alarm, accepted;
        every ``update_every`` days M is fine-tuned on the panel it reads
        (:func:`update_forecaster`) and, for the first ``compare_retrain`` updates, also fully
        retrained (:func:`sclm.pipeline.train_forecaster` with ``retrain_options``) for
        comparison; then the forecast from ``t`` is issued with calibrated intervals.

        Parameters
        ----------
        panel : pandas.DataFrame
            Observed panel (the task's columns) covering the calibration days and the monitored
            days; never modified.
        end : date, optional
            Last monitored day (default: the panel's last day).
        compare_retrain : int
            Updates also compared with a full retrain (costly).
        retrain_options : dict, optional
            :func:`sclm.pipeline.train_forecaster` arguments for the retrain (give the original
            training settings).

        Returns
        -------
        MonitorResult
            ``figures``: ``days``, ``alpha``, ``coverage_raw`` ([q_{α/2}, q_{1−α/2}] of M),
            ``coverage_calibrated`` ([lo, hi]) over resolved forecasts, ``alerts``,
            ``alerts_high``, ``drift_alarms``, ``updates``, ``update_seconds``,
            ``retrain_seconds``, ``time_ratio`` (update / retrain seconds over compared updates),
            ``relmase_stale``, ``relmase_updated``, ``relmase_retrained`` (next window after
            each compared update; stale/updated over every update), ``relmase_ratio``
            (updated / retrained over the compared updates).
        """
        if not hasattr(self, "calibrator_"):
            raise ValueError("this Monitor is not calibrated yet; call calibrate(end) first")
        task = self.trained.task
        end = _ts(panel).max() if end is None else pd.Timestamp(end)
        start = self.cal_end_ + _DAY
        if end < start:
            raise ValueError(f"end {end.date()} is not after the calibration end {self.cal_end_.date()}")
        cal = copy.deepcopy(self.calibrator_)
        drift = copy.deepcopy(self.drift_).reset()
        shift = None if self.shift_ is None else copy.deepcopy(self.shift_).reset()
        shifts_all: list[pd.DataFrame] = []
        working = panel.copy()
        model = stale = self.trained
        accept_until: dict[tuple[str, str], pd.Timestamp] = {}
        quarantined: dict[tuple[str, str], list[pd.Timestamp]] = {}
        issued: list[pd.DataFrame] = []
        pending, watching = self._issue(model, working, self.cal_end_, cal)
        alerts_all, drift_all, updates, comparison, watched = [], [], [], [], []
        held: list[dict] = []
        last_update = self.cal_end_
        lo_q, hi_q = cal._bounds
        H = task.horizon
        observed = _actuals(panel, task.targets)
        waiting, sides = [], {}  # the shift detector's pending days, the alerts' sides by day
        for t in pd.date_range(start, end):
            due = pending["ts"] == t
            now = pending[due].copy()
            pending = pending[~due]
            now["y"] = observed.reindex(pd.MultiIndex.from_frame(now[["node", "variable", "ts"]])).to_numpy()
            issued.append(now)
            now = self._drop_ignored(now.dropna(subset=["y"]), panel)
            one = watching.assign(
                y=observed.reindex(pd.MultiIndex.from_frame(watching[["node", "variable", "ts"]])).to_numpy()
            )
            watched.append(one)
            one = self._drop_ignored(one.dropna(subset=["y"]), panel)
            alerts = check_actuals(one, lower="alert_lo", upper="alert_hi")
            alarms = drift.update(one)
            flagged = set(zip(alerts["node"], alerts["variable"], strict=True))
            if shift is not None:  # the values of shift_run - 1 days ago: their alerts' runs are known
                sides[t] = dict(
                    zip(zip(alerts["node"], alerts["variable"], strict=True), alerts["side"], strict=True)
                )
                waiting.append(one)
                if len(waiting) == self.shift_run:
                    shifts_all.append(self._feed_shift(shift, waiting.pop(0), sides, t, panel))
            keep = [(n, v) not in flagged for n, v in zip(now["node"], now["variable"], strict=True)]
            cal.update(now[keep])
            q_flags = []
            for r in alerts.itertuples():
                key = (r.node, r.variable)
                q = self.quarantine and not (key in accept_until and t <= accept_until[key])
                if q:
                    mean = one.loc[(one["node"] == r.node) & (one["variable"] == r.variable), "mean"].iloc[0]
                    working.loc[(r.node, t), r.variable] = mean
                    quarantined.setdefault(key, []).append(t)
                q_flags.append(q)
            if len(alerts):
                kind = np.where(alerts["side"] == "below", "drop", "spike")
                alerts_all.append(alerts.assign(quarantined=q_flags, kind=kind))
            if self.quarantine and self.hold is not None:
                held_now = []
                for r in one.itertuples():
                    key = (r.node, r.variable)
                    if key in flagged or (key in accept_until and t <= accept_until[key]):
                        continue
                    sp, sn, _, _ = drift.state_.get(key, (0.0, 0.0, None, None))
                    if max(sp, sn) > self.hold * drift.h_[r.variable]:
                        working.loc[(r.node, t), r.variable] = r.mean
                        quarantined.setdefault(key, []).append(t)
                        held_now.append({"node": r.node, "variable": r.variable, "ts": t})
                held.extend(held_now)
            for r in alarms.itertuples() if self.accept_drift else ():
                key = (r.node, r.variable)
                for d in quarantined.pop(key, []):
                    if d >= r.onset:
                        working.loc[(r.node, d), r.variable] = panel.loc[(r.node, d), r.variable]
                accept_until[key] = t + H * _DAY
            if len(alarms):
                drift_all.append(alarms.assign(kind="drift"))
            if self.update_every and (t - last_update).days >= self.update_every and t < end:
                t0 = time.perf_counter()
                new = update_forecaster(
                    model, working, end=t, device=self.device, **{"progress": False, **self.update_options}
                )
                secs = time.perf_counter() - t0
                row = {"end": t, "seconds": secs, "steps": new.fit_result.steps, "retrain_seconds": np.nan}
                fcs = {"stale": stale, "updated": new}
                if len(updates) < compare_retrain:
                    t0 = time.perf_counter()
                    retrained = train_forecaster(
                        dataclasses.replace(task, panel=working),
                        train_end=t,
                        device=self.device,
                        **{"progress": False, **(retrain_options or {})},
                    )
                    row["retrain_seconds"] = time.perf_counter() - t0
                    fcs["retrained"] = retrained
                if t + H * _DAY <= end:
                    for label, mdl in fcs.items():
                        comparison.append(
                            rolling_forecasts(mdl, [t], panel=panel, device=self.device).assign(model=label)
                        )
                updates.append(row)
                model, last_update = new, t
            if t < end:
                out, watching = self._issue(model, working, t, cal)
                pending = pd.concat([pending, out], ignore_index=True)
        for rows in waiting if shift is not None else ():  # the last days: no later alerts
            shifts_all.append(self._feed_shift(shift, rows, sides, end, panel))
        shifts_all = [f for f in shifts_all if len(f)]
        forecasts = pd.concat(issued, ignore_index=True)
        empty_alerts = pd.DataFrame(columns=[*ALERT_COLUMNS, "quarantined", "kind"])
        alerts = pd.concat(alerts_all, ignore_index=True) if alerts_all else empty_alerts
        drift_alarms = (
            pd.concat(drift_all, ignore_index=True)
            if drift_all
            else pd.DataFrame(columns=[*ALARM_COLUMNS, "kind"])
        )
        shift_frame = (
            pd.concat(shifts_all, ignore_index=True)
            if shifts_all
            else pd.DataFrame(columns=[*SHIFT_COLUMNS, "kind"])
        )
        upd = pd.DataFrame(updates, columns=["end", "seconds", "steps", "retrain_seconds"])
        comp = pd.concat(comparison, ignore_index=True) if comparison else pd.DataFrame()
        figures = self._figures(forecasts, alerts, drift_alarms, upd, comp, panel, start, end, lo_q, hi_q)
        figures["held"] = float(len(held))
        if shift is not None:
            figures["shift_alarms"] = float(len(shift_frame))
        held_frame = pd.DataFrame(held, columns=["node", "variable", "ts"])
        watched_frame = pd.concat(watched, ignore_index=True)
        return MonitorResult(
            forecasts, alerts, drift_alarms, upd, comp, watched_frame, held_frame, shift_frame, figures
        )

    def _figures(self, forecasts, alerts, drift_alarms, upd, comp, panel, start, end, lo_q, hi_q) -> dict:
        f = self._drop_ignored(forecasts.dropna(subset=["y"]), panel)
        y = f["y"].to_numpy()
        raw = float(np.mean((y >= f[lo_q].to_numpy()) & (y <= f[hi_q].to_numpy()))) if len(f) else np.nan
        calib = float(np.mean((y >= f["lo"].to_numpy()) & (y <= f["hi"].to_numpy()))) if len(f) else np.nan
        g: dict[str, float] = {
            "days": float((end - start).days + 1),
            "alpha": float(self.alpha),
            "coverage_raw": raw,
            "coverage_calibrated": calib,
            "alerts": float(len(alerts)),
            "alerts_high": float((alerts["severity"] == "high").sum()) if len(alerts) else 0.0,
            "drift_alarms": float(len(drift_alarms)),
            "updates": float(len(upd)),
            "update_seconds": float(upd["seconds"].mean()) if len(upd) else np.nan,
        }
        cmp = upd[upd["retrain_seconds"].notna()]
        g["retrain_seconds"] = float(cmp["retrain_seconds"].mean()) if len(cmp) else np.nan
        g["time_ratio"] = float(cmp["seconds"].sum() / cmp["retrain_seconds"].sum()) if len(cmp) else np.nan
        nan = float("nan")
        g.update(relmase_stale=nan, relmase_updated=nan, relmase_retrained=nan, relmase_ratio=nan)
        if len(comp):
            score = lambda d: score_relmase(d, panel, ignore=self.ignore)  # noqa: E731
            g["relmase_stale"] = score(comp[comp["model"] == "stale"])
            g["relmase_updated"] = score(comp[comp["model"] == "updated"])
            if (comp["model"] == "retrained").any():
                origins = comp.loc[comp["model"] == "retrained", "origin"].unique()
                both = comp[comp["origin"].isin(origins)]
                g["relmase_retrained"] = score(both[both["model"] == "retrained"])
                g["relmase_ratio"] = score(both[both["model"] == "updated"]) / g["relmase_retrained"]
        return g
