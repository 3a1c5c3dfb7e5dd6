"""Forecast accuracy metrics: point errors, scaled errors, quantile losses and interval coverage.

Every function takes numpy arrays (or anything :func:`numpy.asarray` accepts) and returns a
plain Python ``float`` (:func:`relative_mase` may also return a count).  Nothing mutates its
inputs.  Shapes must match exactly (no broadcasting): a mismatch raises :class:`ValueError`
naming both shapes, so a forecast of the wrong horizon cannot be scored silently.

Conventions
-----------
* ``mask`` (optional, boolean, same shape as ``y_true``) selects the cells that are scored,
  e.g. the days a store was open; ``False`` cells are ignored entirely.  An empty selection
  scores ``nan``.
* NaN in a scored cell propagates to the result (``nan``): clean or mask it first.
* The scaled and relative metrics follow the protocol of Chronos (Ansari et al. 2024) and
  fev-bench: MASE per series with the in-sample seasonal-naive scale, then a geometric mean over
  series of model MASE / seasonal-naive MASE; WQL as in GluonTS (mean over quantile levels of
  ``2·Σ pinball / Σ|y|``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sclm.documents import ner_scores  # seqeval entity scores (kept with the text code)

__all__ = [
    "coverage",
    "mae",
    "mase",
    "ner_scores",
    "pinball_loss",
    "relative_mase",
    "rmse",
    "seasonal_naive_scale",
    "wql",
]


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _arr(x: object, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    return a


def _same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: {name_a} has shape {a.shape} but {name_b} has shape {b.shape}")


def _mask(mask: object | None, shape: tuple[int, ...]) -> np.ndarray | None:
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.dtype != np.bool_:
        raise ValueError(f"mask must be a boolean array, got dtype {m.dtype}")
    if m.shape != shape:
        raise ValueError(f"shape mismatch: mask has shape {m.shape} but y_true has shape {shape}")
    return m


def _select(values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    return values.ravel() if mask is None else values[mask]


def _quantile_levels(quantiles: object, n: int | None = None) -> np.ndarray:
    q = np.atleast_1d(np.asarray(quantiles, dtype=np.float64))
    if q.ndim != 1:
        raise ValueError(f"quantiles must be a scalar or a 1-D sequence, got shape {q.shape}")
    bad = q[~((q > 0) & (q < 1))]
    if bad.size:
        raise ValueError(f"quantile levels must lie strictly inside (0, 1); got {bad.tolist()}")
    if n is not None and q.size != n:
        raise ValueError(
            f"shape mismatch: {q.size} quantile levels but quantile_preds has {n} on its last axis"
        )
    return q


# --------------------------------------------------------------------------------------------------
# Point errors
# --------------------------------------------------------------------------------------------------


def mae(y_true: np.ndarray, y_pred: np.ndarray, *, mask: np.ndarray | None = None) -> float:
    """Mean absolute error.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (...)
        Observed and forecast values, any equal shape (e.g. ``(H,)`` or ``(N, H, C)``).
    mask : array_like of bool, shape (...), optional
        Same shape as ``y_true``; only ``True`` cells are scored.

    Returns
    -------
    float
        ``mean |y_true - y_pred|`` over the scored cells; ``nan`` if none is scored.
    """
    yt, yp = _arr(y_true, "y_true"), _arr(y_pred, "y_pred")
    _same_shape(yt, yp, "y_true", "y_pred")
    err = _select(np.abs(yt - yp), _mask(mask, yt.shape))
    return float(err.mean()) if err.size else float("nan")


def rmse(y_true: np.ndarray, y_pred: np.ndarray, *, mask: np.ndarray | None = None) -> float:
    """Root mean squared error.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (...)
        Observed and forecast values, any equal shape.
    mask : array_like of bool, shape (...), optional
        Same shape as ``y_true``; only ``True`` cells are scored.

    Returns
    -------
    float
        ``sqrt(mean (y_true - y_pred)²)`` over the scored cells; ``nan`` if none is scored.
    """
    yt, yp = _arr(y_true, "y_true"), _arr(y_pred, "y_pred")
    _same_shape(yt, yp, "y_true", "y_pred")
    err = _select((yt - yp) ** 2, _mask(mask, yt.shape))
    return float(np.sqrt(err.mean())) if err.size else float("nan")


# --------------------------------------------------------------------------------------------------
# Scaled errors
# --------------------------------------------------------------------------------------------------


def seasonal_naive_scale(y_train: np.ndarray, *, m: int = 7) -> float:
    """In-sample MAE of the seasonal-naive forecast ``ŷ[t] = y[t - m]`` on the training part.

    Parameters
    ----------
    y_train : array_like, shape (L,)
        One series up to the forecast origin; needs ``L > m``.
    m : int, default 7
        Season length (7: weekly seasonality of daily data).

    Returns
    -------
    float
        ``mean_{t=m..L-1} |y[t] - y[t-m]|`` (can be 0 for a series constant over each season).
    """
    if not isinstance(m, int | np.integer) or m < 1:
        raise ValueError(f"season m must be a positive integer, got {m!r}")
    y = _arr(y_train, "y_train")
    if y.ndim != 1:
        raise ValueError(f"y_train must be 1-D (one series), got shape {y.shape}")
    if y.size <= m:
        raise ValueError(f"y_train needs more than m={m} values for a seasonal-naive scale, got {y.size}")
    return float(np.abs(y[m:] - y[:-m]).mean())


def mase(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_train: np.ndarray,
    *,
    m: int = 7,
    mask: np.ndarray | None = None,
) -> float:
    """Mean absolute scaled error of one series (Hyndman & Koehler 2006).

    Parameters
    ----------
    y_true, y_pred : array_like, shape (H,) or any equal shape
        Observed and forecast values over the horizon (one series; targets of several channels
        may be stacked, they share the scale of ``y_train``).
    y_train : array_like, shape (L,)
        The same series up to the forecast origin (the training part of that origin), ``L > m``.
    m : int, default 7
        Season of the seasonal-naive scale.
    mask : array_like of bool, optional
        Same shape as ``y_true``: forecast cells to score (e.g. open days).  The scale always
        uses every training day.

    Returns
    -------
    float
        ``mae(y_true, y_pred, mask) / mean_{t>=m} |y_train[t] - y_train[t-m]|``.
        **nan when the scale is 0** (a series that repeats exactly every ``m`` days, e.g. all
        zeros): MASE is undefined there and callers drop such series (as
        :func:`relative_mase` does).  Also nan when the mask selects no cell.
    """
    scale = seasonal_naive_scale(y_train, m=m)
    err = mae(y_true, y_pred, mask=mask)
    if scale == 0.0 or not np.isfinite(scale):
        return float("nan")
    return err / scale


def relative_mase(
    model_mase: Sequence[float] | np.ndarray,
    naive_mase: Sequence[float] | np.ndarray,
    *,
    return_n: bool = False,
) -> float | tuple[float, int]:
    """Geometric mean over series of model MASE / seasonal-naive MASE (Chronos, fev-bench).

    Parameters
    ----------
    model_mase, naive_mase : array_like, shape (S,)
        Per-series MASE of the model and of the seasonal-naive forecast, same series order.
    return_n : bool, default False
        Also return the number of series used.

    Returns
    -------
    float
        ``exp(mean_s log(model_mase[s] / naive_mase[s]))`` over the usable series: those where
        both values are finite and ``naive_mase > 0``.  Below 1 the model beats seasonal naive.
        ``nan`` when no series is usable; 0 if the model is exact on some usable series.
    int
        Number of series used (only when ``return_n=True``).

    Raises
    ------
    ValueError
        Shapes differ, or a MASE is negative.
    """
    mm = np.atleast_1d(_arr(model_mase, "model_mase"))
    nm = np.atleast_1d(_arr(naive_mase, "naive_mase"))
    _same_shape(mm, nm, "model_mase", "naive_mase")
    if (mm < 0).any() or (nm < 0).any():
        raise ValueError("MASE values cannot be negative")
    ok = np.isfinite(mm) & np.isfinite(nm) & (nm > 0)
    n = int(ok.sum())
    if n == 0:
        value = float("nan")
    else:
        with np.errstate(divide="ignore"):
            value = float(np.exp(np.mean(np.log(mm[ok] / nm[ok]))))
    return (value, n) if return_n else value


# --------------------------------------------------------------------------------------------------
# Quantile losses and intervals
# --------------------------------------------------------------------------------------------------


def pinball_loss(y: np.ndarray, q_pred: np.ndarray, q: float, *, mask: np.ndarray | None = None) -> float:
    """Mean pinball (quantile) loss of one quantile level.

    Parameters
    ----------
    y, q_pred : array_like, shape (...)
        Observed values and the forecast ``q``-quantile, equal shapes.
    q : float
        Quantile level in (0, 1).
    mask : array_like of bool, optional
        Same shape as ``y``; only ``True`` cells are scored.

    Returns
    -------
    float
        ``mean max(q·(y - ŷ), (q - 1)·(y - ŷ))``: under-forecasts cost ``q`` per unit,
        over-forecasts ``1 - q``.  ``nan`` if no cell is scored.
    """
    if np.ndim(q) != 0:
        raise ValueError(f"q must be a single quantile level, got {q!r}")
    qv = float(_quantile_levels(q)[0])
    yt, yp = _arr(y, "y"), _arr(q_pred, "q_pred")
    _same_shape(yt, yp, "y", "q_pred")
    diff = yt - yp
    loss = _select(np.maximum(qv * diff, (qv - 1.0) * diff), _mask(mask, yt.shape))
    return float(loss.mean()) if loss.size else float("nan")


def wql(
    y_true: np.ndarray,
    quantile_preds: np.ndarray,
    quantiles: Sequence[float] | np.ndarray,
    *,
    mask: np.ndarray | None = None,
) -> float:
    """Weighted quantile loss (GluonTS / Chronos definition).

    Parameters
    ----------
    y_true : array_like, shape (...)
        Observed values, e.g. ``(H,)`` or ``(N, H, C)``.
    quantile_preds : array_like, shape (..., Q)
        Forecast quantiles: ``y_true``'s shape plus a last axis of length Q.
    quantiles : sequence of float, shape (Q,)
        The quantile levels of the last axis, each strictly inside (0, 1).
    mask : array_like of bool, shape (...), optional
        Same shape as ``y_true``; only ``True`` cells enter both sums.

    Returns
    -------
    float
        ``mean_q [ 2 · Σ_cells pinball_q(y, ŷ_q) / Σ_cells |y| ]``; 0 for a perfect forecast,
        ``nan`` when ``Σ|y| = 0`` or no cell is scored.
    """
    yt = _arr(y_true, "y_true")
    qp = _arr(quantile_preds, "quantile_preds")
    if qp.shape[:-1] != yt.shape or qp.ndim != yt.ndim + 1:
        raise ValueError(
            f"shape mismatch: quantile_preds has shape {qp.shape}, expected y_true's shape {yt.shape} "
            "plus a last axis of quantile levels"
        )
    q = _quantile_levels(quantiles, qp.shape[-1])
    m = _mask(mask, yt.shape)
    y_sel = _select(yt, m)
    p_sel = qp.reshape(-1, q.size) if m is None else qp[m]
    denom = np.abs(y_sel).sum()
    if y_sel.size == 0 or denom == 0:
        return float("nan")
    diff = y_sel[:, None] - p_sel
    pin = np.maximum(q * diff, (q - 1.0) * diff).sum(axis=0)
    return float(np.mean(2.0 * pin / denom))


def coverage(
    y_true: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    mask: np.ndarray | None = None,
) -> float:
    """Share of observations inside a forecast interval (bounds included).

    Parameters
    ----------
    y_true, lower, upper : array_like, shape (...)
        Observations and interval bounds, equal shapes.  For the 80 % interval pass the
        0.1 and 0.9 quantile forecasts.
    mask : array_like of bool, optional
        Same shape as ``y_true``; only ``True`` cells are counted.

    Returns
    -------
    float
        ``mean(lower <= y_true <= upper)`` in [0, 1] (a crossed interval, lower > upper, covers
        nothing); ``nan`` if no cell is counted.
    """
    yt, lo, up = _arr(y_true, "y_true"), _arr(lower, "lower"), _arr(upper, "upper")
    _same_shape(yt, lo, "y_true", "lower")
    _same_shape(yt, up, "y_true", "upper")
    inside = _select((lo <= yt) & (yt <= up), _mask(mask, yt.shape))
    return float(inside.mean()) if inside.size else float("nan")
