"""Private engine: reductions over the short sources axis of a (node, day, source) array."""

from __future__ import annotations

import numpy as np


def _last(x: np.ndarray, op: np.ufunc) -> np.ndarray:
    """Reduce the short last axis (the sources) column by column: faster than ``op.reduce``."""
    out = x[..., 0].copy()
    for j in range(1, x.shape[-1]):
        op(out, x[..., j], out=out)
    return out


def _row_median(A: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Median over the last axis of the non-NaN entries (NaN where none); exact, A is (..., S)."""
    n = _last(present.astype(np.int8), np.add)
    full = n == A.shape[-1]
    if A.shape[-1] == 3:  # median of three by min/max, exact
        a, b, c = A[..., 0], A[..., 1], A[..., 2]
        out = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
        if full.all():
            return out
        part = ~full
    else:
        out = np.full(A.shape[:-1], np.nan)
        part = np.ones(A.shape[:-1], dtype=bool)
    s = np.sort(A[part], axis=-1)  # NaN last
    k = n[part].astype(np.int64)
    lo = np.maximum((k - 1) // 2, 0)
    hi = np.where(k > 0, k // 2, 0)
    med = (np.take_along_axis(s, lo[:, None], -1)[:, 0] + np.take_along_axis(s, hi[:, None], -1)[:, 0]) / 2
    out[part] = np.where(k > 0, med, np.nan)
    return out
