"""Filling: the days of a node that no source covers, by linear interpolation in time."""

from __future__ import annotations

import numpy as np

__all__ = ["FILL_METHODS"]

FILL_METHODS: tuple[str, ...] = ("linear",)
"""How :class:`~sclm.fusion.SourceFuser` fills days with no source (``fill=None`` leaves NaN)."""


def _fill(F: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear interpolation along days (axis 1) within each node; nearest value at the ends.

    Parameters
    ----------
    F
        Shape ``(N, D)``, NaN where no source reported.

    Returns
    -------
    filled : numpy.ndarray
        Shape ``(N, D)``; NaN only in rows with no value at all.
    interpolated, extended : numpy.ndarray
        Shape ``(N, D)`` bool: filled between two values / before the first or after the last.
    """
    valid = ~np.isnan(F)
    if valid.all():
        z = np.zeros_like(valid)
        return F, z, z
    n_nodes, n_days = F.shape
    ix = np.arange(n_days)
    prev = np.maximum.accumulate(np.where(valid, ix, -1), axis=1)
    nxt = np.minimum.accumulate(np.where(valid, ix, n_days)[:, ::-1], axis=1)[:, ::-1]
    gap = ~valid
    has_prev, has_next = prev >= 0, nxt < n_days
    rows = np.arange(n_nodes)[:, None]
    fp = F[rows, np.clip(prev, 0, n_days - 1)]
    fn = F[rows, np.clip(nxt, 0, n_days - 1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (ix[None, :] - prev) / (nxt - prev)
        between = fp + (fn - fp) * frac
    interpolated = gap & has_prev & has_next
    extended = gap & (has_prev ^ has_next)
    out = F.copy()
    out[interpolated] = between[interpolated]
    ends = np.where(has_prev, fp, fn)
    out[extended] = ends[extended]
    return out, interpolated, extended
