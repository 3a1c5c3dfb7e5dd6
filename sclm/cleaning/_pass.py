"""Private: the outlier and gap pass over the dense blocks, chunk by chunk on a few threads."""

from __future__ import annotations

import os
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from sclm.cleaning._engine import _add_part, _Block, _days_to_ts, _Run, _series_unit
from sclm.cleaning._window import _profile
from sclm.cleaning.duplicates import _block_view, _dense
from sclm.cleaning.gaps import _R_GAP_LONG, _GapConfig, _gaps
from sclm.cleaning.outliers import _R_CROSS, _R_HAMPEL, _OutlierConfig, _outliers
from sclm.cleaning.units import CASE_UNITS, COUNT_UNITS


def _is_count(run: _Run, count_units: Collection[str] | None) -> np.ndarray:
    """(S,) whether each series counts items (its unit is a count or case unit)."""
    units = COUNT_UNITS | CASE_UNITS if count_units is None else frozenset(count_units)
    s_unit = run.s_unit if run.s_unit is not None else _series_unit(run)
    return np.isin(run.unit_cats, list(units))[s_unit]


def _n_workers(n_jobs: int | None, n_tasks: int) -> int:
    """Threads for the chunk loop: ``n_jobs`` (None: up to 4, the CPUs there are; -1: all)."""
    cpus = os.cpu_count() or 1
    if n_jobs is None:
        n = min(4, cpus)
    elif n_jobs < 0:
        n = cpus
    else:
        n = n_jobs
    return max(1, min(n, n_tasks))


def _dense_pass(
    run: _Run,
    ocfg: _OutlierConfig | None,
    gcfg: _GapConfig | None,
    count_units: Collection[str] | None,
    n_jobs: int | None = None,
) -> None:
    """Outlier removal then gap filling, chunk by chunk over the dense blocks; audit the cells."""
    lay = run.layout
    x = _dense(run)
    s_count = _is_count(run, count_units)
    s_unit = run.s_unit if run.s_unit is not None else _series_unit(run)
    out_parts: list[tuple[np.ndarray, ...]] = []  # sid, day, old, z, ratio, rule, n_other, cell
    fill_parts: list[tuple[np.ndarray, ...]] = []  # sid, day, value, glen, cell
    gap_parts: list[tuple[np.ndarray, ...]] = []  # sid, start day, length, filled
    tasks = [(b, r0, r1) for b in lay.blocks for r0, r1 in b.chunks]

    def work(task: tuple[_Block, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        b, r0, r1 = task
        series = b.series[r0:r1]
        gf = lay.g_first[lay.s_gid[series]]
        res = _chunk(
            _block_view(run, b)[r0:r1],
            count=s_count[series],
            lo=lay.s_first[series] - gf,
            hi=lay.s_last[series] - gf,
            gstart=np.arange(r1 - r0) - (series - lay.g_start[lay.s_gid[series]]),
            gsize=lay.g_size[lay.s_gid[series]],
            ocfg=ocfg,
            gcfg=gcfg,
        )
        base = b.off + np.arange(r0, r1, dtype=np.int64) * b.width
        return series, gf, base, res

    # chunks are independent (rows of one (node, variable) stay in one chunk) and numpy releases
    # the GIL, so threads help; results are gathered in chunk order (deterministic)
    workers = _n_workers(n_jobs, len(tasks))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(work, tasks))
    else:
        results = [work(t) for t in tasks]
    for series, gf, base, res in results:
        if res["out"] is not None:
            r, c, old, z, ratio, rule, nother = res["out"]
            out_parts.append((series[r], gf[r] + c, old, z, ratio, rule, nother, base[r] + c))
        if res["fill"] is not None:
            r, c, val, glen = res["fill"]
            fill_parts.append((series[r], gf[r] + c, val, glen, base[r] + c))
        if res["gaps"] is not None:
            r, c, glen, filled = res["gaps"]
            gap_parts.append((series[r], gf[r] + c, glen, filled))
    del results

    def cat(parts: list[tuple[np.ndarray, ...]], i: int) -> np.ndarray:
        return np.concatenate([p[i] for p in parts])

    rowof = run.rowof
    assert rowof is not None
    method = gcfg.method if gcfg is not None else ""
    if out_parts:
        sid, day, old, z, ratio, rule, nother, cell = (cat(out_parts, i) for i in range(8))
        new = x[cell]
        filled = ~np.isnan(new)
        rows = rowof[cell]
        run.alive[rows[~filled]] = False
        rowof[cell[~filled]] = -1
        assert ocfg is not None
        k = ocfg.threshold
        detail = np.empty(len(sid), dtype=object)
        for i in range(len(sid)):  # one string per flagged value (rare)
            if rule[i] == 0:
                txt = f"z={z[i]:.1f} > {k:g}, x/baseline={ratio[i]:.3g}"
            else:
                txt = f"disagrees (x{ocfg.min_ratio:g}+) with all {int(nother[i])} other source(s), x/baseline={ratio[i]:.3g}"
            detail[i] = txt + (f"; replaced by {method} fill" if filled[i] else "; removed")
        rules = np.where(rule == 0, _R_HAMPEL, _R_CROSS).astype(object)
        for action, m in (("changed", filled), ("dropped", ~filled)):
            if m.any():
                _add_part(
                    run,
                    sid[m],
                    day[m],
                    rules[m],
                    action,
                    old[m],
                    new[m] if action == "changed" else np.nan,
                    s_unit[sid[m]],
                    s_unit[sid[m]] if action == "changed" else -1,
                    detail[m],
                )
    if fill_parts:
        sid, day, val, glen, cell = (cat(fill_parts, i) for i in range(5))
        missing = rowof[cell] < 0  # a day with no reading (not a replaced outlier)
        if missing.any():
            sid, day, val, glen = sid[missing], day[missing], val[missing], glen[missing]
            uniq, inv = np.unique(glen, return_inverse=True)
            dstr = np.array(
                [f"gap of {g} day(s) <= max_gap={gcfg.max_gap if gcfg else 0}" for g in uniq], dtype=object
            )
            _add_part(run, sid, day, f"gap_{method}", "filled", np.nan, val, -1, s_unit[sid], dstr[inv])
            run.fills.append((sid, day, val))
    if gap_parts:
        sid, start, glen, filled = (cat(gap_parts, i) for i in range(4))
        run.gaps.append((sid, start, glen, filled, method))
        long = ~filled
        if long.any():
            assert gcfg is not None
            s2, st2, g2 = sid[long], start[long], glen[long]
            detail = np.array(
                [
                    f"gap of {g} day(s) {pd.Timestamp(_days_to_ts(np.array([s]))[0]).date()}.."
                    f"{pd.Timestamp(_days_to_ts(np.array([s + g - 1]))[0]).date()} > max_gap={gcfg.max_gap}; "
                    "left missing"
                    for s, g in zip(st2, g2, strict=True)
                ],
                dtype=object,
            )
            _add_part(run, s2, st2, _R_GAP_LONG, "reported", np.nan, np.nan, s_unit[s2], s_unit[s2], detail)


def _chunk(
    a: np.ndarray,
    *,
    count: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    gstart: np.ndarray,
    gsize: np.ndarray,
    ocfg: _OutlierConfig | None,
    gcfg: _GapConfig | None,
) -> dict[str, Any]:
    """Outliers and gaps on one chunk ``a`` (rows × days, a writable view; NaN = no reading).

    ``lo``/``hi``: each row's own first/last column; ``gstart``/``gsize``: the chunk row of the first
    series of its (node, variable) group and the group size (rows of one group are adjacent).
    """
    res: dict[str, Any] = {"out": None, "fill": None, "gaps": None}
    nonneg = ~(a < 0).any(axis=1)
    prof: np.ndarray | None = None
    mult = np.zeros(a.shape[0], dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if ocfg is not None:
            prof, mult = _profile(a, nonneg)
            res["out"] = _outliers(a, prof, mult, nonneg, count, gstart, gsize, ocfg)
        if gcfg is not None:
            if prof is None and gcfg.method != "linear":
                prof, mult = _profile(a, nonneg)
            res["fill"], res["gaps"] = _gaps(a, prof, mult, nonneg, lo, hi, gcfg)
    return res
