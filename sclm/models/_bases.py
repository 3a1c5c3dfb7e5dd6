"""Causal statistical base forecasts computed inside :class:`sclm.models.forecaster.Forecaster`.

:func:`theta_base` is the classical Theta method (Assimakopoulos & Nikolopoulos 2000, theta = 2, in
the SES-with-drift form of Hyndman & Billah 2003, as ``statsmodels.tsa.forecasting.theta`` fits it
with its two-step estimates) run on every window and channel of a batch at once, from that
window's own days only:

1. a classical decomposition's weekly seasonal index (``statsmodels.tsa.seasonal.seasonal_decompose``'s
   rule: a centred moving average of one season as the trend, the detrended days averaged by
   position in the season, normalised to mean 1 or 0).  *Multiplicative* where every day of the
   window is positive: retail sales scale their weekday pattern with the level, so a ratio index
   keeps the pattern's shape when the level moves; *additive* where a window has a zero (or
   negative) day, where ratios are undefined (the same fallback as statsmodels and statsforecast);
2. simple exponential smoothing (SES) of the deseasonalised days, started at the first day, with
   the smoothing weight chosen per window and channel from a small grid (:data:`THETA_ALPHAS`) by the
   smallest in-sample one-step squared error, vectorised over the grid;
3. the theta line's drift: half the OLS slope ``b0`` of the deseasonalised days against time,
   ``f(h) = level + b0 / 2 * (h - 1 + 1 / alpha - (1 - alpha) ** n / alpha)``;
4. reseasonalised over the horizon (times or plus the index of each forecast day's position).
"""

from __future__ import annotations

import torch

__all__ = ["THETA_ALPHAS", "theta_base"]

THETA_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)  # SES smoothing weights tried per window


def _seasonal_index(v: torch.Tensor, m: int, mult: torch.Tensor) -> torch.Tensor:
    """Classical decomposition's seasonal index of each row: ``v`` (B, L) → (B, m).

    Trend = centred moving average of ``m`` days (``2×m`` for even ``m``); detrended = ``v / trend``
    where ``mult`` (B,) else ``v - trend``; index ``j`` = mean of the detrended days at position
    ``j`` (day ``i`` has position ``i mod m``), normalised to mean 1 (multiplicative) or 0 (additive).
    """
    b, n = v.shape
    if m % 2:
        filt = torch.full((m,), 1.0 / m, dtype=v.dtype, device=v.device)
    else:
        filt = torch.cat([v.new_tensor([0.5]), v.new_ones(m - 1), v.new_tensor([0.5])]) / m
    c = filt.numel() // 2
    trend = (v.unfold(1, filt.numel(), 1) * filt).sum(dim=-1)  # B, n - 2c: days c .. n - c - 1
    mid = v[:, c : n - c]
    det = torch.where(mult[:, None], mid / trend.clamp_min(1e-12), mid - trend)
    pos = torch.arange(c, n - c, device=v.device) % m
    onehot = (pos[:, None] == torch.arange(m, device=v.device)[None, :]).to(v.dtype)  # n - 2c, m
    idx = (det @ onehot) / onehot.sum(dim=0)
    return torch.where(
        mult[:, None], idx / idx.mean(dim=1, keepdim=True), idx - idx.mean(dim=1, keepdim=True)
    )


@torch.no_grad()
def theta_base(
    x: torch.Tensor,
    horizon: int,
    season_length: int,
    seasons: int = 0,
    alphas: tuple[float, ...] = THETA_ALPHAS,
    theta: float = 2.0,
    fit_steps: int = 1,
) -> torch.Tensor:
    """The Theta method's forecast of each window and channel: ``x`` (N, T, K) → (N, H, K).

    Parameters
    ----------
    x : torch.Tensor
        Input windows (N, T, K), oldest day first, on a scale without a shift (the raw or
        mean-scaled values, not instance-normalised ones: the multiplicative index needs the
        sign of the data).
    horizon : int
        Days forecast, H.
    season_length : int
        Days of the season, m (7: weekly).
    seasons : int
        Seasons read: the last ``seasons · m`` days (0 = every full season of the window), so the
        first forecast day has position 0 of the season.
    alphas : tuple of float
        SES smoothing weights in (0, 1] tried per window and channel; the one with the smallest
        in-sample squared error of its 1..``fit_steps``-step-ahead level forecasts is used.
    theta : float
        The theta line's coefficient (>= 1): the drift is ``(1 - 1 / theta) · b0`` (2: the
        classical method, half the slope; 1: SES alone, no drift).
    fit_steps : int
        Steps ahead the weight is fitted to: 1 = the classical one-step error; the horizon = the
        errors of every in-sample forecast of 1..H days (a multi-step criterion: a one-step fit
        favours a reactive level that a whole horizon then repeats).

    Returns
    -------
    torch.Tensor
        (N, H, K): day ``h`` after the window's last day.  Only the window's own days are read
        (causal); the module docstring gives the steps.
    """
    n_win, t, k = x.shape
    m = season_length
    w = seasons or t // m
    if w < 2 or w * m > t:
        raise ValueError(f"theta_base needs >= 2 seasons of {m} days inside a window of {t} days, got {w}")
    if not alphas or not all(0 < a <= 1 for a in alphas):
        raise ValueError(f"alphas must be non-empty, each in (0, 1], got {alphas!r}")
    if not 1 <= fit_steps < w * m:
        raise ValueError(f"fit_steps must be in [1, {w * m}), got {fit_steps!r}")
    if not theta >= 1:
        raise ValueError(f"theta must be >= 1, got {theta!r}")
    n = w * m
    v = x[:, t - n :, :].transpose(1, 2).reshape(n_win * k, n).double()  # B = N·K rows
    mult = (v > 0).all(dim=1)
    index = _seasonal_index(v, m, mult)  # B, m
    season = index[:, torch.arange(n, device=x.device) % m]
    y = torch.where(mult[:, None], v / season, v - season)  # deseasonalised days
    a = torch.as_tensor(alphas, dtype=y.dtype, device=y.device)[:, None]  # G, 1
    level = y[:, 0].expand(len(alphas), -1).clone()  # G, B: SES started at the first day
    after = [level]  # the level after each day: the forecast of every later day from it
    for i in range(1, n):
        level = level + a * (y[:, i] - level)
        after.append(level)
    lv = torch.stack(after, dim=-1)  # G, B, n
    sse = sum(((y[:, s:] - lv[..., : n - s]) ** 2).sum(dim=-1) for s in range(1, fit_steps + 1))
    best = sse.argmin(dim=0)  # B
    rows = torch.arange(level.shape[1], device=y.device)
    lev, alpha = level[best, rows], a[best, 0]
    tt = torch.arange(n, dtype=y.dtype, device=y.device)
    tc = tt - tt.mean()
    b0 = ((y - y.mean(dim=1, keepdim=True)) * tc).sum(dim=1) / (tc**2).sum()  # OLS slope
    h = torch.arange(horizon, dtype=y.dtype, device=y.device)[None, :]  # h - 1
    drift = h + (1 / alpha - (1 - alpha) ** n / alpha)[:, None]
    fc = lev[:, None] + (1 - 1 / theta) * b0[:, None] * drift  # B, H
    s_h = index[:, torch.arange(horizon, device=x.device) % m]
    fc = torch.where(mult[:, None], fc * s_h, fc + s_h)
    return fc.reshape(n_win, k, horizon).transpose(1, 2).to(x.dtype)
