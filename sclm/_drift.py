"""Drift on forecast residuals (:class:`CusumDetector`); the helpers it shares with :mod:`sclm._shift`.

Private module; the public names are re-exported by :mod:`sclm.monitor`.

Method (Page 1954, in the tabular form of Montgomery's *Statistical Quality Control*)
-------------------------------------------------------------------------------------
Each series (node, variable) turns its one-step-ahead residuals ``r_t = y_t − mean_t`` into
standardised residuals against a *reference*,

    ``z_t = clip((r_t − c_t) / σ_t, −b, b)``,   ``c_t`` = median, ``σ_t`` = 1.4826 · MAD,

and runs two cumulative sums

    ``S⁺_t = max(0, S⁺_{t−1} + z_t − k)``,   ``S⁻_t = max(0, S⁻_{t−1} − z_t − k)``.

An alarm is raised on the first day ``S⁺`` or ``S⁻`` exceeds ``h``; its estimated onset is the
day after the sum was last 0 (the start of the excursion), and both sums of that series restart
at 0.  ``k`` (default 1) tunes the detector to shifts of about ``2k = 2`` spreads; clipping at
``b`` (a Huber-type CUSUM) stops one outlier — a spike, already an alert of its own — from
raising a drift alarm alone: one day adds at most ``b − k``.

Reference.  ``reference="calibration"`` (default): ``c_t = c`` and ``σ_t = σ`` are the median
and MAD of the series' clean calibration residuals.  With ``autocorr=True`` (default) ``σ`` is
multiplied by ``sqrt((1 + φ) / (1 − φ))``, ``φ`` the series' lag-1 residual autocorrelation
clipped to [0, 0.9] (the long-run standard deviation of an AR(1)), so that a series whose errors
persist — a stock — does not reach ``h`` on persistence alone.  ``reference="rolling"``:
median and MAD of the series' residuals on days ``t − lag − window … t − lag − 1`` (floored at
half the calibration spread), which absorbs a slowly wandering bias but learns a level shift
(and the anomalies) into the reference, so that the return to normal alarms again; measured on
the scenarios it traded false alarms for missed shifts, hence not the default.

Threshold ``h``, calibrated on clean data, never on an answer key: :meth:`CusumDetector.fit`
runs the detector over the clean calibration residuals of every series and sets, per variable
(``per="variable"``, default) or for all series, ``h_ = max(h_min, margin · largest sum
reached)`` — the lowest threshold that would have raised no alarm on any series of that
variable in the clean data (times a safety ``margin``).  With a calibration stretch as long as
the monitored one, a clean series then alarms with a probability of roughly
``1/(n_series + 1)`` per stretch if its residuals are exchangeable with its peers'.  One-step
residuals are autocorrelated (a stock's errors persist), which is why ``h`` comes from the data
and not from the i.i.d. average-run-length tables.

Detection floor (measured; tests/test_monitor.py, bench/monitor.py)
-------------------------------------------------------------------
On Poisson counts around a perfect forecast, shifts of 3 spreads are caught within 7 days every
time and shifts of 2 spreads about two times in three, with no alarm in 16,800 clean series-
days. The retail scenario's injected shifts (half a median day) are a median 2.9 spreads, 12 of
23 below 3 (1.8 at the least): its demand carries a persistent AR(1) shock, so residuals spread
about twice the Poisson noise and persist (φ up to 0.65), and M's one-step forecasts partly
follow a shift before the sum reaches ``hold · h``. Measured on retail (23 shifts, 7-day
window): recall 0.61 as is; k ∈ {0.5, 0.75} or a lower ``h_min`` 0.61–0.65 (``h`` from the
clean data rises with them); no AR factor 0.48–0.65; residuals against forecasts issued before
the excursion began (no adaptation, per-step spreads; an offline replay) 0.30–0.57; holding
earlier (``hold`` 0.5 / 0.25) 0.74 / 0.83 but 17 / 37 false alarms on the clean run instead of
11, because held values feed M its own forecasts. With a counterfactual M that never reads the
shifted values the same CUSUM reaches 0.96: the loss is M's adaptation, not the test. Residuals
regressed on the same node's other variables (sales and demand share their shock) reach 0.91
with 10 clean alarms, but a shift or a spike in one variable leaks into its partners' adjusted
residuals (96 false alarms in the injected run): not adopted.

Level shifts in the actuals themselves, which M's adaptation cannot hide, are
:class:`sclm._shift.ShiftDetector`'s (measured there).
"""

from __future__ import annotations

from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from scipy.special import ndtri
from scipy.stats import median_abs_deviation

__all__ = ["ALARM_COLUMNS", "CusumDetector"]

ALARM_COLUMNS = ["node", "variable", "ts", "onset", "direction", "statistic"]
_MAD = 1.0 / float(ndtri(0.75))  # 1/Φ⁻¹(3/4): scipy.stats.median_abs_deviation's scale='normal'


class CusumDetector:
    """Two-sided clipped CUSUM on standardised one-step residuals (see the module docstring).

    Parameters
    ----------
    k : float
        Reference value (allowance) in spreads per day.
    h : float, optional
        Decision threshold in spreads; ``None`` calibrates it in :meth:`fit`.
    clip : float
        ``b``: standardised residuals are clipped to ``[−b, b]``.
    margin : float
        Factor on the largest clean-data sum when ``h`` is calibrated.
    h_min : float
        Lower bound of a calibrated ``h``.
    per : {"variable", "all"}
        Calibrate one ``h`` per variable (series of one variable share a threshold: their
        residuals are alike, e.g. a stock's persist longer than a flow's) or one for all.
    reference : {"calibration", "rolling"}
        Where the centre and spread come from (module docstring).
    window, lag : int
        Rolling reference: its length and its distance from the monitored day, in days.
    autocorr : bool
        Inflate each series' spread by its AR(1) long-run factor (module docstring).

    Attributes
    ----------
    center_, spread_ : pandas.Series
        Calibration median and spread per (node, variable), in the series' units (the spread
        includes the autocorrelation factor).
    phi_ : pandas.Series
        Lag-1 autocorrelation per series (0 with ``autocorr=False``).
    h_ : pandas.Series
        Threshold in use per variable.
    clean_max_ : pandas.Series
        Largest sum reached on the calibration data per variable.
    """

    def __init__(
        self,
        k: float = 1.0,
        h: float | None = None,
        clip: float = 4.0,
        margin: float = 1.0,
        h_min: float = 6.0,
        per: Literal["variable", "all"] = "variable",
        reference: Literal["rolling", "calibration"] = "calibration",
        window: int = 28,
        lag: int = 7,
        autocorr: bool = True,
    ) -> None:
        for name, v in (("k", k), ("clip", clip), ("margin", margin), ("h_min", h_min)):
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if h is not None and not h > 0:
            raise ValueError(f"h must be positive or None, got {h!r}")
        if per not in ("variable", "all"):
            raise ValueError(f"per must be 'variable' or 'all', got {per!r}")
        if reference not in ("rolling", "calibration"):
            raise ValueError(f"reference must be 'rolling' or 'calibration', got {reference!r}")
        for name, v in (("window", window), ("lag", lag)):
            if not isinstance(v, int) or v < (2 if name == "window" else 0):
                raise ValueError(f"{name} must be an integer >= {2 if name == 'window' else 0}, got {v!r}")
        self.k, self.h, self.clip, self.margin, self.h_min, self.per = k, h, clip, margin, h_min, per
        self.reference, self.window, self.lag, self.autocorr = reference, window, lag, autocorr

    def __repr__(self) -> str:
        return (
            f"CusumDetector(k={self.k}, h={self.h}, clip={self.clip}, margin={self.margin}, per={self.per!r}, "
            f"reference={self.reference!r}, window={self.window}, lag={self.lag})"
        )

    # ---- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _check(frame: pd.DataFrame) -> pd.DataFrame:
        need = ["node", "variable", "ts", "y", "mean"]
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise ValueError(f"residual frame has no column(s) {missing}; it has {list(frame.columns)}")
        dup = frame.duplicated(["node", "variable", "ts"])
        if dup.any():
            raise ValueError(
                f"{int(dup.sum())} duplicated (node, variable, ts) row(s): pass one forecast per day "
                "(e.g. the one-step-ahead rows, step == 1)"
            )
        return frame.sort_values(["ts", "node", "variable"], kind="stable")

    def _ref(self, key: tuple[str, str], history: list[float]) -> tuple[float, float]:
        c0, s0 = self._calib[key]
        if self.reference == "calibration" or len(history) < self.window + self.lag:
            return c0, s0
        ref = np.asarray(history[len(history) - self.lag - self.window : len(history) - self.lag])
        c = float(np.median(ref))
        s = float(median_abs_deviation(ref, scale="normal"))
        return c, max(s, 0.5 * s0)

    def _run(self, frame: pd.DataFrame, h: dict[str, float] | float) -> tuple[list[dict], dict[str, float]]:
        f = self._check(frame)
        nodes, variables = f["node"].to_numpy(), f["variable"].to_numpy()
        unknown = sorted({(n, v) for n, v in zip(nodes, variables, strict=True)} - set(self._calib))
        if unknown:
            raise ValueError(f"series {unknown[:5]} were not in the calibration data")
        r = f["y"].to_numpy(np.float64) - f["mean"].to_numpy(np.float64)
        days = pd.to_datetime(f["ts"]).to_numpy()
        keep = self.window + self.lag
        alarms: list[dict] = []
        top: dict[str, float] = {}
        for i in range(len(f)):
            key = (nodes[i], variables[i])
            sp, sn, zero_p, zero_n = self.state_.get(key, (0.0, 0.0, None, None))
            history = self.history_.setdefault(key, [])
            c, s = self._ref(key, history)
            z = min(max((r[i] - c) / s, -self.clip), self.clip)
            history.append(float(r[i]))
            if len(history) > keep:
                del history[0]
            sp = max(0.0, sp + z - self.k)
            sn = max(0.0, sn - z - self.k)
            zero_p = days[i] if sp == 0 else zero_p
            zero_n = days[i] if sn == 0 else zero_n
            top[key[1]] = max(top.get(key[1], 0.0), sp, sn)
            limit = h if isinstance(h, float) else h[key[1]]
            if sp > limit or sn > limit:
                up = sp >= sn
                last_zero = zero_p if up else zero_n
                onset = days[i] if last_zero is None else last_zero + np.timedelta64(1, "D")
                alarms.append(
                    {
                        "node": key[0],
                        "variable": key[1],
                        "ts": pd.Timestamp(days[i]),
                        "onset": pd.Timestamp(min(onset, days[i])),
                        "direction": "up" if up else "down",
                        "statistic": float(sp if up else sn),
                    }
                )
                sp, sn, zero_p, zero_n = 0.0, 0.0, days[i], days[i]
            self.state_[key] = (sp, sn, zero_p, zero_n)
        return alarms, top

    # ---- API --------------------------------------------------------------------------------------

    def fit(self, clean: pd.DataFrame) -> Self:
        """Learn each series' centre and spread and calibrate ``h`` on clean one-step residuals.

        Parameters
        ----------
        clean : pandas.DataFrame
            ``node, variable, ts, y, mean``: one forecast per series and day (the one-step-ahead
            forecasts of a rolling backtest) over a stretch with no known anomaly.

        Returns
        -------
        CusumDetector
            ``self``: sums at 0, and each series' latest residuals kept as the rolling
            reference for the days after ``clean``.
        """
        f = self._check(clean)
        if f.empty:
            raise ValueError("no clean residuals to fit the drift detector")
        r = (f["y"] - f["mean"]).astype("float64")
        keys = [f["node"].to_numpy(), f["variable"].to_numpy()]
        center = r.groupby(keys).median()
        mad = (r - center.reindex(pd.MultiIndex.from_arrays(keys)).to_numpy()).abs().groupby(keys).median()
        spread = _MAD * mad
        mean_abs = r.abs().groupby(keys).mean()
        spread = spread.where(spread > 0, mean_abs).where(lambda s: s > 0, 1.0)
        phi = pd.Series(0.0, index=spread.index)
        if self.autocorr:
            for key, g in f.assign(r=r.to_numpy()).groupby(["node", "variable"], sort=False):
                x = g["r"].to_numpy()
                if x.size > 3 and np.std(x[1:]) > 0 and np.std(x[:-1]) > 0:
                    phi[key] = float(np.clip(np.corrcoef(x[1:], x[:-1])[0, 1], 0.0, 0.9))
            spread = spread * np.sqrt((1 + phi) / (1 - phi))
        self.phi_ = phi.rename("phi")
        self.center_, self.spread_ = center.rename("center"), spread.rename("spread")
        self._calib = {k: (float(c), float(s)) for k, c, s in zip(center.index, center, spread, strict=True)}
        self.state_, self.history_ = {}, {}
        _set_thresholds(self, f)
        self.reset()
        return self

    def reset(self) -> Self:
        """Back to the state right after :meth:`fit`: sums at 0, the calibration's latest residuals
        as the rolling reference."""
        _check_fitted(self, "fit(clean_residuals)")
        self.state_ = {}
        self.history_ = {k: list(v) for k, v in self._history_at_fit.items()}
        return self

    def update(self, resolved: pd.DataFrame) -> pd.DataFrame:
        """Feed new days' one-step residuals (online; the state carries over between calls).

        Parameters
        ----------
        resolved : pandas.DataFrame
            ``node, variable, ts, y, mean`` for days after those already fed.

        Returns
        -------
        pandas.DataFrame
            Alarms raised by these rows: ``node, variable, ts`` (alarm day), ``onset``
            (estimated first day of the change), ``direction`` ("up"/"down"), ``statistic``.
        """
        return _feed(self, resolved, ALARM_COLUMNS, "fit(clean_residuals)")

    def detect(self, resolved: pd.DataFrame) -> pd.DataFrame:
        """:meth:`reset` then :meth:`update`: the alarms of a whole stretch that follows the fit."""
        self.reset()
        return self.update(resolved)


def _set_thresholds(det: Any, f: Any, **run: Any) -> None:
    """Run ``det`` over its clean calibration days ``f`` with no alarm (``run``: more arguments of
    its ``_run``) and set ``clean_max_`` (the largest statistic per variable), the thresholds
    ``h_`` (a fixed ``h``, else ``margin`` × the clean maximum per variable or over all of them,
    at least ``h_min``) and the history at fit."""
    _, top = det._run(f, np.inf, **run)
    det.clean_max_ = pd.Series(top, name="clean_max").sort_index()
    if det.h is not None:
        h = pd.Series(float(det.h), index=det.clean_max_.index)
    elif det.per == "all":
        h = pd.Series(max(det.h_min, det.margin * float(det.clean_max_.max())), index=det.clean_max_.index)
    else:
        h = np.maximum(det.h_min, det.margin * det.clean_max_)
    det.h_ = h.rename("h")
    det._history_at_fit = {k: list(v) for k, v in det.history_.items()}


def _check_fitted(det: Any, hint: str) -> None:
    if not hasattr(det, "h_"):
        raise ValueError(f"this {type(det).__name__} is not fitted yet; call {hint} first")


def _feed(det: Any, rows: pd.DataFrame, columns: list[str], hint: str) -> pd.DataFrame:
    """The alarms ``det`` raises on ``rows`` (days after those already fed), as a frame of ``columns``."""
    _check_fitted(det, hint)
    unknown = sorted(set(rows["variable"]) - set(det.h_.index))
    if unknown:
        raise ValueError(f"variable(s) {unknown} were not in the calibration data")
    alarms, _ = det._run(rows, det.h_.to_dict())
    return pd.DataFrame(alarms, columns=columns)
