"""Forecast accuracy metrics: point errors, scaled errors, quantile losses and interval coverage.

The array functions take numpy arrays (or anything :func:`numpy.asarray` accepts) and return a
plain Python ``float`` (:func:`relative_mase` may also return a count).  Nothing mutates its
inputs.  Shapes must match exactly (no broadcasting): a mismatch raises :class:`ValueError`
naming both shapes, so a forecast of the wrong horizon cannot be scored silently.
:func:`mase_per_series` and :func:`relative_mase_table` score whole backtests (long frames of
many series and origins) with :mod:`utilsforecast.losses` underneath; every relative MASE in the
package (``sclm.pipeline.score_forecasts``, ``sclm.monitor.score_relmase``, ``bench/forecast.py``,
``bench/forecast_baselines.py``) is computed by them.

Conventions
-----------
* ``mask`` (optional, boolean, same shape as ``y_true``) selects the cells that are scored,
  e.g. the days a store was open; ``False`` cells are ignored entirely.  An empty selection
  scores ``nan``.
* NaN in a scored cell propagates to the result (``nan``) in the array functions: clean or mask
  it first.  The frame functions refuse NaN forecasts (a model scored on fewer cells than
  another would not be comparable).
* ``season_length`` (statsforecast's name) is the seasonal period of the seasonal-naive scale,
  7 for daily data with a weekly cycle.  The scale of one series at one origin is the mean of
  ``|y[t] - y[t - season_length]|`` over its history up to the origin, pairs with a missing
  value skipped (as :func:`utilsforecast.losses.mase` does).
* The scaled and relative metrics follow the protocol of Chronos (Ansari et al. 2024) and
  fev-bench: MASE per series with the in-sample seasonal-naive scale, then a geometric mean over
  series of model MASE / seasonal-naive MASE; WQL as in GluonTS (mean over quantile levels of
  ``2·Σ pinball / Σ|y|``).

Relative MASE: the edge cases, one rule for every model
-------------------------------------------------------
A series' MASE is the mean over its usable origins of MAE(horizon) / scale, and its relative
error is ``r = model MASE / reference MASE`` (the reference is seasonal naive).

1. **Zero scale.**  An origin at which a series' seasonal-naive scale is 0 or undefined (a
   history that repeats exactly every season, e.g. all zeros, or one shorter than a season)
   leaves MASE undefined for *every* model: that (series, origin) is left out for all models
   alike.  A series with no usable origin is *excluded* (counted in ``excluded``).  Which series
   are excluded depends on the data only, never on a model's forecast.
2. **A zero error.**  ``r`` is clipped to :data:`RELATIVE_ERROR_BOUNDS` = ``[1e-3, 5]`` before
   the geometric mean, the defaults of fev's leaderboard (``min_relative_error``,
   ``max_relative_error``): a model exact on a series (``r = 0``) counts as ``1e-3`` instead of
   sending the geometric mean to 0, and one series cannot move it by more than a factor
   ``5^(1/S)`` either way.
3. **A perfect reference.**  When seasonal naive is exact on a series (reference MASE 0, scale
   > 0) the series stays in: a model with any error gets the upper bound 5, a model exact too
   gets ``r = 1`` (a tie).
4. **A missing forecast** of a model on a cell where the reference is scored is an error, not a
   dropped series: every model is scored on the same series.

``clipped`` counts the series of a model whose ``r`` lay outside the bounds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from utilsforecast import losses as ufl

from sclm.documents import ner_scores  # seqeval entity scores (kept with the text code)

__all__ = [
    "RELATIVE_ERROR_BOUNDS",
    "coverage",
    "mae",
    "mase",
    "mase_per_series",
    "ner_scores",
    "pinball_loss",
    "relative_errors",
    "relative_mase",
    "relative_mase_table",
    "rmse",
    "seasonal_naive_scale",
    "wql",
]

#: Bounds of a per-series relative error (model MASE / seasonal-naive MASE) before the geometric
#: mean: the defaults of fev's ``leaderboard`` (``min_relative_error=1e-3``,
#: ``max_relative_error=5``).  See the module docstring for the rule.
RELATIVE_ERROR_BOUNDS: tuple[float, float] = (1e-3, 5.0)


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


def _season_length(season_length: object) -> int:
    if (
        isinstance(season_length, bool)
        or not isinstance(season_length, int | np.integer)
        or season_length < 1
    ):
        raise ValueError(f"season_length must be a positive integer, got {season_length!r}")
    return int(season_length)


def seasonal_naive_scale(y_train: np.ndarray, *, season_length: int = 7) -> float:
    """In-sample MAE of the seasonal-naive forecast ``ŷ[t] = y[t - season_length]``.

    Parameters
    ----------
    y_train : array_like, shape (L,)
        One series up to the forecast origin; needs ``L > season_length``.
    season_length : int, default 7
        Seasonal period in steps (7: weekly seasonality of daily data).

    Returns
    -------
    float
        ``mean_t |y[t] - y[t - season_length]|`` over the pairs where both values are observed
        (NaN pairs skipped, as :func:`utilsforecast.losses.mase` does); can be 0 for a series
        that repeats exactly every season; ``nan`` when no pair is observed.
    """
    m = _season_length(season_length)
    y = _arr(y_train, "y_train")
    if y.ndim != 1:
        raise ValueError(f"y_train must be 1-D (one series), got shape {y.shape}")
    if y.size <= m:
        raise ValueError(
            f"y_train needs more than season_length={m} values for a seasonal-naive scale, got {y.size}"
        )
    d = np.abs(y[m:] - y[:-m])
    d = d[np.isfinite(d)]
    return float(d.mean()) if d.size else float("nan")


def mase(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_train: np.ndarray,
    *,
    season_length: int = 7,
    mask: np.ndarray | None = None,
) -> float:
    """Mean absolute scaled error of one series at one origin (Hyndman & Koehler 2006).

    Parameters
    ----------
    y_true, y_pred : array_like, shape (H,) or any equal shape
        Observed and forecast values over the horizon (one series; targets of several channels
        may be stacked, they share the scale of ``y_train``).
    y_train : array_like, shape (L,)
        The same series up to the forecast origin (the training part of that origin),
        ``L > season_length``.
    season_length : int, default 7
        Seasonal period of the seasonal-naive scale.
    mask : array_like of bool, optional
        Same shape as ``y_true``: forecast cells to score (e.g. open days).  The scale always
        uses every training day.

    Returns
    -------
    float
        ``mae(y_true, y_pred, mask) / seasonal_naive_scale(y_train)``.  **nan when the scale is
        0** (a series that repeats exactly every season, e.g. all zeros) or undefined: MASE is
        undefined there, for every model (rule 1 of the module docstring).  Also nan when the
        mask selects no cell.
    """
    scale = seasonal_naive_scale(y_train, season_length=season_length)
    err = mae(y_true, y_pred, mask=mask)
    if scale == 0.0 or not np.isfinite(scale):
        return float("nan")
    return err / scale


def _bounds(bounds: tuple[float, float]) -> tuple[float, float]:
    lo, hi = (float(b) for b in bounds)
    if not (0.0 < lo <= 1.0 <= hi < np.inf):
        raise ValueError(f"bounds must satisfy 0 < lower <= 1 <= upper < inf, got {bounds!r}")
    return lo, hi


def relative_errors(
    model_mase: Sequence[float] | np.ndarray,
    naive_mase: Sequence[float] | np.ndarray,
    *,
    bounds: tuple[float, float] = RELATIVE_ERROR_BOUNDS,
) -> np.ndarray:
    """Per-series relative errors ``model MASE / seasonal-naive MASE``, clipped to ``bounds``.

    Parameters
    ----------
    model_mase, naive_mase : array_like, shape (S,)
        Per-series MASE of the model and of the seasonal-naive reference, same series order.
        A non-finite ``naive_mase`` marks a series without a usable scale (rule 1 of the
        module docstring): it is excluded.
    bounds : (float, float), default :data:`RELATIVE_ERROR_BOUNDS`
        ``(lower, upper)`` with ``0 < lower <= 1 <= upper``.

    Returns
    -------
    numpy.ndarray, shape (S,)
        ``clip(model / naive, lower, upper)``; ``1`` where both are 0, ``upper`` where only the
        reference is 0, ``nan`` for excluded series.

    Raises
    ------
    ValueError
        Shapes differ, a MASE is negative, bad bounds, or the model has no finite MASE on a
        series the reference is scored on (rule 4: every model on the same series).
    """
    mm = np.atleast_1d(_arr(model_mase, "model_mase"))
    nm = np.atleast_1d(_arr(naive_mase, "naive_mase"))
    _same_shape(mm, nm, "model_mase", "naive_mase")
    lo, hi = _bounds(bounds)
    if (mm < 0).any() or (nm < 0).any():
        raise ValueError("MASE values cannot be negative")
    usable = np.isfinite(nm)
    missing = usable & ~np.isfinite(mm)
    if missing.any():
        raise ValueError(
            f"the model has no finite MASE on {int(missing.sum())} of the {int(usable.sum())} series "
            "the reference is scored on: every model must be scored on the same series"
        )
    out = np.full(mm.shape, np.nan)
    pos = usable & (nm > 0)
    out[pos] = mm[pos] / nm[pos]
    zero_ref = usable & (nm == 0)
    out[zero_ref] = np.where(mm[zero_ref] == 0, 1.0, np.inf)
    return np.clip(out, lo, hi)


def relative_mase(
    model_mase: Sequence[float] | np.ndarray,
    naive_mase: Sequence[float] | np.ndarray,
    *,
    bounds: tuple[float, float] = RELATIVE_ERROR_BOUNDS,
    return_n: bool = False,
) -> float | tuple[float, int]:
    """Geometric mean over series of the clipped model MASE / seasonal-naive MASE.

    Parameters
    ----------
    model_mase, naive_mase : array_like, shape (S,)
        Per-series MASE of the model and of the seasonal-naive forecast, same series order
        (``nan`` in ``naive_mase``: the series has no usable scale and is excluded).
    bounds : (float, float), default :data:`RELATIVE_ERROR_BOUNDS`
        Each series' ratio is clipped to ``[lower, upper]`` first (:func:`relative_errors`).
    return_n : bool, default False
        Also return the number of series used.

    Returns
    -------
    float
        ``exp(mean_s log r_s)`` over the usable series; below 1 the model beats seasonal naive.
        ``nan`` when no series is usable.
    int
        Number of series used (only when ``return_n=True``).

    Raises
    ------
    ValueError
        As :func:`relative_errors`.
    """
    r = relative_errors(model_mase, naive_mase, bounds=bounds)
    r = r[np.isfinite(r)]
    value = float(np.exp(np.mean(np.log(r)))) if r.size else float("nan")
    return (value, int(r.size)) if return_n else value


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


# --------------------------------------------------------------------------------------------------
# Backtests: many series and origins (long frames)
# --------------------------------------------------------------------------------------------------


def _ids(id_col: str | Sequence[str]) -> list[str]:
    ids = [id_col] if isinstance(id_col, str) else list(id_col)
    if not ids:
        raise ValueError("id_col names no column")
    return ids


def _series_index(frame: pd.DataFrame, ids: list[str]) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(frame[ids])


def mase_per_series(
    df: pd.DataFrame,
    models: Sequence[str],
    *,
    scale: str | None = None,
    train_df: pd.DataFrame | None = None,
    season_length: int = 7,
    id_col: str | Sequence[str] = "unique_id",
    cutoff_col: str = "cutoff",
    target_col: str = "y",
    time_col: str = "ds",
) -> pd.DataFrame:
    """MASE of every series: the mean over its usable origins of MAE(horizon) / scale.

    The per-(origin, series) MAE and MASE come from :func:`utilsforecast.losses.mae` and
    :func:`utilsforecast.losses.mase`.  Rule 1 of the module docstring applies: an origin whose
    scale is 0 or undefined is left out for every model.

    Parameters
    ----------
    df : pandas.DataFrame
        Long backtest, one row per (series, origin, forecast day): the id column(s), ``cutoff_col``
        (the origin), ``target_col`` (the actual value) and one column of point forecasts per
        model (utilsforecast's wide layout: every model on the same cells).  Only the rows to
        score (e.g. open days).
    models : sequence of str
        The forecast columns.
    scale : str, optional
        Column of ``df`` holding each (series, origin)'s seasonal-naive scale (constant within
        it).  Exactly one of ``scale`` and ``train_df`` is given.
    train_df : pandas.DataFrame, optional
        History of every series (id column(s), ``time_col``, ``target_col``), one row per step
        without gaps; each origin's scale is computed on the rows with ``time_col <= origin``
        (:func:`utilsforecast.losses.mase`, ``seasonality=season_length``).
    season_length : int, default 7
        Seasonal period of the scale (used with ``train_df``).
    id_col : str or sequence of str, default ``"unique_id"``
        The column(s) naming a series, e.g. ``["node", "variable"]``.
    cutoff_col, target_col, time_col : str
        Origin, actual-value and time columns.

    Returns
    -------
    pandas.DataFrame, shape (S, len(models))
        Index: the series (the id column(s)), in order of first appearance; one column per
        model; ``nan`` for a series without a usable origin (the same series for every model).

    Raises
    ------
    ValueError
        A missing column, not exactly one of ``scale``/``train_df``, NaN in a forecast or an
        actual value, or a scale that varies within one (series, origin).
    """
    models = list(models)
    ids = _ids(id_col)
    if not models or len(set(models)) != len(models):
        raise ValueError(f"models must name distinct forecast columns, got {models}")
    if (scale is None) == (train_df is None):
        raise ValueError("give exactly one of scale= (a column of df) and train_df= (the history)")
    need = [*ids, cutoff_col, target_col, *models, *([scale] if scale is not None else [])]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"df has no column(s) {missing}; it has {list(df.columns)}")
    values = df[[target_col, *models]].to_numpy(np.float64)
    bad = [c for c, b in zip([target_col, *models], (~np.isfinite(values)).any(axis=0), strict=True) if b]
    if bad:
        raise ValueError(
            f"NaN or infinite values in {bad}: drop those rows for every model first "
            "(all models are scored on the same cells)"
        )
    season_length = _season_length(season_length)
    sid = _series_index(df, ids)
    series = sid.unique()
    cols = [f"m{i}" for i in range(len(models))]  # internal names: no clash with key/cutoff/target
    frame = pd.DataFrame(values, columns=["y", *cols])
    frame.insert(0, "cutoff", df[cutoff_col].to_numpy())
    frame.insert(0, "sid", series.get_indexer(sid))
    if scale is not None:
        frame["scale"] = df[scale].to_numpy(np.float64)
        sc = frame.groupby(["cutoff", "sid"], sort=True)["scale"].agg(["first", "min", "max"])
        varies = ~np.isclose(sc["min"], sc["max"], equal_nan=True)
        if varies.any():
            raise ValueError(f"column {scale!r} varies within {int(varies.sum())} (series, origin) groups")
        err = ufl.mae(frame, cols, id_col="sid", target_col="y", cutoff_col="cutoff")
        per = err.merge(sc["first"].rename("scale").reset_index(), on=["cutoff", "sid"])
        usable = np.isfinite(per["scale"].to_numpy()) & (per["scale"].to_numpy() > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            per[cols] = per[cols].to_numpy() / per["scale"].to_numpy()[:, None]
    else:
        missing = [c for c in [*ids, time_col, target_col] if c not in train_df.columns]
        if missing:
            raise ValueError(f"train_df has no column(s) {missing}; it has {list(train_df.columns)}")
        code = series.get_indexer(_series_index(train_df, ids))
        train = pd.DataFrame(
            {"sid": code, "ds": train_df[time_col].to_numpy(), "y": train_df[target_col].to_numpy(np.float64)}
        )
        train = train[train["sid"] >= 0].sort_values(["sid", "ds"], kind="stable")
        per = ufl.mase(
            frame,
            cols,
            seasonality=season_length,
            train_df=train,
            id_col="sid",
            target_col="y",
            cutoff_col="cutoff",
            time_col="ds",
        )
        # forecasts are finite, so a non-finite MASE means a zero or undefined scale
        usable = np.isfinite(per[cols].to_numpy()).all(axis=1)
    per.loc[~usable, cols] = np.nan
    out = per.groupby("sid")[cols].mean().reindex(range(len(series)))
    out.index = series.get_level_values(0) if len(ids) == 1 else series
    out.columns = models
    return out


def relative_mase_table(
    df: pd.DataFrame,
    models: Sequence[str],
    reference: str,
    *,
    scale: str | None = None,
    train_df: pd.DataFrame | None = None,
    season_length: int = 7,
    id_col: str | Sequence[str] = "unique_id",
    cutoff_col: str = "cutoff",
    target_col: str = "y",
    time_col: str = "ds",
    bounds: tuple[float, float] = RELATIVE_ERROR_BOUNDS,
) -> pd.DataFrame:
    """Relative MASE of every model of a backtest, with the rules of the module docstring.

    Parameters
    ----------
    df, models, scale, train_df, season_length, id_col, cutoff_col, target_col, time_col
        As :func:`mase_per_series`.
    reference : str
        The model relative MASE is measured to (seasonal naive); one of ``models``.
    bounds : (float, float), default :data:`RELATIVE_ERROR_BOUNDS`
        Clip of each series' ratio (:func:`relative_errors`).

    Returns
    -------
    pandas.DataFrame
        Index ``model`` (the order of ``models``); columns ``relMASE`` (geometric mean over the
        usable series of the clipped ratio), ``MASE`` (arithmetic mean of the per-series MASE
        over the same series), ``series`` (series used, the same for every model),
        ``excluded`` (series without a usable scale or reference) and ``clipped`` (series whose
        ratio lay outside ``bounds``).
    """
    models = list(models)
    if reference not in models:
        raise ValueError(f"reference model {reference!r} is not among the forecasts {models}")
    lo, hi = _bounds(bounds)
    per = mase_per_series(
        df,
        models,
        scale=scale,
        train_df=train_df,
        season_length=season_length,
        id_col=id_col,
        cutoff_col=cutoff_col,
        target_col=target_col,
        time_col=time_col,
    )
    ref = per[reference].to_numpy()
    usable = np.isfinite(ref)
    rows = {}
    for label in models:
        mm = per[label].to_numpy()
        r = relative_errors(mm, ref, bounds=(lo, hi))
        ok = np.isfinite(r)
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = mm / ref
        rows[label] = {
            "relMASE": float(np.exp(np.mean(np.log(r[ok])))) if ok.any() else float("nan"),
            "MASE": float(np.mean(mm[usable])) if usable.any() else float("nan"),
            "series": int(ok.sum()),
            "excluded": int((~usable).sum()),
            "clipped": int((usable & ((raw < lo) | (raw > hi))).sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
