"""A corpus of simulated daily retail-like series for pretraining the forecaster M.

:func:`synthetic_retail_panel` draws ``n_groups`` groups (a "store": its own weather, holidays and
closed days) of ``series_per_group`` series (an "item") each, over ``n_days`` days, and returns a
panel in the layout of :class:`sclm.pipeline.ForecastTask` (index ``node, ts``; one ``target``
column plus the known-future columns of :data:`KNOWN_FUTURE`), so the pretraining path is the
one of every data set (``PanelScaler``, windows, calendar).  As Chronos (Ansari et al. 2024)
pretrains on synthetic processes, the corpus is meant to be diverse rather than realistic:

* mean ``mu[t] = level · weekly[dow] · yearly[t] · trend[t] · drift[t] · effects[t]``:
  a log-normal level (0.3 ... 300 units a day); a weekly profile of random shape (log-normal
  weekday factors, sometimes a weekday with no sales); a yearly cycle of random amplitude and
  phase; a piecewise log-linear trend with random change points and level shifts; a slow random
  walk on the log level;
* known-future effects, each with a random size (and none for some series): promotions
  (``promotion``, runs of 1-7 days, uplift ×1 ... ×3), price (``price`` around 1, lower on some
  promotion days, elasticity 0 ... -2.5), holidays (``is_holiday``, a factor ×0.3 ... ×2 per
  series), closed days (``is_closed``: the group's closed days and the series' weekday with no
  sales, sales 0) and three weather-like covariates shared by the group (``temperature``: a
  yearly cycle plus AR(1) noise; ``rain``: zero-inflated gamma; ``sunshine``: seasonal, lower
  on rainy days), entering the log mean linearly (standardised) with random coefficients;
* counts: negative binomial (gamma-Poisson, dispersion 0.5 ... 200, so from near-Poisson to
  heavy), optionally zero-inflated (share 0 ... 0.5 for a third of the series).

Everything is drawn from one :class:`numpy.random.Generator` seeded by ``seed``: the same
arguments give the same panel, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BINARY", "KNOWN_FUTURE", "synthetic_retail_panel"]

KNOWN_FUTURE: tuple[str, ...] = (
    "is_closed",
    "is_holiday",
    "promotion",
    "price",
    "temperature",
    "rain",
    "sunshine",
)
"""Known-future columns of the corpus, in order (the generic slots of the pretrained model)."""
BINARY: tuple[str, ...] = ("is_closed", "is_holiday", "promotion")
"""The 0/1 columns among :data:`KNOWN_FUTURE` (not rescaled)."""

_YEAR = 365.25


def _weather(rng: np.random.Generator, doy: np.ndarray) -> dict[str, np.ndarray]:
    """One group's weather-like covariates over its days (``doy``: day of year, 1-based)."""
    n = doy.size
    phase = 2 * np.pi * (doy - 200.0) / _YEAR  # warm peak in mid-July
    ar = np.zeros(n)
    e = rng.normal(0.0, 2.5, n)
    for t in range(1, n):
        ar[t] = 0.8 * ar[t - 1] + e[t]
    temperature = rng.uniform(5, 18) + rng.uniform(4, 12) * np.cos(phase) + ar
    wet = rng.random(n) < rng.uniform(0.2, 0.5)
    rain = np.where(wet, rng.gamma(0.7, rng.uniform(1.5, 5.0), n), 0.0)
    sun = np.clip(
        rng.uniform(150, 300) + rng.uniform(80, 250) * np.cos(phase) + rng.normal(0, 120, n), 0, None
    )
    sunshine = np.where(wet, sun * rng.uniform(0.0, 0.5, n), sun)
    return {"temperature": temperature, "rain": rain, "sunshine": sunshine}


def _trend(rng: np.random.Generator, n: int) -> np.ndarray:
    """Log-trend: piecewise linear with change points and occasional level shifts, plus a slow walk."""
    k = rng.poisson(n / _YEAR)
    cuts = np.sort(rng.integers(1, n, k)) if k else np.array([], dtype=int)
    slopes = rng.normal(0.0, 0.5 / _YEAR, k + 1)
    slope = np.repeat(slopes, np.diff(np.r_[0, cuts, n]))
    log_trend = np.cumsum(slope)
    if rng.random() < 0.4:  # a few permanent level shifts
        for c in rng.integers(1, n, rng.integers(1, 3)):
            log_trend[c:] += rng.normal(0.0, 0.3)
    walk_sd = rng.choice([0.0, rng.uniform(0.002, 0.03)])
    return log_trend + np.cumsum(rng.normal(0.0, walk_sd, n)) if walk_sd else log_trend


def _runs(rng: np.random.Generator, n: int, rate: float, max_len: int) -> np.ndarray:
    """0/1 flags: runs of 1..``max_len`` days starting with probability ``rate`` a day."""
    flag = np.zeros(n, dtype=bool)
    for s in np.flatnonzero(rng.random(n) < rate):
        flag[s : s + rng.integers(1, max_len + 1)] = True
    return flag


def _series(
    rng: np.random.Generator, dow: np.ndarray, doy: np.ndarray, group: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """One item of a group: its target and its known-future columns."""
    n = dow.size
    level = np.exp(rng.uniform(np.log(0.3), np.log(300.0)))
    weekly = np.exp(rng.normal(0.0, rng.uniform(0.05, 0.6), 7))
    weekly /= weekly.mean()
    closed = group["is_closed"].copy()
    if rng.random() < 0.15:  # a weekday with no sales
        closed |= dow == rng.integers(0, 7)
    yearly = rng.uniform(0, 0.35) * np.cos(2 * np.pi * (doy - rng.uniform(0, _YEAR)) / _YEAR)
    log_mu = np.log(level) + np.log(weekly[dow]) + yearly + _trend(rng, n)
    promotion = _runs(rng, n, rng.choice([0.0, rng.uniform(0.005, 0.05)]), 7)
    log_mu += np.log(rng.uniform(1.0, 3.0)) * promotion
    price = np.ones(n)
    for c in rng.integers(0, n, rng.integers(0, 4)):  # list-price changes
        price[c:] *= np.exp(rng.normal(0.0, 0.08))
    price = np.where(promotion & (rng.random() < 0.6), price * rng.uniform(0.6, 0.95), price)
    log_mu += rng.uniform(-2.5, 0.0) * np.log(price) * (rng.random() < 0.7)
    log_mu += np.log(rng.uniform(0.3, 2.0)) * group["is_holiday"]
    for name in ("temperature", "rain", "sunshine"):
        z = group[name]
        if rng.random() < 0.6:
            log_mu += rng.normal(0.0, 0.12) * (z - z.mean()) / (z.std() + 1e-9)
    mu = np.exp(np.clip(log_mu, -10, 10))
    k = np.exp(rng.uniform(np.log(0.5), np.log(200.0)))  # NB dispersion
    y = rng.poisson(mu * rng.gamma(k, 1.0 / k, n)).astype(float)
    if rng.random() < 0.33:
        y[rng.random(n) < rng.uniform(0.0, 0.5)] = 0.0
    y[closed] = 0.0
    out = {**group, "is_closed": closed, "promotion": promotion, "price": price}
    return {"target": y, **{c: np.asarray(out[c], dtype=float) for c in KNOWN_FUTURE}}


def synthetic_retail_panel(
    n_groups: int = 64,
    series_per_group: int = 8,
    n_days: int = 730,
    *,
    seed: int = 0,
    start: str = "2012-01-01",
) -> pd.DataFrame:
    """Simulated daily retail-like series with known-future covariates (see the module docstring).

    Parameters
    ----------
    n_groups, series_per_group : int
        Groups (shared weather, holidays, closed days) and items per group.
    n_days : int
        Days per series (every series covers the same dates from ``start``).
    seed : int
        Seed of the one generator behind every draw.

    Returns
    -------
    pandas.DataFrame
        Index (``node``, ``ts``), ``n_groups · series_per_group · n_days`` rows sorted by node and
        day; float64 columns ``target`` (counts, >= 0) and :data:`KNOWN_FUTURE`.
    """
    if min(n_groups, series_per_group, n_days) < 1:
        raise ValueError("n_groups, series_per_group and n_days must be positive")
    rng = np.random.default_rng(seed)
    ts = pd.date_range(start, periods=n_days, freq="D")
    dow = ts.dayofweek.to_numpy()
    doy = ts.dayofyear.to_numpy().astype(float)
    frames = []
    for g in range(n_groups):
        group = {
            "is_holiday": rng.random(n_days) < rng.uniform(0.01, 0.04),
            "is_closed": rng.random(n_days) < rng.choice([0.0, rng.uniform(0.002, 0.01)]),
            **_weather(rng, doy),
        }
        for i in range(series_per_group):
            cols = _series(rng, dow, doy, group)
            idx = pd.MultiIndex.from_arrays([np.full(n_days, f"g{g:03d}_s{i:02d}"), ts], names=["node", "ts"])
            frames.append(pd.DataFrame(cols, index=idx))
    return pd.concat(frames)
