"""Level shifts in the actuals (:class:`ShiftDetector`), on the values or on a policy residual.

Private module; the public names are re-exported by :mod:`sclm.monitor`.

Why the actuals (measured M-free)
---------------------------------
M follows a level shift within days (:mod:`sclm._drift`), so :class:`ShiftDetector` tests the
cleaned actuals themselves: the latest week against a lagged four-week reference, on
``log(1 + y)`` with the known-future effects (promotion, price) regressed out on the clean
days.  Measured on the scenarios' injected panels (rate 0.02, the bench's answer key; seeds 1
and 2 for choices, seed 0 scored) with the point anomalies replaced by the truth (an oracle
cleaning, so M plays no part): level-shift recall / precision manufacturing 0.93 / 0.90,
logistics 0.78 / 0.83, retail 0.52 / 0.89.  On retail the price and promotion adjustment is
what makes the test usable (without it recall 0.09: price changes, elasticity 1.8, are level
shifts of their own), and demand and sales are found (0.8–1.0) while inventory and shipments,
driven by the replenishment policy, are not (0.0–0.33).  A 56-day reference, a 14-day one or a
lower margin traded precision for recall without reaching 0.9 / 0.9 on retail.

Policy residuals (``regressors``)
---------------------------------
A stock or an inflow set by a replenishment rule moves with the orders that drive it: its own
weekly mean wanders by 14–17 % of a normal day (retail inventory, shipments) where a shift of
half a day must be found.  With ``regressors`` (the node's own input columns that no alarm is
about, e.g. its orders, promotion and price: in a :class:`~sclm.monitor.Monitor` the task's
covariates and known-future columns that are not targets) each series also gets a *residual*
statistic: ``u_t = y_t − ŷ_t``, ``ŷ_t`` a least-squares fit of ``y_t`` on an intercept,
day-of-week dummies, the regressors at lags ``0 … lags`` (observations of that node) and the
``covariates``, over the clean days.  A rule such as ``shipments[t] = orders[t − 2]`` or an
order-up-to policy (the stock is then a decaying sum of past orders) is learnt, and a shift in
the recorded series shows in full in ``u``.  The regressors are never the monitored variables
themselves, so a shift or a spike in one variable cannot move another variable's residual
(regressions on the node's other *targets* leaked: 96 false alarms, :mod:`sclm._drift`).

Per series the statistic with the smaller *relative* spread is used (``mode="auto"``): ``s``
of ``D`` (below) in log units for the log test, ``s / L`` for a linear one, ``L`` the series'
median ``|y|`` on the clean days: both read as a share of a normal day, so the choice is the
statistic in which a shift of a given share stands out most; it is made on the clean days,
never on an answer key.  The residual's ``c`` and ``s``, and the thresholds, come from
*cross-fitted* residuals (``folds`` contiguous blocks, each predicted by the fit on the
others), so that they are out-of-sample like the monitored days'; the monitored residuals use
the fit on all clean days.  Both spreads are floored at ``min_spread`` (2 % of a normal day):
a rule that holds exactly (zero residual spread) would otherwise turn a rounding or a
forecast-cleaned day into an alarm.

Measured M-free (the oracle cleaning above; seeds 1 / 2 for the choices, seed 0 scored)
--------------------------------------------------------------------------------------
Level-shift recall / precision with the policy residuals (regressors: the task's covariates
and known-future columns, lags 0–14; thresholds from 365 training days and the 140
calibration days):

=============  ===========  ===========  =====================================
scenario       seed 1       seed 2       seed 0 (scored)
=============  ===========  ===========  =====================================
manufacturing  1.00 / 1.00  1.00 / 1.00  1.00 / 1.00 (15 shifts, 0 false)
logistics      1.00 / 0.97  1.00 / 0.97  1.00 / 0.94 (23 shifts, 3 false)
retail         1.00 / 1.00  0.95 / 0.98  1.00 / 1.00 (23 shifts, 0 false)
=============  ===========  ===========  =====================================

The same detector on the clean monitored days: 0, 1 and 0 alarms.  The residual is chosen for
every retail inventory and shipments series (relative spread 0.02, the floor, against 0.14–0.17
for the actuals: ``shipments[t] = orders[t − 2]`` exactly, the stock a decaying sum of the
orders), for 4 of 6 demand and sales series (the orders carry the lagged sales), for every
inflow and outflow series of manufacturing and logistics and for 4 of 5 and 4 of 8 of their
stocks; logistics' three false alarms are stocks on the actuals statistic.  Choices on seeds 1
and 2: residuals scored against the clean calibration days only (105 out-of-sample days after
a fit on the training days) put the thresholds too low (precision 0.84–0.85 on logistics,
0.88–0.89 on retail: clean excursions just above ``h``, the same days in both seeds), hence
the cross-fitted year; without the floor an exact rule has a spread of 1e-13 and every
rounding alarms (18 alarms on retail shipments, seed 1); in a first version (no floor, no
cross-fit) 28 lags instead of 14 raised retail's false alarms from 6 and 2 to 8 and 5; a
7-day shortest reference after a restart instead of 14 found a second shift that began 10 days
after the first on one manufacturing series (seed 1 recall 0.90 to 1.00).

In the Monitor loop (``bench/monitor.py``, the full protocol, injection seed 0)
---------------------------------------------------------------------------
The loop feeds the detector the actuals with each day's anomaly alerts replaced by M's
one-step forecast.  M reads quarantined values, so it keeps forecasting the old level and a
shifted series is alerted day after day: cleaning every alert hid the shift from the detector
(``tests/test_monitor_shift.py``).  A run of ``Monitor(shift_run=3)`` alerts in a row on one
side is therefore read as a level, as it is (each day fed two days late).  Level-shift recall
within 7 days / precision (false alarms outside every shift's ``[start, end + 7]``), with the
clean run's alarms over the same 140 days; since the anomaly band became each variable's largest
clean score with 40 % materiality (:mod:`sclm._anomalies`; ``build/bench/monitor_<name>_h1b.json``),
with the earlier band's run in brackets:

=============  ===================================================  =============
scenario       injected run                                         clean run
=============  ===================================================  =============
manufacturing  0.93 / 0.94 (15 shifts; 2 false) [0.93 / 1.00; 0]   0 alarms [0]
logistics      1.00 / 0.90 (23 shifts; 5 false) [1.00 / 0.94; 3]   1 alarm [1]
retail         0.96 / 0.96 (23 shifts; 2 false) [1.00 / 0.92; 4]   0 alarms [2]
=============  ===================================================  =============

Mean delay 3.1, 3.3 and 3.6 days [2.6, 2.9, 3.7].  Fewer point alerts mean fewer values
replaced in the detector's feed and in M's inputs: manufacturing's two false alarms are on
``logistics``, logistics' five are three on inventory and one each on delivery
and shipments; the misses are a manufacturing production shift (6 of 7 found, as before) and a
retail demand shift (4 of 5).  Every retail inventory and shipments shift is found (0.17 and
0.33 with the actuals statistic alone, M-free).  Injection seeds 1 and 2 (the Monitor loop
without updates, whose alerts and alarms are the same): manufacturing 1.00 / 0.95, 1.00 / 0.87
[1.00 / 1.00 both], logistics 1.00 / 0.93, 1.00 / 0.98 [1.00 / 0.97, 1.00 / 0.98], retail
0.95 / 0.90, 0.85 / 0.74 [0.95 / 0.82, 0.85 / 0.73].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Self

import numpy as np
import pandas as pd
from scipy.stats import median_abs_deviation

from sclm._drift import ALARM_COLUMNS, _check_fitted, _feed, _set_thresholds

__all__ = ["MODES", "SHIFT_COLUMNS", "ShiftDetector"]

SHIFT_COLUMNS = ALARM_COLUMNS  # the same alarm record
MODES = ("actuals", "residual")


def _spread(d: np.ndarray) -> tuple[float, float]:
    """Median and ``1.4826 · MAD`` of a statistic (the mean absolute deviation, else 1, when 0)."""
    c = float(np.median(d))
    s = float(median_abs_deviation(d, scale="normal"))
    return c, (s if s > 0 else float(np.mean(np.abs(d - c))) or 1.0)


def _dow(ts: np.ndarray) -> np.ndarray:
    """Day-of-week dummies (Tuesday … Sunday), shape (n, 6)."""
    d = pd.DatetimeIndex(ts).dayofweek.to_numpy()
    return (d[:, None] == np.arange(1, 7)).astype(np.float64)


class ShiftDetector:
    """Two-sample test of the latest ``window`` values of a series against a lagged reference.

    Reads the (cleaned) actuals, not forecast residuals, so that a model that adapts to a new
    level cannot hide it.  Each series (node, variable) is first put on a scale where known
    effects are removed.  *Actuals* statistic: ``u_t = log(1 + y_t)`` (``transform="log1p"``,
    for a series that is never negative in calibration; else ``u_t = y_t``) minus ``x_t · β``,
    where ``x_t`` are the row's ``covariates`` (known-future columns such as a promotion flag
    or a price; a strictly positive, non-binary covariate enters as its log) and ``β`` their
    coefficients in a least-squares fit of ``u`` on an intercept, day-of-week dummies and ``x``
    over the clean days (a covariate constant there is left out).  A price change or a
    promotion — known in advance, and followed by M — then moves no test.  *Residual*
    statistic (with ``regressors``; module docstring): ``u_t = y_t − ŷ_t`` from a fit on the
    node's regressors at lags ``0 … lags``.  With ``u`` the adjusted values in order,

        ``D_t = mean(u_{t−w+1} … u_t) − mean(u_{t−w−g−m+1} … u_{t−w−g})``,
        ``z_t = (D_t − c) / s``,

    ``w = window`` (the recent sample), ``m = reference`` (the reference sample), ``g = gap``
    (days between them), ``c`` and ``s`` the median and ``1.4826 · MAD`` of ``D`` over the clean
    values of that series (so ``z`` is in the statistic's own spread: it includes the
    persistence of the series' shocks, and with whole weeks in both samples a weekly season
    cancels), ``s`` at least ``min_spread`` of a normal day.  An alarm is raised on the first
    day ``|z_t| > h``, estimated onset ``t − w + 1``, direction ``"up"`` if ``z_t > 0``.  The
    series then restarts from the alarm day: its values from that day on (the new level; the
    estimated onset may still hold old values) become the reference, and it is tested again
    once ``min_reference`` of them lie before the recent window (a reference of ``m' < m``
    values, ``z`` divided further by ``sqrt((1/w + 1/m') / (1/w + 1/m))``, the i.i.d. ratio of
    the two spreads), so that the end of a temporary shift is found as a change of its own.

    ``h`` (per variable by default) is calibrated on clean data as in
    :class:`~sclm.monitor.CusumDetector`: ``h_ = max(h_min, margin · max |z|)`` over the clean
    days (cross-fitted for a residual statistic) — never on an answer key.

    Parameters
    ----------
    window, reference, gap : int
        ``w``, ``m``, ``g`` above, in observations (days).
    min_reference : int, optional
        Shortest reference after a restart (above); default ``min(7, reference)``.
    h : float, optional
        Fixed threshold in spreads; ``None`` calibrates it in :meth:`fit`.
    margin, h_min : float
        Calibrated ``h``: factor on the largest clean ``|z|`` and its lower bound.
    per : {"variable", "all"}
        One threshold per variable or one for all series.
    covariates : sequence of str
        Columns of the frames passed to :meth:`fit` / :meth:`update` whose known effect is
        removed first (above); empty: none.
    transform : {"log1p", "none"}
        Scale of the actuals statistic (a shift of half a level is ``log 1.5`` up or ``log 0.5``
        down).
    regressors : sequence of str
        Columns of the frames (one value per node and day, e.g. orders) that a residual
        statistic regresses on, at lags ``0 … lags``; empty: the actuals statistic only.
    lags : int
        Largest lag of the regressors, in observations of the node.
    mode : {"auto", "actuals", "residual"}
        Statistic per series: the one with the smaller relative spread (module docstring), or
        one for all (``"residual"`` needs ``regressors``).
    min_spread : float
        Floor of ``s`` as a share of a normal day (log units for the log test; ``L`` times it
        for a linear one).
    folds : int
        Contiguous blocks of the clean days for the cross-fitted residuals (at least 2).

    Attributes
    ----------
    center_, spread_ : pandas.Series
        ``c`` and ``s`` per (node, variable), on the scale of the statistic in use.
    mode_ : pandas.Series
        ``"actuals"`` or ``"residual"`` per series.
    relative_spread_ : pandas.DataFrame
        ``s`` as a share of a normal day per series and statistic (NaN where not available).
    beta_ : pandas.DataFrame
        Covariate coefficients of the actuals statistic per (node, variable) (0 where a
        covariate was left out).
    level_ : pandas.Series
        ``L``: median ``|y|`` per series over the clean days.
    h_ : pandas.Series
        Threshold per variable.
    clean_max_ : pandas.Series
        Largest clean ``|z|`` per variable.
    """

    def __init__(
        self,
        window: int = 7,
        reference: int = 28,
        gap: int = 0,
        h: float | None = None,
        margin: float = 1.0,
        h_min: float = 3.0,
        per: Literal["variable", "all"] = "variable",
        covariates: Sequence[str] = (),
        transform: Literal["log1p", "none"] = "log1p",
        min_reference: int | None = None,
        regressors: Sequence[str] = (),
        lags: int = 14,
        mode: Literal["auto", "actuals", "residual"] = "auto",
        min_spread: float = 0.02,
        folds: int = 5,
    ) -> None:
        if transform not in ("log1p", "none"):
            raise ValueError(f"transform must be 'log1p' or 'none', got {transform!r}")
        for name, v, lo in (
            ("window", window, 1),
            ("reference", reference, 1),
            ("gap", gap, 0),
            ("lags", lags, 0),
            ("folds", folds, 2),
        ):
            if not isinstance(v, int) or v < lo:
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
        for name, v in (("margin", margin), ("h_min", h_min)):
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if not (np.isfinite(min_spread) and min_spread >= 0):
            raise ValueError(f"min_spread must be a number >= 0, got {min_spread!r}")
        if h is not None and not h > 0:
            raise ValueError(f"h must be positive or None, got {h!r}")
        if per not in ("variable", "all"):
            raise ValueError(f"per must be 'variable' or 'all', got {per!r}")
        if mode not in ("auto", *MODES):
            raise ValueError(f"mode must be 'auto', 'actuals' or 'residual', got {mode!r}")
        if mode == "residual" and not regressors:
            raise ValueError("mode='residual' needs regressors (the columns the policy follows)")
        self.window, self.reference, self.gap = window, reference, gap
        self.h, self.margin, self.h_min, self.per = h, margin, h_min, per
        self.covariates, self.transform = tuple(covariates), transform
        self.regressors, self.lags, self.mode = tuple(regressors), lags, mode
        self.min_spread, self.folds = float(min_spread), folds
        min_reference = min(7, reference) if min_reference is None else min_reference
        if not isinstance(min_reference, int) or not 1 <= min_reference <= reference:
            raise ValueError(f"min_reference must be an integer in [1, reference], got {min_reference!r}")
        self.min_reference = min_reference

    def __repr__(self) -> str:
        return (
            f"ShiftDetector(window={self.window}, reference={self.reference}, gap={self.gap}, h={self.h}, "
            f"margin={self.margin}, h_min={self.h_min}, per={self.per!r}, covariates={self.covariates!r}, "
            f"transform={self.transform!r}, regressors={self.regressors!r}, lags={self.lags}, "
            f"mode={self.mode!r})"
        )

    @property
    def span(self) -> int:
        """Values a series needs before it is tested: ``window + gap + reference``."""
        return self.window + self.gap + self.reference

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns besides ``node, variable, ts, y`` that the frames must carry."""
        return tuple(dict.fromkeys((*self.covariates, *self.regressors)))

    def _check(self, frame: pd.DataFrame) -> pd.DataFrame:
        need = ["node", "variable", "ts", "y", *self.columns]
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise ValueError(f"actuals frame has no column(s) {missing}; it has {list(frame.columns)}")
        if frame.duplicated(["node", "variable", "ts"]).any():
            raise ValueError("duplicated (node, variable, ts) row(s): pass one value per series and day")
        return frame.sort_values(["ts", "node", "variable"], kind="stable")

    def statistic(self, y: np.ndarray) -> np.ndarray:
        """``D_t`` for every ``t`` of one series (NaN for the first ``span − 1`` values).

        Parameters
        ----------
        y : array, shape (n,)

        Returns
        -------
        numpy.ndarray, shape (n,)
        """
        y = np.asarray(y, dtype=np.float64)
        w, g, m = self.window, self.gap, self.reference
        out = np.full(y.shape, np.nan)
        if y.size < self.span:
            return out
        c = np.concatenate([[0.0], np.cumsum(y)])
        t = np.arange(self.span - 1, y.size)
        recent = (c[t + 1] - c[t + 1 - w]) / w
        ref = (c[t + 1 - w - g] - c[t + 1 - w - g - m]) / m
        out[t] = recent - ref
        return out

    # ---- the two statistics ------------------------------------------------------------------------

    def _design(self, frame: pd.DataFrame) -> np.ndarray:
        """Covariates as they enter the adjustment, shape (rows, covariates)."""
        x = frame[list(self.covariates)].to_numpy(np.float64).reshape(len(frame), len(self.covariates))
        return np.where(self._log_cov, np.log(np.where(self._log_cov, np.maximum(x, 1e-12), 1.0)), x)

    def _lagged(self, frame: pd.DataFrame) -> np.ndarray:
        """The regressors of each row's node at lags ``0 … lags``, shape (rows, R·(lags + 1)).

        Appends the frame's node-days to the regressor history (``store_``), so call it once per
        fed frame, in time order; NaN where the history is shorter than the lag.
        """
        n_r, n_l = len(self.regressors), self.lags + 1
        out = np.full((len(frame), n_r * n_l), np.nan)
        if not n_r:
            return out
        nodes = frame["node"].to_numpy()
        days = pd.to_datetime(frame["ts"]).to_numpy()
        x = frame[list(self.regressors)].to_numpy(np.float64)
        rows: dict[tuple, np.ndarray] = {}
        for i in range(len(frame)):
            k = (nodes[i], days[i])
            if k not in rows:
                hist = self.store_.setdefault(nodes[i], [])
                if not hist or days[i] > hist[-1][0]:
                    hist.append((days[i], x[i]))
                p = len(hist) - 1
                if p >= self.lags:
                    rows[k] = np.concatenate([hist[p - j][1] for j in range(n_l)])
                else:
                    rows[k] = np.full(n_r * n_l, np.nan)
            out[i] = rows[k]
        for hist in self.store_.values():
            del hist[: max(0, len(hist) - n_l)]
        return out

    def _residual_design(self, frame: pd.DataFrame, lagged: np.ndarray) -> np.ndarray:
        """Intercept, day-of-week dummies, lagged regressors and covariates, shape (rows, p)."""
        ts = pd.to_datetime(frame["ts"]).to_numpy()
        return np.column_stack([np.ones(len(frame)), _dow(ts), lagged, self._design(frame)])

    def _adjust(self, frame: pd.DataFrame) -> np.ndarray:
        """``u`` of each row (class docstring), by the statistic in use for its series."""
        lagged = self._lagged(frame)
        y = frame["y"].to_numpy(np.float64)
        keys = list(zip(frame["node"], frame["variable"], strict=True))
        logged = np.fromiter((self._logged.get(k, False) for k in keys), bool, len(keys))
        u = np.where(logged, np.log1p(np.maximum(y, 0.0)), y)
        if self.covariates:
            beta = np.stack([self._beta.get(k, np.zeros(len(self.covariates))) for k in keys]) if keys else 0
            u = u - (self._design(frame) * beta).sum(axis=1)
        resid = np.fromiter((self._mode.get(k) == "residual" for k in keys), bool, len(keys))
        if resid.any():
            design = self._residual_design(frame, lagged)
            for i in np.flatnonzero(resid):
                u[i] = y[i] - float(design[i] @ self._rbeta[keys[i]])
        return u

    def _run(
        self, frame: pd.DataFrame, h: dict[str, float] | float, u: np.ndarray | None = None
    ) -> tuple[list[dict], dict[str, float]]:
        f = self._check(frame) if u is None else frame
        nodes, variables = f["node"].to_numpy(), f["variable"].to_numpy()
        y = self._adjust(f) if u is None else u
        days = pd.to_datetime(f["ts"]).to_numpy()
        w, m, span = self.window, self.reference, self.span
        alarms: list[dict] = []
        top: dict[str, float] = {}
        for i in range(len(f)):
            key = (nodes[i], variables[i])
            if key not in self._calib:
                raise ValueError(f"series {key} was not in the calibration data")
            if not np.isfinite(y[i]):
                continue
            hist = self.history_.setdefault(key, [])
            hist.append((days[i], float(y[i])))
            if len(hist) > span:
                del hist[0]
            n = len(hist)
            if n < span and (key not in self._restarted or n < w + self.gap + self.min_reference):
                continue
            vals = np.fromiter((v for _, v in hist), np.float64, n)
            m_eff = n - w - self.gap
            d = vals[n - w :].mean() - vals[:m_eff].mean()
            c, s = self._calib[key]
            z = (d - c) / (s * np.sqrt((1 / w + 1 / m_eff) / (1 / w + 1 / m)))
            top[key[1]] = max(top.get(key[1], 0.0), abs(z))
            limit = h if isinstance(h, float) else h[key[1]]
            if abs(z) > limit:
                alarms.append(
                    {
                        "node": key[0],
                        "variable": key[1],
                        "ts": pd.Timestamp(days[i]),
                        "onset": pd.Timestamp(hist[n - w][0]),
                        "direction": "up" if z > 0 else "down",
                        "statistic": float(z),
                    }
                )
                del hist[: n - 1]  # the new level (from the alarm day on) is the next reference
                self._restarted.add(key)
        return alarms, top

    def _actuals_u(self, key: tuple, grp: pd.DataFrame, yv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The actuals statistic's ``u`` of one clean series and its covariate coefficients."""
        self._logged[key] = self.transform == "log1p" and bool((yv[np.isfinite(yv)] >= 0).all())
        u = np.where(self._logged[key], np.log1p(np.maximum(yv, 0.0)), yv)
        beta = np.zeros(len(self.covariates))
        if self.covariates:
            x = self._design(grp)
            varies = np.nanstd(x, axis=0) > 0
            design = np.column_stack([np.ones(len(u)), _dow(grp["ts"].to_numpy()), x[:, varies]])
            ok = np.isfinite(u) & np.isfinite(design).all(axis=1)
            if varies.any() and ok.sum() > design.shape[1]:
                beta[varies] = np.linalg.lstsq(design[ok], u[ok], rcond=None)[0][7:]
            u = u - (np.nan_to_num(x) * beta).sum(axis=1)
        return u, beta

    def _residual_u(self, grp: pd.DataFrame, yv: np.ndarray, lagged: np.ndarray):
        """Cross-fitted and final residuals of one clean series and the final coefficients
        (``None`` when too few complete rows)."""
        design = self._residual_design(grp, lagged)
        ok = np.flatnonzero(np.isfinite(yv) & np.isfinite(design).all(axis=1))
        p = design.shape[1]
        if ok.size * (self.folds - 1) / self.folds < 2 * p or ok.size < self.span + 2:
            return None
        beta = np.linalg.lstsq(design[ok], yv[ok], rcond=None)[0]
        final = np.full(yv.shape, np.nan)
        final[ok] = yv[ok] - design[ok] @ beta
        cross = np.full(yv.shape, np.nan)
        for block in np.array_split(ok, self.folds):
            rest = np.setdiff1d(ok, block, assume_unique=True)
            b = np.linalg.lstsq(design[rest], yv[rest], rcond=None)[0]
            cross[block] = yv[block] - design[block] @ b
        return cross, final, beta

    # ---- API --------------------------------------------------------------------------------------

    def fit(self, clean: pd.DataFrame) -> Self:
        """Learn the statistic, ``c``, ``s`` per series and calibrate ``h`` on clean actuals.

        Parameters
        ----------
        clean : pandas.DataFrame
            ``node, variable, ts, y`` (and the :attr:`columns`): one value per series and day
            over a stretch with no known anomaly, at least ``span + 1`` days per series (a
            residual statistic needs more: twice its coefficients per fold).

        Returns
        -------
        ShiftDetector
            ``self``, each series' last ``span`` values kept as history for the days after ``clean``.
        """
        f = self._check(clean)
        if f.empty:
            raise ValueError("no clean actuals to fit the shift detector")
        x_all = f[list(self.covariates)].to_numpy(np.float64).reshape(len(f), len(self.covariates))
        binary = np.isin(x_all, (0.0, 1.0)).all(axis=0)
        self._log_cov = (x_all > 0).all(axis=0) & ~binary
        self._logged, self._beta, self._rbeta, self._mode, self.store_ = {}, {}, {}, {}, {}
        lagged = self._lagged(f)
        u_cal, u_fin = np.full(len(f), np.nan), np.full(len(f), np.nan)
        calib, rows, betas, rel = {}, [], [], []
        positions = pd.Series(np.arange(len(f))).groupby([f["node"].to_numpy(), f["variable"].to_numpy()])
        for key, pos in sorted(positions.indices.items()):
            grp = f.iloc[pos]
            yv = grp["y"].to_numpy(np.float64)
            level = float(np.nanmedian(np.abs(yv))) if np.isfinite(yv).any() else 0.0
            level = level if level > 0 else 1.0
            u, beta = self._actuals_u(key, grp, yv)
            cands = {"actuals": (u, u, 1.0 if self._logged[key] else level)}
            if self.regressors and self.mode != "actuals":
                res = self._residual_u(grp, yv, lagged[pos])
                if res is not None:
                    cands["residual"] = (res[0], res[1], level)
                    self._rbeta[key] = res[2]
                elif self.mode == "residual":
                    raise ValueError(f"series {key} has too few complete clean rows for a residual statistic")
            stats = {}
            for name, (uc, _, scale) in cands.items():
                d = self.statistic(uc[np.isfinite(uc)])
                d = d[np.isfinite(d)]
                if d.size < 2:
                    continue
                c, s = _spread(d)
                stats[name] = (c, max(s, self.min_spread * scale), scale)
            if not stats:
                raise ValueError(
                    f"series {key} has {len(grp)} clean value(s); the shift detector needs at least "
                    f"{self.span + 1} (window + gap + reference + 1)"
                )
            ranked = {k: v[1] / v[2] for k, v in stats.items()}
            mode = self.mode if self.mode in stats else min(ranked, key=ranked.get)
            self._mode[key] = mode
            u_cal[pos], u_fin[pos] = cands[mode][0], cands[mode][1]
            c, s, _ = stats[mode]
            calib[key] = (c, s)
            self._beta[key] = beta
            betas.append(beta)
            rows.append((*key, c, s, mode, level))
            rel.append([ranked.get(k, np.nan) for k in MODES])
        self._calib = calib
        idx = pd.MultiIndex.from_tuples([r[:2] for r in rows], names=["node", "variable"])
        self.center_ = pd.Series([r[2] for r in rows], index=idx, name="center")
        self.spread_ = pd.Series([r[3] for r in rows], index=idx, name="spread")
        self.mode_ = pd.Series([r[4] for r in rows], index=idx, name="mode")
        self.level_ = pd.Series([r[5] for r in rows], index=idx, name="level")
        self.relative_spread_ = pd.DataFrame(rel, index=idx, columns=list(MODES))
        self.beta_ = pd.DataFrame(
            np.reshape(betas, (len(rows), len(self.covariates))), index=idx, columns=list(self.covariates)
        )
        self.history_, self._restarted = {}, set()
        _set_thresholds(self, f, u=u_cal)  # the cross-fitted residuals: out of sample
        self.history_, self._restarted = {}, set()
        self._run(f, np.inf, u=u_fin)  # the monitored scale's last values as the history
        self._history_at_fit = {k: list(v) for k, v in self.history_.items()}
        self._store_at_fit = {k: list(v) for k, v in self.store_.items()}
        return self

    def reset(self) -> Self:
        """Back to the state right after :meth:`fit` (the calibration's last values as history)."""
        _check_fitted(self, "fit(clean_actuals)")
        self.history_ = {k: list(v) for k, v in self._history_at_fit.items()}
        self.store_ = {k: list(v) for k, v in self._store_at_fit.items()}
        self._restarted = set()
        return self

    def update(self, actuals: pd.DataFrame) -> pd.DataFrame:
        """Feed new days' actuals (online; the history carries over between calls).

        Parameters
        ----------
        actuals : pandas.DataFrame
            ``node, variable, ts, y`` (and the :attr:`columns`) for days after those already
            fed (cleaned: a value flagged as a spike or a drop replaced, e.g. by its forecast).

        Returns
        -------
        pandas.DataFrame
            Alarms: ``node, variable, ts`` (alarm day), ``onset`` (``t − window + 1``),
            ``direction``, ``statistic`` (``z_t``).
        """
        return _feed(self, actuals, SHIFT_COLUMNS, "fit(clean_actuals)")

    def detect(self, actuals: pd.DataFrame) -> pd.DataFrame:
        """:meth:`reset` then :meth:`update`: the alarms of a whole stretch that follows the fit."""
        self.reset()
        return self.update(actuals)
