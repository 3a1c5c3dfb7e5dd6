"""Forecasting baselines: seasonal naive, AutoETS, AutoTheta and a global LightGBM, on one interface.

Every baseline is called through :func:`forecast`::

    fc = forecast("lightgbm", train, horizon=28, future_exog=fx, use_exog=["promotion"])

``train`` is long (``unique_id, ds, y`` plus optional numeric exogenous columns), one gap-free
daily (``freq``) series per ``unique_id`` ending at the forecast origin; the result has one row
per (``unique_id``, ``ds``) over the ``horizon`` periods after each series' last ``ds``, with the
point forecast ``mean`` and one column per quantile, named ``q0.1`` ... ``q0.9``
(:func:`quantile_column`).

How each baseline gets its quantiles
------------------------------------
``m`` below is :func:`forecast`'s ``season_length`` (statsforecast's name for the seasonal period,
used under that name across the package).

``seasonal_naive``
    Point forecast: the last observed season repeated (``y[T+h] = y[T+h-k·m]``, ``k = ceil(h/m)``).
    Quantile ``q`` at step ``h`` = point forecast + the empirical ``q``-quantile of the series'
    in-sample ``k``-season-ahead residuals ``y[t] - y[t-k·m]`` (so the spread widens with the
    number of seasons ahead, and needs no distributional assumption).
``auto_ets``, ``auto_theta``
    statsforecast's ``AutoETS(season_length)`` / ``AutoTheta(season_length)``; the mean is the
    model's point forecast, and quantile ``q`` is the bound of its central prediction interval at
    level ``|2q - 1|·100`` (lower bound for ``q < 0.5``, upper for ``q > 0.5``; ``q = 0.5`` is the
    point forecast, as the intervals are symmetric).  Exogenous columns are ignored.
``lightgbm``
    One global LightGBM model over all series, **recursive** strategy: a single one-step model
    whose lag features at steps beyond the observed data are filled with its own earlier mean
    predictions, so no value after the origin is ever read (leak-free by construction; ``train``
    is the only source of ``y``, and ``future_exog`` may not carry ``y``).  Features: lags 7, 14,
    21, 28; rolling means over 7 and 28 days of the series shifted by 7; day of week, day of
    month, month; the series id (categorical); and the selected exogenous columns at the target
    date (known-future covariates, e.g. promotion or closed-day flags, weather).  The target is
    divided by each series' training mean (absolute value; 1 if zero) and multiplied back.
    The mean uses the L2 objective (``lgb_params={"objective": ...}`` replaces it, e.g. ``"l1"``
    for a median-type point forecast, which suits MAE-based scores such as MASE); each quantile
    has its own model with LightGBM's ``quantile`` objective (fed the same mean-filled lags), and
    crossing quantiles are sorted per row.
    Deterministic: ``deterministic=True``, ``force_row_wise=True``, fixed ``num_threads`` and seed.
``fracast``
    Zero-shot: the pretrained Fracast-0 model bundled with the ``fracast`` package
    (:mod:`sclm._fracast`; no training, no covariates, up to 2048 past values per series).  Its
    quantiles are the model's own (levels 0.1 ... 0.9 only); ``mean`` is its median, as the
    model predicts no mean.

The point forecast the benches score is the median, column ``q0.5``, for every model: MASE is a
scaled absolute error and the median minimises the expected absolute error.  For AutoETS and
AutoTheta ``q0.5`` is the point forecast (symmetric intervals); for LightGBM it is the
``quantile`` model at 0.5; seasonal naive is the reference of relative MASE and is scored on its
``mean`` (the repeated season, the definition of the reference).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sclm.schema import unknown_name

DEFAULT_QUANTILES: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
LAGS: tuple[int, ...] = (7, 14, 21, 28)
ROLL_SHIFT = 7
ROLL_WINDOWS: tuple[int, ...] = (7, 28)
LGB_DEFAULTS: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 20,
    "colsample_bytree": 0.9,
    "num_threads": 1,  # more threads are slower on small data or a busy machine
}
_KEYS = ("unique_id", "ds", "y")


def quantile_column(q: float) -> str:
    """The output column for quantile ``q`` (``0.1`` → ``"q0.1"``)."""
    return f"q{float(q):g}"


# --------------------------------------------------------------------------- checks


def _check_inputs(
    train: pd.DataFrame, horizon: int, quantiles: Sequence[float], freq: str
) -> tuple[pd.DataFrame, list[float]]:
    if not isinstance(horizon, int | np.integer) or isinstance(horizon, bool) or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1, got {horizon!r}")
    if not isinstance(train, pd.DataFrame):
        raise TypeError(f"train must be a pandas DataFrame, got {type(train).__name__}")
    missing = [c for c in _KEYS if c not in train.columns]
    if missing:
        raise ValueError(
            f"train is missing column(s) {missing}; expected long format with columns "
            f"unique_id, ds, y (+ exogenous columns); got {list(train.columns)}"
        )
    if len(train) == 0:
        raise ValueError("train is empty")
    qs = [float(q) for q in quantiles]
    bad = [q for q in qs if not 0.0 < q < 1.0]
    if bad:
        raise ValueError(f"quantiles must lie strictly between 0 and 1; got {bad}")
    if len(set(qs)) != len(qs):
        raise ValueError(f"quantiles must be distinct; got {qs}")
    df = train.copy()
    df["ds"] = pd.to_datetime(df["ds"])
    if df["y"].isna().any():
        raise ValueError(f"train has {int(df['y'].isna().sum())} missing y value(s); fill them first")
    df = df.sort_values(["unique_id", "ds"], kind="mergesort").reset_index(drop=True)
    if df.duplicated(["unique_id", "ds"]).any():
        raise ValueError("train has duplicate (unique_id, ds) rows")
    off = pd.tseries.frequencies.to_offset(freq)
    for uid, g in df.groupby("unique_id", sort=False):
        expected = pd.date_range(g["ds"].iloc[0], periods=len(g), freq=off)
        if not (g["ds"].to_numpy() == expected.to_numpy()).all():
            raise ValueError(
                f"series {uid!r} is not gap-free at frequency {freq!r}; reindex it to a full calendar "
                "(e.g. SeriesDataset.to_daily) before forecasting"
            )
    return df, qs


def _exog_columns(train: pd.DataFrame, use_exog: bool | Sequence[str]) -> list[str]:
    available = [c for c in train.columns if c not in _KEYS]
    if use_exog is True:
        cols = available
    elif use_exog is False or use_exog is None:
        cols = []
    else:
        cols = list(use_exog)
        missing = [c for c in cols if c not in available]
        if missing:
            raise ValueError(f"use_exog asks for column(s) {missing} not in train; train has {available}")
    nonnum = [c for c in cols if not pd.api.types.is_numeric_dtype(train[c])]
    if nonnum:
        raise ValueError(f"exogenous column(s) {nonnum} must be numeric (encode them first)")
    return cols


def _future_frame(train: pd.DataFrame, horizon: int, freq: str) -> pd.DataFrame:
    off = pd.tseries.frequencies.to_offset(freq)
    last = train.groupby("unique_id", sort=False)["ds"].max()
    rows = [
        pd.DataFrame({"unique_id": uid, "ds": pd.date_range(end + off, periods=horizon, freq=off)})
        for uid, end in last.items()
    ]
    return pd.concat(rows, ignore_index=True)


def _align_future_exog(
    future: pd.DataFrame, future_exog: pd.DataFrame | None, cols: list[str]
) -> pd.DataFrame:
    if not cols:
        return future
    if future_exog is None:
        raise ValueError(
            f"future_exog is required for the exogenous column(s) {cols} (or set use_exog=False)"
        )
    if "y" in future_exog.columns:
        raise ValueError("future_exog must not contain 'y': the future target would leak into the forecast")
    missing = [c for c in ["unique_id", "ds", *cols] if c not in future_exog.columns]
    if missing:
        raise ValueError(f"future_exog is missing column(s) {missing}; got {list(future_exog.columns)}")
    fx = future_exog[["unique_id", "ds", *cols]].copy()
    fx["ds"] = pd.to_datetime(fx["ds"])
    out = future.merge(fx.drop_duplicates(["unique_id", "ds"]), on=["unique_id", "ds"], how="left")
    n_missing = int(out[cols].isna().any(axis=1).sum())
    if n_missing:
        raise ValueError(
            f"future_exog does not cover {n_missing} of the {len(out)} (unique_id, ds) forecast rows "
            f"for column(s) {cols}"
        )
    return out


# --------------------------------------------------------------------------- seasonal naive


def _seasonal_naive(
    train: pd.DataFrame, horizon: int, qs: list[float], season_length: int, freq: str
) -> pd.DataFrame:
    m = season_length
    future = _future_frame(train, horizon, freq)
    h = np.arange(1, horizon + 1)
    k = np.ceil(h / m).astype(int)
    parts = []
    for uid, g in train.groupby("unique_id", sort=False):
        y = g["y"].to_numpy(dtype="float64")
        if len(y) < m:
            raise ValueError(
                f"seasonal_naive needs at least season_length={m} observations; {uid!r} has {len(y)}"
            )
        point = y[len(y) - m + (h - 1) % m]
        out = {"mean": point}
        qcols = {quantile_column(q): np.empty(horizon) for q in qs}
        for kk in np.unique(k):
            lag = kk * m
            resid = y[lag:] - y[:-lag] if len(y) > lag else np.array([])
            if len(resid) == 0:  # too short for k seasons: fall back to one season's residuals
                resid = y[m:] - y[:-m] if len(y) > m else np.zeros(1)
            qv = np.quantile(resid, qs)
            sel = k == kk
            for q, v in zip(qs, qv, strict=True):
                qcols[quantile_column(q)][sel] = point[sel] + v
        out.update(qcols)
        parts.append(pd.DataFrame(out))
    res = pd.concat(parts, ignore_index=True)
    return pd.concat([future, res], axis=1)


# --------------------------------------------------------------------------- statsforecast


def _statsforecast(
    kind: str, train: pd.DataFrame, horizon: int, qs: list[float], season_length: int, freq: str
) -> pd.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, AutoTheta

    model = (AutoETS if kind == "auto_ets" else AutoTheta)(season_length=season_length)
    alias = type(model).__name__
    levels = sorted({round(abs(2 * q - 1) * 100, 6) for q in qs if not math.isclose(q, 0.5)})
    levels_arg = [int(lv) if float(lv).is_integer() else lv for lv in levels]
    sf = StatsForecast(models=[model], freq=freq, n_jobs=1)
    fc = sf.forecast(h=horizon, df=train[list(_KEYS)], level=levels_arg or None)
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    out = fc[["unique_id", "ds"]].copy()
    out["mean"] = fc[alias].to_numpy(dtype="float64")
    for q, lv in ((q, round(abs(2 * q - 1) * 100, 6)) for q in qs):
        lvs = int(lv) if float(lv).is_integer() else lv
        if math.isclose(q, 0.5):
            out[quantile_column(q)] = out["mean"]
        else:
            side = "lo" if q < 0.5 else "hi"
            out[quantile_column(q)] = fc[f"{alias}-{side}-{lvs}"].to_numpy(dtype="float64")
    return out


# --------------------------------------------------------------------------- lightgbm


def _feature_names(exog: list[str]) -> list[str]:
    return [
        *(f"lag{k}" for k in LAGS),
        *(f"rmean{w}" for w in ROLL_WINDOWS),
        "dow",
        "dom",
        "month",
        "uid",
        *exog,
    ]


def _calendar(dates: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    return {
        "dow": dates.dayofweek.to_numpy(),
        "dom": dates.day.to_numpy(),
        "month": dates.month.to_numpy(),
    }


def _step_features(Y: np.ndarray, c: int) -> dict[str, np.ndarray]:
    """Lag and rolling features for target column ``c`` of the (series × time) matrix ``Y``."""
    feats = {f"lag{k}": Y[:, c - k] for k in LAGS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN windows → NaN
        for w in ROLL_WINDOWS:
            lo = max(c - ROLL_SHIFT - w + 1, 0)
            feats[f"rmean{w}"] = np.nanmean(Y[:, lo : c - ROLL_SHIFT + 1], axis=1)
    return feats


def _lightgbm(
    train: pd.DataFrame,
    horizon: int,
    qs: list[float],
    future_exog: pd.DataFrame | None,
    use_exog: bool | Sequence[str],
    seed: int,
    freq: str,
    params: dict[str, Any] | None,
) -> pd.DataFrame:
    import lightgbm as lgb

    exog = _exog_columns(train, use_exog)
    future = _future_frame(train, horizon, freq)
    future = _align_future_exog(future, future_exog, exog)
    uids = list(pd.unique(train["unique_id"]))
    n = len(uids)
    counts = train.groupby("unique_id", sort=False).size().reindex(uids).to_numpy()
    L = int(counts.max())
    T = L + horizon
    # right-aligned matrices: series i's last training value is at column L-1
    Y = np.full((n, T), np.nan)
    X = {c: np.full((n, T), np.nan) for c in exog}
    D = np.empty((n, T), dtype="datetime64[ns]")
    off = pd.tseries.frequencies.to_offset(freq)
    scale = np.ones(n)
    for i, (uid, g) in enumerate(train.groupby("unique_id", sort=False)):
        y = g["y"].to_numpy(dtype="float64")
        s = float(np.mean(np.abs(y)))
        scale[i] = s if s > 0 else 1.0
        Y[i, L - len(y) : L] = y / scale[i]
        for c in exog:
            X[c][i, L - len(y) : L] = g[c].to_numpy(dtype="float64")
        last = g["ds"].iloc[-1]
        D[i] = pd.date_range(end=last + horizon * off, periods=T, freq=off).to_numpy()
        fx = future[future["unique_id"] == uid]
        for c in exog:
            X[c][i, L:] = fx[c].to_numpy(dtype="float64")
    names = _feature_names(exog)

    # ---- training rows: every observed column with at least max(LAGS) observed history
    frame = pd.DataFrame(Y[:, :L].T)
    lag_mats = {f"lag{k}": frame.shift(k).to_numpy().T for k in LAGS}
    for w in ROLL_WINDOWS:
        lag_mats[f"rmean{w}"] = frame.shift(ROLL_SHIFT).rolling(w, min_periods=1).mean().to_numpy().T
    start = L - counts + max(LAGS)
    cols = np.arange(L)
    mask = cols[None, :] >= start[:, None]
    if not mask.any():
        raise ValueError(f"lightgbm needs more than {max(LAGS)} observations in at least one series")
    ii, jj = np.nonzero(mask)
    dates = pd.DatetimeIndex(D[ii, jj])
    feats: dict[str, np.ndarray] = {k: v[ii, jj] for k, v in lag_mats.items()}
    feats.update(_calendar(dates))
    feats["uid"] = ii
    for c in exog:
        feats[c] = X[c][ii, jj]
    Xtr = pd.DataFrame(feats)[names]
    ytr = Y[ii, jj]

    base = {**LGB_DEFAULTS, **(params or {})}
    base.update(
        {"deterministic": True, "force_row_wise": True, "seed": seed, "verbose": -1, "bagging_freq": 0}
    )

    mean_objective = base.pop("objective", "regression")

    def fit(objective: str, alpha: float | None = None) -> lgb.LGBMRegressor:
        p = dict(base, objective=objective)
        if alpha is not None:
            p["alpha"] = alpha
        model = lgb.LGBMRegressor(**p)
        model.fit(Xtr, ytr, categorical_feature=["uid"])
        return model

    mean_model = fit(mean_objective)
    q_models = {q: fit("quantile", q) for q in qs}

    # ---- recursive prediction: mean predictions fill Y beyond the origin
    out_mean = np.empty((n, horizon))
    out_q = np.empty((len(qs), n, horizon))
    for h in range(horizon):
        c = L + h
        f = _step_features(Y, c)
        f.update(_calendar(pd.DatetimeIndex(D[:, c])))
        f["uid"] = np.arange(n)
        for col in exog:
            f[col] = X[col][:, c]
        Xs = pd.DataFrame(f)[names]
        pm = mean_model.predict(Xs)
        Y[:, c] = pm
        out_mean[:, h] = pm
        for j, q in enumerate(qs):
            out_q[j, :, h] = q_models[q].predict(Xs)
    order = np.argsort(qs)
    out_q[order] = np.sort(out_q[order], axis=0)  # no crossing quantiles
    res = pd.DataFrame({"unique_id": np.repeat(uids, horizon), "ds": D[:, L:].reshape(-1)})
    res["mean"] = (out_mean * scale[:, None]).reshape(-1)
    for j, q in enumerate(qs):
        res[quantile_column(q)] = (out_q[j] * scale[:, None]).reshape(-1)
    return res


# --------------------------------------------------------------------------- fracast


def _fracast(train: pd.DataFrame, horizon: int, qs: list[float], freq: str) -> pd.DataFrame:
    """Zero-shot Fracast-0 (:func:`sclm._fracast.fracast_forecast`, imported on first use)."""
    from sclm._fracast import fracast_forecast

    return fracast_forecast(train, horizon, qs, freq)


# --------------------------------------------------------------------------- public API

BASELINES: dict[str, Callable[..., pd.DataFrame]] = {}  # filled below: name → callable


def forecast(
    name: str,
    train: pd.DataFrame,
    horizon: int,
    *,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    future_exog: pd.DataFrame | None = None,
    use_exog: bool | Sequence[str] = True,
    seed: int = 0,
    season_length: int = 7,
    freq: str = "D",
    lgb_params: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Forecast every series in ``train`` ``horizon`` periods past its last date with baseline ``name``.

    Parameters
    ----------
    name
        One of :data:`BASELINES`: ``seasonal_naive``, ``auto_ets``, ``auto_theta``, ``lightgbm``,
        ``fracast`` (zero-shot, quantile levels 0.1 ... 0.9 only).
    train
        Long frame ``unique_id, ds, y`` (+ numeric exogenous columns); each series gap-free at
        ``freq``, no missing ``y``.  Its last date per series is the forecast origin.
    horizon
        Number of periods to forecast (>= 1).
    quantiles
        Quantile levels in (0, 1); output columns ``q0.1`` ... (see :func:`quantile_column`).
    future_exog
        ``unique_id, ds`` + the selected exogenous columns for every forecast row; required by
        ``lightgbm`` when it uses exogenous columns; must not contain ``y``.  Ignored by the others.
    use_exog
        ``lightgbm`` only: ``True`` all exogenous columns of ``train``, ``False`` none, or a list
        of column names (e.g. ``["closed"]`` versus ``["closed", "promotion"]``).
    seed
        LightGBM seed (the other baselines are deterministic).
    season_length
        Seasonal period in periods of ``freq`` (7 for daily data with a weekly pattern); ``m`` in
        the module docstring.
    freq
        pandas frequency of the series.
    lgb_params
        Overrides of :data:`LGB_DEFAULTS` (e.g. ``n_estimators``, ``num_threads``) and the point
        model's ``objective`` (default ``"regression"``, L2).

    Returns
    -------
    pandas.DataFrame
        Columns ``unique_id, ds, mean, q<level>...``; ``len(series) * horizon`` rows, sorted by
        ``unique_id`` then ``ds``.

    Raises
    ------
    sclm.schema.UnknownNameError
        ``name`` is not a known baseline (the message lists them).
    ValueError
        ``horizon < 1``, missing columns, gaps, bad quantiles, or missing/incomplete ``future_exog``.
    """
    if name not in BASELINES:
        raise unknown_name("baseline", name, BASELINES)
    df, qs = _check_inputs(train, horizon, quantiles, freq)
    horizon = int(horizon)
    if name == "seasonal_naive":
        out = _seasonal_naive(df, horizon, qs, season_length, freq)
    elif name in ("auto_ets", "auto_theta"):
        out = _statsforecast(name, df, horizon, qs, season_length, freq)
    elif name == "fracast":
        out = _fracast(df, horizon, qs, freq)
    else:
        out = _lightgbm(df, horizon, qs, future_exog, use_exog, seed, freq, lgb_params)
    out["ds"] = pd.to_datetime(out["ds"])
    out = out.sort_values(["unique_id", "ds"], kind="mergesort")
    return out[["unique_id", "ds", "mean", *(quantile_column(q) for q in qs)]].reset_index(drop=True)


BASELINES.update(
    {
        "seasonal_naive": _seasonal_naive,
        "auto_ets": _statsforecast,
        "auto_theta": _statsforecast,
        "lightgbm": _lightgbm,
        "fracast": _fracast,
    }
)
