"""Drift detection on forecast residuals: a two-sided CUSUM per series.

Private module; the public names are re-exported by :mod:`sclm.monitor`.

Method (Page 1954, in the tabular form of Montgomery's *Statistical Quality Control*)
-------------------------------------------------------------------------------------
Each series (node, variable) turns its one-step-ahead residuals ``r_t = y_t − mean_t`` into
standardised residuals with the centre and spread learnt on clean calibration data,

    ``z_t = clip((r_t − c) / σ, −b, b)``,   ``c`` = median, ``σ`` = 1.4826 · MAD of ``r``,

and runs two cumulative sums

    ``S⁺_t = max(0, S⁺_{t−1} + z_t − k)``,   ``S⁻_t = max(0, S⁻_{t−1} − z_t − k)``.

An alarm is raised on the first day ``S⁺`` or ``S⁻`` exceeds ``h``; its estimated onset is the
day after the sum was last 0 (the start of the excursion), and both sums of that series restart
at 0.  ``k`` (default 1) tunes the detector to shifts of about ``2k = 2`` spreads; clipping
at ``b`` (a Huber-type CUSUM) stops one outlier — a spike, already an alert of its own — from
raising a drift alarm alone: one day adds at most ``b − k``.

Threshold ``h``, calibrated on clean data, never on an answer key: :meth:`CusumDetector.fit`
runs the detector over the clean calibration residuals of every series and sets, per variable
(``per="variable"``, default) or for all series, ``h_ = max(h_min, margin · largest sum
reached)`` — the lowest threshold that would have raised no alarm on any series of that
variable in the clean data (times a safety ``margin``).  With a calibration stretch as long as
the monitored one, a clean series then alarms with a probability of roughly
``1/(n_series + 1)`` per stretch if its residuals are exchangeable with its peers'.  One-step
residuals are autocorrelated (a stock's errors persist), which is why ``h`` comes from the
data and not from the i.i.d. average-run-length tables.
"""

from __future__ import annotations

from typing import Literal, Self

import numpy as np
import pandas as pd

__all__ = ["CusumDetector"]

ALARM_COLUMNS = ["node", "variable", "ts", "onset", "direction", "statistic"]


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

    Attributes
    ----------
    center_, spread_ : pandas.Series
        ``c`` and ``σ`` per (node, variable), in the series' units.
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
        h_min: float = 4.0,
        per: Literal["variable", "all"] = "variable",
    ) -> None:
        for name, v in (("k", k), ("clip", clip), ("margin", margin), ("h_min", h_min)):
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if h is not None and not h > 0:
            raise ValueError(f"h must be positive or None, got {h!r}")
        if per not in ("variable", "all"):
            raise ValueError(f"per must be 'variable' or 'all', got {per!r}")
        self.k, self.h, self.clip, self.margin, self.h_min, self.per = k, h, clip, margin, h_min, per

    def __repr__(self) -> str:
        return (
            f"CusumDetector(k={self.k}, h={self.h}, clip={self.clip}, margin={self.margin}, per={self.per!r})"
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

    def standardise(self, frame: pd.DataFrame) -> np.ndarray:
        """Clipped standardised residuals ``z`` of rows ``node, variable, y, mean`` (shape (n,))."""
        if not hasattr(self, "center_"):
            raise ValueError("this CusumDetector is not fitted yet; call fit(clean_residuals) first")
        idx = pd.MultiIndex.from_arrays([frame["node"].to_numpy(), frame["variable"].to_numpy()])
        pos = self.center_.index.get_indexer(idx)
        if (pos < 0).any():
            raise ValueError(f"series {sorted(set(idx[pos < 0]))[:5]} were not in the calibration data")
        r = frame["y"].to_numpy(np.float64) - frame["mean"].to_numpy(np.float64)
        z = (r - self.center_.to_numpy()[pos]) / self.spread_.to_numpy()[pos]
        return np.clip(z, -self.clip, self.clip)

    def _run(self, frame: pd.DataFrame, h: dict[str, float] | float) -> tuple[list[dict], dict[str, float]]:
        f = self._check(frame)
        z = self.standardise(f)
        alarms: list[dict] = []
        top: dict[str, float] = {}
        nodes, variables = f["node"].to_numpy(), f["variable"].to_numpy()
        days = pd.to_datetime(f["ts"]).to_numpy()
        for i in range(len(f)):
            key = (nodes[i], variables[i])
            sp, sn, zero_p, zero_n = self.state_.get(key, (0.0, 0.0, None, None))
            sp = max(0.0, sp + z[i] - self.k)
            sn = max(0.0, sn - z[i] - self.k)
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
            ``self``, with the state reset (ready to monitor the days after ``clean``).
        """
        f = self._check(clean)
        if f.empty:
            raise ValueError("no clean residuals to fit the drift detector")
        r = (f["y"] - f["mean"]).astype("float64")
        keys = [f["node"].to_numpy(), f["variable"].to_numpy()]
        center = r.groupby(keys).median()
        mad = (r - center.reindex(pd.MultiIndex.from_arrays(keys)).to_numpy()).abs().groupby(keys).median()
        spread = 1.4826 * mad
        mean_abs = r.abs().groupby(keys).mean()
        spread = spread.where(spread > 0, mean_abs).where(lambda s: s > 0, 1.0)
        self.center_, self.spread_ = center.rename("center"), spread.rename("spread")
        self.state_: dict = {}
        _, top = self._run(f, np.inf)
        self.clean_max_ = pd.Series(top, name="clean_max").sort_index()
        if self.h is not None:
            h = pd.Series(float(self.h), index=self.clean_max_.index)
        elif self.per == "all":
            h = pd.Series(
                max(self.h_min, self.margin * float(self.clean_max_.max())), index=self.clean_max_.index
            )
        else:
            h = np.maximum(self.h_min, self.margin * self.clean_max_)
        self.h_ = h.rename("h")
        self.reset()
        return self

    def reset(self) -> Self:
        """Restart every series' sums at 0 (the state before the first monitored day)."""
        self.state_ = {}
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
        if not hasattr(self, "h_"):
            raise ValueError("this CusumDetector is not fitted yet; call fit(clean_residuals) first")
        unknown = sorted(set(resolved["variable"]) - set(self.h_.index))
        if unknown:
            raise ValueError(f"variable(s) {unknown} were not in the calibration data")
        alarms, _ = self._run(resolved, self.h_.to_dict())
        return pd.DataFrame(alarms, columns=ALARM_COLUMNS)

    def detect(self, resolved: pd.DataFrame) -> pd.DataFrame:
        """:meth:`reset` then :meth:`update`: the alarms of a whole stretch, from fresh sums."""
        self.reset()
        return self.update(resolved)
