"""Step 5 of the cleaning: short gaps filled, long gaps reported (used by :class:`~sclm.cleaning.GapFiller`).

Each (node, variable, source) series is reindexed to daily over its own first..last day; runs of
up to ``max_gap`` missing days (default 3) are filled (``"seasonal"``: linear interpolation of the
weekday-adjusted series; ``"linear"``: plain time interpolation; ``"weekday"``: median of the same
weekday one and two weeks away); longer runs are **reported** (action ``"reported"``, one audit
row per gap, and the ``gaps_`` table, :data:`GAP_COLUMNS`), never invented.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sclm.cleaning._window import _median_small

__all__ = ["GAP_COLUMNS"]


GAP_COLUMNS: tuple[str, ...] = ("node", "variable", "source", "start", "end", "days", "action", "method")
"""Columns of the ``gaps_`` table (one row per run of missing days inside a series' span)."""


FILL_METHODS: tuple[str, ...] = ("seasonal", "linear", "weekday")
_R_GAP_LONG = "gap_too_long"  # the rule name of a reported gap in the audit


@dataclass(frozen=True)
class _GapConfig:
    max_gap: int
    method: str


def _gaps(
    a: np.ndarray,
    prof: np.ndarray | None,
    mult: np.ndarray,
    nonneg: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    cfg: _GapConfig,
) -> tuple[tuple[np.ndarray, ...] | None, tuple[np.ndarray, ...] | None]:
    """Fill the short runs of missing days of a chunk in place; return the fills and every gap.

    Works on the missing cells only: runs of consecutive NaN inside each row's span
    ``[lo, hi]``, their neighbouring valid days and the weekday profile ``prof``.
    """
    rows, width = a.shape
    flat = np.flatnonzero(np.isnan(a))
    if not len(flat):
        return None, None
    r, c = np.divmod(flat, width)
    keep = (c >= lo[r]) & (c <= hi[r])
    flat, r, c = flat[keep], r[keep], c[keep]
    if not len(flat):
        return None, None
    new_run = np.ones(len(flat), dtype=bool)
    new_run[1:] = (np.diff(flat) != 1) | (r[1:] != r[:-1])
    run_id = np.cumsum(new_run) - 1
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], len(flat)) - 1
    run_row = r[starts]
    s_col = c[starts]
    e_col = c[ends]
    g_len = e_col - s_col + 1
    has_prev = s_col > lo[run_row]
    has_next = e_col < hi[run_row]
    g_fill = (g_len <= cfg.max_gap) & (has_prev | has_next)
    gaps = (run_row, s_col, g_len, g_fill)
    cells = g_fill[run_id]
    if not cells.any():
        return None, gaps
    fr, fc, rid = r[cells], c[cells], run_id[cells]
    pcol = s_col[rid] - 1
    ncol = e_col[rid] + 1
    hp, hn = has_prev[rid], has_next[rid]

    def des(rows_: np.ndarray, cols_: np.ndarray, v: np.ndarray) -> np.ndarray:
        if prof is None or cfg.method == "linear":
            return v
        p = prof[rows_, cols_ % 7]
        return np.where(mult[rows_], v / p, v - p)

    vp = np.where(hp, a[fr, np.clip(pcol, 0, width - 1)], np.nan)
    vn = np.where(hn, a[fr, np.clip(ncol, 0, width - 1)], np.nan)
    vp = des(fr, np.clip(pcol, 0, width - 1), vp)
    vn = des(fr, np.clip(ncol, 0, width - 1), vn)
    t = (fc - pcol) / np.maximum(ncol - pcol, 1)
    est = np.where(hp & hn, vp + (vn - vp) * t, np.where(hp, vp, vn))
    if prof is not None and cfg.method != "linear":
        p = prof[fr, fc % 7]
        est = np.where(mult[fr], est * p, est + p)
    if cfg.method == "weekday":
        same = []
        for k in (-14, -7, 7, 14):
            col = fc + k
            inside = (col >= 0) & (col < width)
            y = np.full(len(fc), np.nan)
            y[inside] = a[fr[inside], col[inside]]
            same.append(y)
        wk, n_wk = _median_small(same)
        est = np.where(n_wk > 0, wk, est)
    est = np.where(nonneg[fr], np.maximum(est, 0.0), est)
    a[fr, fc] = est
    return (fr, fc, est, g_len[rid]), gaps


def _gap_config(max_gap: int, method: str) -> _GapConfig:
    if isinstance(max_gap, bool) or not isinstance(max_gap, int | np.integer) or max_gap < 0:
        raise ValueError(f"max_gap={max_gap!r} is out of range; expected an int >= 0 (days)")
    if method not in FILL_METHODS:
        raise ValueError(f"fill method {method!r} is unknown; expected one of {list(FILL_METHODS)}")
    return _GapConfig(int(max_gap), method)
