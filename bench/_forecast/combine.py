"""How ``bench/forecast.py`` combines forecasts: the seed ensemble of one row, the hybrid rows (M
with baselines) and M's conformally calibrated interval."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .rows import QCOLS

if TYPE_CHECKING:
    from sclm.pipeline import TrainedForecaster

CONFORMAL = "M (conformal)"  # --conformal: M's median, its 80 % interval calibrated by CQR


def combine_members(forecasts: list[np.ndarray]) -> np.ndarray:
    """Seed ensemble: the median over members of each column (mean, q0.1 ... q0.9), cell by cell.

    ``forecasts``: K arrays (rows × columns) of the same cells.  The median of the members'
    medians is the ensemble's point; a median over members is robust to one member that
    trained badly (with K = 2 it is the mean).  Columns stay sorted: a cell's members are each
    sorted across quantiles, and the median preserves that order.
    """
    return np.median(np.stack(forecasts), axis=0)


def hybrid_forecast(fcs: dict[str, pd.DataFrame], members: tuple[str, ...]) -> pd.DataFrame:
    """A hybrid row: the equal-weight mean of ``members``' forecasts, column by column (``mean``
    and every quantile: Vincentisation, so the quantiles stay sorted), cell by cell.

    ``fcs``: label -> long forecast ``unique_id, ds, mean, q0.1..q0.9`` of one origin (the
    baselines' and M's, ``bench/forecast.py: predict_m``).  Every member must forecast the same cells; a cell
    one member lacks raises rather than being scored on fewer members.
    """
    missing = [m for m in members if m not in fcs]
    if missing:
        raise ValueError(f"hybrid needs the rows {list(members)}; not run: {missing}")
    cols = ["mean", *QCOLS]
    key = ["unique_id", "ds"]
    frames = [fcs[m].set_index(key)[cols].sort_index() for m in members]
    for m, f in zip(members[1:], frames[1:], strict=True):
        if not f.index.equals(frames[0].index):
            raise ValueError(f"hybrid: {m!r} forecasts other cells than {members[0]!r}")
    mean = sum(f.to_numpy("float64") for f in frames) / len(frames)
    return pd.DataFrame(mean, index=frames[0].index, columns=cols).reset_index()


def conformal_interval(
    members: list[TrainedForecaster], fc: pd.DataFrame, origin: pd.Timestamp, stride: int, device: str
) -> pd.DataFrame:
    """``fc`` (the members' combined forecast at ``origin``: ``node, variable, ts, mean,
    q0.1..q0.9``) with its 80 % interval calibrated on the members' own validation windows.

    Conformalised quantile regression (:class:`sclm.monitor.ConformalCalibrator`, ``score="cqr"``,
    one threshold per target and horizon step, scores divided by each series' validation MAE):
    the scores come from :func:`sclm.pipeline.validation_forecasts`, whose forecast days all lie
    before ``origin``.  ``q0.1`` and ``q0.9`` become the calibrated bounds (floored at 0 for
    non-negative targets); the inner quantiles are clipped into them, so the columns stay
    sorted and the median is unchanged whenever it lies inside the interval.
    """
    from sclm.monitor import ConformalCalibrator
    from sclm.pipeline import validation_forecasts

    val = validation_forecasts(members, window_stride=stride, device=device)
    nonneg = all(members[0].model.config.nonneg or (False,))
    cal = ConformalCalibrator(alpha=0.2, score="cqr", floor=0.0 if nonneg else None).fit(val)
    out = cal.transform(fc.assign(origin=origin))
    fc = fc.copy()
    lo, hi = out["lo"].to_numpy(), out["hi"].to_numpy()
    inner = [c for c in QCOLS if c not in ("q0.1", "q0.9")]
    fc[inner] = np.clip(fc[inner].to_numpy(), lo[:, None], hi[:, None])
    fc["q0.1"], fc["q0.9"] = lo, hi
    return fc
