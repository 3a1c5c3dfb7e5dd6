"""Step 4 of the cleaning: the outlier rule (used by :class:`~sclm.cleaning.OutlierFilter`).

Outlier rule (recorded in the audit ``rule``/``detail`` and in ``OutlierFilter.rule_``)
---------------------------------------------------------------------------------------
Per series, ``w`` = robust weekday profile (median of each weekday / mean of the seven medians;
additive when a weekday median is ≤ 0 or the series has negative values).  The baseline of day
``t`` is ``b_t = w_t · median{x_{t±1}, x_{t±2}} / w`` (centred rolling median of the
weekday-adjusted series, the day itself excluded).  For non-negative series the residual is
``ℓ = log((x + c) / (b + c))`` with ``c = 1`` for count units (0 otherwise), scale
``σ = 1.4826·MAD(ℓ)`` over the series (at least 0.001) and score ``z = |ℓ| / sqrt(σ² + c / max(b, 1))`` (the second
term is the Poisson variance of a low count).  A value is a **Hampel outlier** when ``z >
threshold`` (default 5), it is a spike ``x ≥ min_ratio·b`` (2) or a drop ``x ≤ b / min_drop_ratio``
(10), it is *isolated* (at least ``min_ratio`` times away from each of its four neighbours, so a
run of genuinely extreme days is kept), it is not an exact zero of a count series (true zeros:
stock-outs, no orders), at least two neighbours exist and the series is not piecewise constant (≥ half of its values equal their
baseline: flags, prices).  Series with negative values use ``ℓ = x - b``, ``z = |ℓ| / σ`` and
isolation ``|x - neighbour| > threshold·σ``.
**Cross-source check** (non-negative series, same node, variable and day): a value that agrees
within ``agree_tol`` (25 %) with any other source is never flagged; a value at least ``min_ratio``
times away from every other source (and, for counts, more than ``4·sqrt(max)`` away) is flagged
when two or more other sources report that day, or, with one other source, when its own ``|ℓ|``
is the larger of the two.

The MAD is computed row-wise on the dense blocks with the NaN-aware median of
:mod:`sclm.cleaning._window`, scaled by the constant of ``scipy.stats.median_abs_deviation``'s
``scale="normal"`` (1/Φ⁻¹(3/4) = 1.482602...; scipy's own ``nan_policy="omit"`` works row by row,
far slower on thousands of series).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri

from sclm.cleaning._window import _nanmedian_rows, _window_median

_MAD_TO_SD = 1.0 / float(ndtri(0.75))  # scipy.stats.median_abs_deviation(scale="normal")
_POISSON_K = 4.0  # cross-source: count differences below 4·sqrt(max) are compatible with counting noise
_R_HAMPEL = "outlier_hampel"
_R_CROSS = "outlier_cross_source"


@dataclass(frozen=True)
class _OutlierConfig:
    threshold: float
    window: int
    min_ratio: float
    min_drop_ratio: float
    cross_source: bool
    agree_tol: float
    protect_zeros: bool


def _outliers(
    a: np.ndarray,
    prof: np.ndarray,
    mult: np.ndarray,
    nonneg: np.ndarray,
    count: np.ndarray,
    gstart: np.ndarray,
    gsize: np.ndarray,
    cfg: _OutlierConfig,
) -> tuple[np.ndarray, ...] | None:
    """Flag and remove (set NaN) the outliers of a chunk; returns the flagged cells or None."""
    rows, width = a.shape
    pc = prof[:, np.arange(width) % 7]
    all_mult, any_mult = bool(mult.all()), bool(mult.any())
    if all_mult:
        z_des = a / pc
    elif not any_mult:
        z_des = a - pc
    else:
        z_des = np.where(mult[:, None], a / pc, a - pc)
    offsets = [k for k in range(-cfg.window, cfg.window + 1) if k != 0]
    b, n_nb = _window_median(z_des, offsets)
    if all_mult:
        b *= pc
    elif not any_mult:
        b += pc
    else:
        b = np.where(mult[:, None], b * pc, b + pc)
    del pc
    cvec = np.where(count, 1.0, 0.0)
    c = cvec[:, None]
    all_log = bool(nonneg.all())
    if all_log:
        ell = np.log((a + c) / (b + c))
    else:
        ell = np.where(nonneg[:, None], np.log((a + c) / (b + c)), a - b)
    dev = np.where(np.isfinite(ell), ell, np.nan)
    med = _nanmedian_rows(dev)
    dev -= med[:, None]
    np.abs(dev, out=dev)
    sig = _MAD_TO_SD * _nanmedian_rows(dev)
    del dev
    sig = np.where(nonneg, np.maximum(sig, 1e-3), sig)
    ties = np.count_nonzero(a == b, axis=1)
    both = np.count_nonzero(~np.isnan(a + b), axis=1)
    degenerate = (2 * ties >= both) | ~(sig > 0)
    score = np.abs(ell)
    if all_log:
        score /= np.sqrt(sig[:, None] ** 2 + c / np.maximum(b, 1.0))
    else:
        score /= np.where(nonneg[:, None], np.sqrt(sig[:, None] ** 2 + c / np.maximum(b, 1.0)), sig[:, None])
    cand = score > cfg.threshold
    cand &= n_nb >= 2
    ratio_ok = (a >= cfg.min_ratio * b) | (a * cfg.min_drop_ratio <= b)
    ratio_ok &= b > 0
    cand &= ratio_ok if all_log else (ratio_ok | ~nonneg[:, None])
    del ratio_ok
    cand &= ~degenerate[:, None]
    if cfg.protect_zeros:
        cand &= ~((a == 0) & count[:, None])
    tr, tc = np.nonzero(cand)
    del cand
    # isolation: at least min_ratio away from every neighbour (weekday-adjusted)
    if len(tr):
        zc = z_des[tr, tc]
        cc = cvec[tr]
        log_c = nonneg[tr]
        sg = sig[tr]
        iso = np.ones(len(tr), dtype=bool)
        lthr = math.log(cfg.min_ratio)
        for k in offsets:
            col = tc + k
            inside = (col >= 0) & (col < width)
            y = np.full(len(tr), np.nan)
            y[inside] = z_des[tr[inside], col[inside]]
            far = np.where(
                log_c, np.abs(np.log((zc + cc) / (y + cc))) > lthr, np.abs(zc - y) > cfg.threshold * sg
            )
            iso &= np.isnan(y) | far
        tr, tc = tr[iso], tc[iso]
    temporal = tr.astype(np.int64) * width + tc
    flagged = temporal
    vetoed = np.empty(0, dtype=np.int64)
    cross = np.empty(0, dtype=np.int64)
    n_other = np.zeros(0, dtype=np.int64)
    cross_cells = np.empty(0, dtype=np.int64)
    multi = (gsize > 1) & nonneg
    if cfg.cross_source and multi.any():
        mrows = np.flatnonzero(multi)
        o1 = np.where(gstart[mrows] == mrows, gstart[mrows] + 1, gstart[mrows])
        xm = a[mrows]
        y1 = a[o1]
        screen = ~np.isnan(xm) & (np.isnan(y1) | (np.fmax(xm, y1) > cfg.min_ratio * np.fmin(xm, y1)))
        sr, sc = np.nonzero(screen)
        del xm, y1, screen
        cells = np.union1d(mrows[sr].astype(np.int64) * width + sc, temporal[multi[tr]])
        if len(cells):
            rr, cc2 = np.divmod(cells, width)
            x = a[rr, cc2]
            cm = count[rr]
            nm = np.zeros(len(cells), dtype=np.int64)
            agree = np.zeros(len(cells), dtype=bool)
            far_all = np.ones(len(cells), dtype=bool)
            oell = np.full(len(cells), np.nan)
            for j in range(int(gsize[mrows].max())):
                orow = gstart[rr] + j
                ok = (j < gsize[rr]) & (orow != rr)
                orow = np.where(ok, orow, rr)
                y = np.where(ok, a[orow, cc2], np.nan)
                v = ~np.isnan(y) & ~np.isnan(x)
                diff = np.abs(x - y)
                mx = np.fmax(x, y)
                mn = np.fmin(x, y)
                nm += v
                agree |= v & (diff <= cfg.agree_tol * mx)
                fr = (mx > cfg.min_ratio * mn) & (~cm | (diff > _POISSON_K * np.sqrt(np.maximum(mx, 1.0))))
                far_all &= ~v | fr
                oell = np.where(v, np.abs(ell[orow, cc2]), oell)
            mine = np.abs(ell[rr, cc2])
            is_cross = (nm > 0) & far_all & ((nm >= 2) | (mine >= np.nan_to_num(oell, nan=0.0)))
            cross = cells[is_cross & ~agree]
            vetoed = cells[agree]
            cross_cells, n_other = cells, nm
        flagged = np.union1d(np.setdiff1d(temporal, vetoed, assume_unique=True), cross)
    if not len(flagged):
        return None
    r, col = np.divmod(flagged, width)
    old = a[r, col].copy()
    z_out = score[r, col]
    ratio = old / b[r, col]
    rule = np.where(np.isin(flagged, temporal), 0, 1).astype(np.int8)
    nother = np.zeros(len(flagged), dtype=np.int64)
    if len(cross_cells):
        pos = np.searchsorted(cross_cells, flagged)
        hit = (pos < len(cross_cells)) & (cross_cells[np.minimum(pos, len(cross_cells) - 1)] == flagged)
        nother[hit] = n_other[pos[hit]]
    a[r, col] = np.nan
    return r, col, old, z_out, ratio, rule, nother


def _outlier_config(
    threshold: float,
    window: int,
    min_ratio: float,
    min_drop_ratio: float,
    cross_source: bool,
    agree_tol: float,
    protect_zeros: bool,
) -> _OutlierConfig:
    def num(name: str, v: Any, ok: bool, expected: str) -> None:
        if isinstance(v, bool) or not isinstance(v, int | float) or not ok:
            raise ValueError(f"{name}={v!r} is out of range; expected {expected}")

    num("outlier threshold", threshold, isinstance(threshold, int | float) and threshold > 0, "a number > 0")
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= 7:
        raise ValueError(f"window={window!r} is out of range; expected an int in 1..7 (days each side)")
    num("min_ratio", min_ratio, isinstance(min_ratio, int | float) and min_ratio > 1, "a number > 1")
    num(
        "min_drop_ratio",
        min_drop_ratio,
        isinstance(min_drop_ratio, int | float) and min_drop_ratio > 1,
        "a number > 1",
    )
    num(
        "agree_tol",
        agree_tol,
        isinstance(agree_tol, int | float) and 0 <= agree_tol < 1,
        "0 <= agree_tol < 1",
    )
    return _OutlierConfig(
        float(threshold),
        int(window),
        float(min_ratio),
        float(min_drop_ratio),
        bool(cross_source),
        float(agree_tol),
        bool(protect_zeros),
    )


def _outlier_rule_text(cfg: _OutlierConfig) -> str:
    w = cfg.window
    text = (
        f"Hampel on log residual from a seasonal baseline b = weekday profile x median(x[t-{w}..t+{w}], t excluded, "
        f"weekday-adjusted); z = |log((x+c)/(b+c))| / sqrt(sigma^2 + c/max(b,1)), sigma = 1.4826*MAD, c = 1 for counts; "
        f"flag z > {cfg.threshold:g} and (x >= {cfg.min_ratio:g}*b or x <= b/{cfg.min_drop_ratio:g}) and isolated "
        f"(x{cfg.min_ratio:g} from each neighbour)"
        + ("; exact zeros of counts kept" if cfg.protect_zeros else "")
    )
    if cfg.cross_source:
        text += (
            f"; cross-source: never flag a value within {cfg.agree_tol:.0%} of another source; flag a value "
            f"x{cfg.min_ratio:g} away from all other sources (>= 2 others, or the larger |residual| of two)"
        )
    return text
