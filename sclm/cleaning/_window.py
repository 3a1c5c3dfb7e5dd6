"""Private: NaN-aware medians over the rows and windows of the dense blocks, and the weekday profile.

Vectorised numpy only (sorting networks for the few-value medians); used by the outlier and gap
steps (:mod:`sclm.cleaning.outliers`, :mod:`sclm.cleaning.gaps`).
"""

from __future__ import annotations

import numpy as np


def _nanmedian_rows(m: np.ndarray) -> np.ndarray:
    """Exact NaN-ignoring median of each row of a 2-D float array (NaN for an all-NaN row).

    Sorts each row (numpy's vectorised sort puts NaN last) and averages the two middle valid values.
    """
    rows, width = m.shape
    if width == 0 or rows == 0:
        return np.full(rows, np.nan)
    s = np.sort(m, axis=1)
    n = width - np.isnan(s).sum(axis=1)
    lo = np.maximum((n - 1) // 2, 0)
    hi = np.minimum(n // 2, width - 1)
    r = np.arange(rows)
    med = 0.5 * (s[r, lo] + s[r, hi])
    med[n == 0] = np.nan
    return med


def _sorting_network(k: int) -> list[tuple[int, int]]:
    """Odd-even transposition network: comparators that sort ``k`` values."""
    return [(i, i + 1) for rnd in range(k) for i in range(rnd % 2, k - 1, 2)]


def _median_small(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise NaN-ignoring median of a few same-shape arrays, and the count of valid values.

    A sorting network (NaN as +inf) then a pick by count: ``O(k²)`` vector operations, no sort call.
    """
    k = len(arrays)
    count = np.zeros(arrays[0].shape, dtype=np.int64)
    vals = []
    for a in arrays:
        nan = np.isnan(a)
        count += ~nan
        vals.append(np.where(nan, np.inf, a))
    for i, j in _sorting_network(k):
        lo = np.minimum(vals[i], vals[j])
        np.maximum(vals[i], vals[j], out=vals[j])
        vals[i] = lo
    lo_i = np.maximum((count - 1) // 2, 0)
    hi_i = np.minimum(count // 2, k - 1)
    med = 0.5 * (np.choose(lo_i, vals) + np.choose(hi_i, vals))
    med[count == 0] = np.nan
    return med, count


def _window_median(z: np.ndarray, offsets: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """NaN-ignoring median of ``z[:, j + k]`` over ``k`` in ``offsets`` for every cell, and the count.

    Shifted copies padded with +inf, a sorting network, then the middle value(s); the few cells
    with fewer than ``len(offsets)`` valid neighbours are recomputed by count.
    """
    rows, width = z.shape
    m = len(offsets)
    zi = np.where(np.isnan(z), np.inf, z)
    valid = np.isfinite(zi)
    count = np.zeros((rows, width), dtype=np.int8)
    vals = []
    for k in offsets:
        v = np.full((rows, width), np.inf)
        if 0 < k < width:
            v[:, : width - k] = zi[:, k:]
            count[:, : width - k] += valid[:, k:]
        elif -width < k < 0:
            v[:, -k:] = zi[:, : width + k]
            count[:, -k:] += valid[:, : width + k]
        vals.append(v)
    del zi, valid
    for i, j in _sorting_network(m):
        lo = np.minimum(vals[i], vals[j])
        np.maximum(vals[i], vals[j], out=vals[j])
        vals[i] = lo
    med = 0.5 * (vals[(m - 1) // 2] + vals[m // 2])
    fix = np.flatnonzero(count.ravel() != m)
    if len(fix):
        cnt = count.ravel()[fix].astype(np.int64)
        sv = [v.ravel()[fix] for v in vals]
        lo_i = np.maximum((cnt - 1) // 2, 0)
        hi_i = np.minimum(cnt // 2, m - 1)
        mf = 0.5 * (np.choose(lo_i, sv) + np.choose(hi_i, sv))
        mf[cnt == 0] = np.nan
        med.ravel()[fix] = mf
    return med, count


def _profile(a: np.ndarray, nonneg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weekday profile per row, by column phase (column mod 7).

    Returns ``(prof, mult)``: ``prof`` (rows, 7) is the median of each phase divided by the mean of
    the seven (rows where ``mult``: a non-negative series whose phase medians are all > 0), else
    the phase median minus their mean (additive); neutral (1 or 0) when a phase has fewer than 2
    values.  Only ratios (or differences) of the profile enter the baseline and the fills, so the
    normalisation does not matter.
    """
    rows, width = a.shape
    med = np.full((rows, 7), np.nan)
    cnt = np.zeros((rows, 7), dtype=np.int64)
    for ph in range(min(7, width)):
        sub = a[:, ph::7]
        med[:, ph] = _nanmedian_rows(sub)
        cnt[:, ph] = (~np.isnan(sub)).sum(axis=1)
    enough = (cnt >= 2).all(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        level = med.mean(axis=1)
        mult = enough & nonneg & (med > 0).all(axis=1)
        prof = np.where(mult[:, None], med / level[:, None], med - level[:, None])
    prof[~enough] = 0.0
    bad = ~np.isfinite(prof)
    prof[bad] = np.where(np.broadcast_to(mult[:, None], prof.shape)[bad], 1.0, 0.0)
    return prof, mult
