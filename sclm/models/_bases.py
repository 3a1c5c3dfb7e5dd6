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

__all__ = ["RIDGES", "THETA_ALPHAS", "regression_base", "theta_base"]

RIDGES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)  # slope penalties regression_base chooses from
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


@torch.no_grad()
def regression_base(
    x: torch.Tensor,
    c_past: torch.Tensor,
    c_future: torch.Tensor,
    season_length: int,
    seasons: int = 0,
    ridge: float | tuple[float, ...] = RIDGES,
) -> torch.Tensor:
    """A weekday profile plus the window's own covariate effects: a local dynamic regression.

    For each window and target, the least-squares fit over the window's last ``seasons · m`` days
    of ``y[t] = a[t mod m] + sum_j b_j (c_j[t] - mean_j)``: one level per day of the season and one
    slope per covariate, the slopes shrunk by a ridge penalty ``ridge · n`` (``n`` days; in units
    of the covariate's variance, so a covariate that varies little in the window, such as a
    promotion seen on two days, is shrunk more than one that varies a lot); then the forecast
    ``a[h mod m] + sum_j b_j (c_j[h] - mean_j)`` with the known covariates of each forecast day.
    With no covariate, or one constant over the window, it is the weekday mean
    (:func:`sclm.models.forecaster.seasonal_base`).  Only the window's own days and the known
    future covariates are read (causal); it is how a planner reads a promotion's lift or a closed
    day off the recent weeks (regression with calendar dummies, Hyndman & Athanasopoulos,
    *Forecasting: Principles and Practice*, §7.4), done per window so the network learns the
    correction to it.

    Parameters
    ----------
    x : torch.Tensor
        Targets of the input windows (N, T, K), oldest day first, on the model's scaled axis
        (before RevIN).
    c_past, c_future : torch.Tensor
        The same R covariates over the input days (N, T, R) and over the forecast days (N, H, R),
        on one scale (the panel's scaled axis).
    season_length : int
        m (7: weekly).
    seasons : int
        Seasons read (0 = every full season of the window), so the first forecast day has
        position 0 of the season.
    ridge : float or tuple of float
        Penalty on the slopes (>= 0), per day and in the covariate's units squared.  A tuple (the
        default :data:`RIDGES`): the penalty is chosen per window and target by the smallest mean
        absolute leave-one-out residual of the fit (closed form for a linear smoother:
        ``e_i / (1 - h_ii)``), so the window's own days decide how much a covariate is trusted
        (much on sales that jump with promotions, little on weather that moves demand weakly).

    Returns
    -------
    torch.Tensor
        (N, H, K).
    """
    n_win, t, k = x.shape
    m = season_length
    w = seasons or t // m
    if w < 1 or w * m > t:
        raise ValueError(f"{w} seasons of {m} days do not fit a window of {t} days")
    if c_past.ndim != 3 or c_past.shape[:2] != (n_win, t):
        raise ValueError(f"c_past must have shape ({n_win}, {t}, R), got {tuple(c_past.shape)}")
    r = c_past.shape[2]
    h = c_future.shape[1]
    if c_future.ndim != 3 or c_future.shape[0] != n_win or c_future.shape[2] != r:
        raise ValueError(f"c_future must have shape ({n_win}, H, {r}), got {tuple(c_future.shape)}")
    grid = (ridge,) if isinstance(ridge, int | float) else tuple(ridge)
    if not grid or not all(g >= 0 for g in grid):
        raise ValueError(f"ridge must be >= 0 (or a non-empty tuple of such), got {ridge!r}")
    n = w * m
    y = x[:, t - n :, :].double()  # N, n, K
    c = c_past[:, t - n :, :].double()
    mu = c.mean(dim=1, keepdim=True)
    z = c - mu  # centred covariates: the weekday levels stay the weekday means when b = 0
    pos = torch.arange(n, device=x.device) % m
    onehot = (pos[:, None] == torch.arange(m, device=x.device)[None, :]).to(y.dtype)  # n, m
    design = torch.cat([onehot.expand(n_win, n, m), z], dim=2)  # N, n, m + R
    dtd = design.transpose(1, 2) @ design
    dty = design.transpose(1, 2) @ y  # N, m + R, K
    best_coef, best_err = None, None
    for lam in grid:
        pen = torch.cat([y.new_zeros(m), y.new_full((r,), lam * n)])
        # a relative jitter keeps the system solvable when a covariate is constant and ridge is 0
        inv = torch.linalg.inv(dtd + torch.diag(pen + 1e-9 * n))
        coef = inv @ dty  # N, m + R, K
        if len(grid) == 1:
            best_coef = coef
            break
        hat = ((design @ inv) * design).sum(dim=2, keepdim=True)  # N, n, 1: leverage of each day
        loo = (y - design @ coef) / (1 - hat).clamp_min(1e-6)  # leave-one-out residuals
        err = loo.abs().mean(dim=1, keepdim=True)  # N, 1, K
        if best_err is None:
            best_coef, best_err = coef, err
        else:
            better = err < best_err
            best_coef = torch.where(better, coef, best_coef)
            best_err = torch.where(better, err, best_err)
    coef = best_coef
    fpos = torch.arange(h, device=x.device) % m
    fdesign = torch.cat(
        [(fpos[:, None] == torch.arange(m, device=x.device)[None, :]).to(y.dtype).expand(n_win, h, m),
         c_future.double() - mu],
        dim=2,
    )  # fmt: skip
    return (fdesign @ coef).to(x.dtype)
