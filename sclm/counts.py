"""Count-valued forecasts: whole-number quantiles for series that only ever take whole numbers.

Sales in units, orders, arrivals and stock counts are whole numbers.  The absolute error of a
whole-number outcome ``y`` is linear in the forecast ``f`` between two whole numbers ``n`` and
``n + 1`` (``E|y - f| = (1 - δ)·E|y - n| + δ·E|y - n - 1|`` at ``f = n + δ``), so the point that
minimises the expected absolute error (MAE, MASE) is a whole number: the median of a count
distribution, and likewise every τ-quantile of it.  A smooth q0.5 between two counts lies on
the chord between their losses and is never better than the better of them; on low counts (a
series whose typical day sells 2 units) that chord is a large share of the error.

:func:`round_counts` maps forecasts to the nearest whole number (half up, a monotone map, so
sorted quantiles stay sorted); :func:`count_series` tells which series of a long frame are
counts (every observed value up to the origin a whole number, so the test reads no later day);
:func:`count_forecast` rounds the forecast columns of those series only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["count_forecast", "count_series", "is_count", "round_counts"]


def is_count(values: object, *, atol: float = 1e-9) -> bool:
    """True when every finite value is a whole number (within ``atol``) and at least one exists.

    ``values``: any array-like of numbers (NaN and inf are ignored: a gap is no evidence either way).
    """
    a = np.asarray(values, dtype="float64").ravel()
    a = a[np.isfinite(a)]
    return bool(a.size) and bool(np.all(np.abs(a - np.round(a)) <= atol))


def round_counts(values: object) -> np.ndarray:
    """The nearest whole number of each value, halves rounded up (``floor(x + 0.5)``), as float64.

    Monotone non-decreasing, so quantiles sorted along an axis stay sorted; NaN stays NaN.  (NumPy's
    ``rint`` rounds halves to the even number, which would send 2.5 down and 3.5 up.)
    """
    return np.floor(np.asarray(values, dtype="float64") + 0.5)


def count_series(history: pd.DataFrame, *, id_col: str = "unique_id", target_col: str = "y") -> pd.Series:
    """Per series of a long frame: are its observed values all whole numbers (:func:`is_count`)?

    ``history``: the rows up to the forecast origin only (the caller cuts it), columns ``id_col``
    and ``target_col``.  Returns a bool Series indexed by series id.
    """
    missing = [c for c in (id_col, target_col) if c not in history.columns]
    if missing:
        raise ValueError(f"history lacks column(s) {missing}")
    return history.groupby(id_col, sort=True)[target_col].agg(is_count).astype(bool)


def count_forecast(
    forecast: pd.DataFrame,
    history: pd.DataFrame,
    columns: Sequence[str],
    *,
    id_col: str = "unique_id",
    target_col: str = "y",
) -> pd.DataFrame:
    """``forecast`` with ``columns`` rounded (:func:`round_counts`) on the rows of count series.

    Parameters
    ----------
    forecast : DataFrame
        Long forecasts, one row per series and day, with ``id_col`` and the numeric ``columns``
        (e.g. ``mean``, ``q0.1`` .. ``q0.9``), in the target's own units.
    history : DataFrame
        The observed values up to the forecast origin (``id_col``, ``target_col``): a series is
        a count series when all of them are whole numbers.  A series absent from it is left as is.
    columns : sequence of str
        The forecast columns to round.

    Returns
    -------
    DataFrame
        A copy; rows of other series unchanged.
    """
    missing = [c for c in (id_col, *columns) if c not in forecast.columns]
    if missing:
        raise ValueError(f"forecast lacks column(s) {missing}")
    counts = count_series(history, id_col=id_col, target_col=target_col)
    rows = forecast[id_col].isin(counts.index[counts.to_numpy()]).to_numpy(bool)
    out = forecast.copy()
    cols = list(columns)
    if rows.any():
        out.loc[rows, cols] = round_counts(out.loc[rows, cols].to_numpy("float64"))
    return out
