"""Step 3 of the cleaning: the counter's noise rate ``p`` and its correction ``q = q' / (1 - p)``.

The article's counter model ``q' = (1 - p)·q``.  ``p`` is given (float, ``{source: p}`` or
``{(source, variable): p}``) or estimated per (source, variable) against a reference source
(default: ``"erp"`` for ``"iot"``) by :func:`estimate_noise_rate` (binomial thinning; see there).
An estimate outside ``[0, 1)`` warns and is not applied.  Used by
:class:`~sclm.cleaning.NoiseRateCorrector`; ``bench/noise_rate.py`` measures the estimator on
small counts.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from sclm.cleaning._engine import _add_part, _Run, _series_unit
from sclm.cleaning.duplicates import _block_view, _dense

__all__ = ["P_COLUMNS", "estimate_noise_rate"]


P_COLUMNS: tuple[str, ...] = (
    "source",
    "variable",
    "p_hat",
    "ci_low",
    "ci_high",
    "n_days",
    "n_screened",
    "reference",
    "applied",
)
"""Columns of ``NoiseRateCorrector.p_`` (``applied``: whether ``transform`` divides by ``1 - p_hat``)."""


_P_DTYPES: dict[str, type] = {
    "p_hat": np.float64,
    "ci_low": np.float64,
    "ci_high": np.float64,
    "n_days": np.int64,
    "n_screened": np.int64,
    "applied": bool,
}
_R_NOISE = "noise_rate"
_MEDIAN_ABS_Z = 0.6744897501960817  # median of |N(0, 1)|: the dispersion is calibrated to it
_START_EVENTS = 30.0  # expected reference events per group of days in the robust starting value
_MAX_SCREEN_ROUNDS = 20
_KAPPA2_FLOOR = 1e-12  # relative noise of 1e-6: floating-point rounding of an exact ratio is no outlier
_COUNT_SHARE = 0.9  # pairs are integer counts when this share of days has integer values in both


def estimate_noise_rate(
    counter: np.ndarray, reference: np.ndarray, *, trim: float = 4.0, confidence: float = 0.95
) -> dict[str, float]:
    """Estimate the miss rate ``p`` of a counter from days on which a reference also reports.

    Model — binomial thinning (the article's ``q' = (1 - p)·q``): each of the ``reference_i``
    events of day ``i`` is counted with probability ``1 - p``, so ``counter_i ~ Binomial(reference_i,
    1 - p)`` when the reference is exact.  References carry their own noise and both sources have
    bad days (spikes, drops), so the variance is modelled as over-dispersed,
    ``Var(counter_i) = R(1 - R)·reference_i + κ²·(R·reference_i)²`` with ``R = 1 - p``: the
    binomial term plus a relative noise ``κ`` (0 for exact counts) estimated from the data.

    Estimator
    ---------
    1. Start: ``R₀`` = median, over groups of consecutive days holding about 30 reference events
       each (one day each for large counts), of the group's ratio of sums — robust to bad days
       and, unlike a median of daily ratios, not stuck on the atoms of small counts.
    2. Screen: ``κ²`` is the smallest value ≥ 10⁻¹² (rounding) that makes at least half the days have
       ``|z_i| ≤ 0.6745`` (the median of ``|N(0, 1)|``), ``z_i = (counter_i - R·reference_i) /
       sqrt(Var_i)``; a day is set aside when ``|z_i| > trim`` (after a continuity correction of
       0.5 when the pairs are integer counts: at least 90 % of the days integer in both) and its
       binomial tail probability (on the values rounded to integers) is also below ``Φ(-trim)``,
       so the skewed tail of a small count is not mistaken for an outlier.  A day whose counter
       exceeds its reference is impossible under exact thinning: it is evidence of reference
       noise (it raises ``κ²``) and is set aside only when the screen says so (it then has no
       binomial tail to be rescued by).  A day with reference 0 and a positive counter is always
       set aside.
    3. ``R`` = ratio of sums over the kept days (the binomial maximum-likelihood estimate), zero
       counts included; steps 2–3 repeat until the kept days no longer change (at most 20 rounds).
       ``p̂ = 1 - R``; it may fall outside ``[0, 1)`` (a counter that over-counts): the caller
       decides (:class:`NoiseRateCorrector` warns and does not correct).

    Confidence interval — the ratio-of-sums delta method, ``Var(R) = n/(n-1)·Σ(counter_i -
    R·reference_i)² / (Σ reference_i)²`` over the ``n`` kept days (robust to any per-day variance,
    no resampling, so deterministic), floored for integer counts by the binomial variance
    ``R(1 - R) / Σ reference_i`` that thinning alone implies; the interval is Wilson's score
    interval at the effective number of events ``R(1 - R) / Var(R)`` (Wald's ``p̂ ± z·sd`` when
    that is undefined), which keeps its coverage on small counts and small ``p``.

    Parameters
    ----------
    counter, reference
        Shape ``(n,)``: the two sources' values on the same node and day, same unit (NaN,
        infinite or negative pairs are ignored).
    trim
        Screening threshold in model standard deviations (default 4).
    confidence
        Coverage of the interval, in (0, 1).

    Returns
    -------
    dict
        ``p_hat``; ``ci_low``, ``ci_high`` (NaN when fewer than 2 days are kept); ``n_days``
        (kept days with a positive reference); ``n_screened`` (days set aside); ``n_over`` (kept
        days whose counter exceeds the reference); ``dispersion`` (``κ²``, at least 10⁻¹²).  Everything NaN (and
        the counts 0) when no day has a positive reference.
    """
    y = np.asarray(counter, dtype=np.float64).ravel()
    x = np.asarray(reference, dtype=np.float64).ravel()
    if y.shape != x.shape:
        raise ValueError(f"counter and reference differ in length: {y.shape[0]} and {x.shape[0]} days")
    if not (isinstance(trim, int | float) and not isinstance(trim, bool) and trim > 0):
        raise ValueError(f"trim={trim!r} is out of range; expected a positive number of model SDs")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence!r} is out of range; expected 0 < confidence < 1")
    ok = np.isfinite(x) & np.isfinite(y) & (x >= 0) & (y >= 0)
    y, x = y[ok], x[ok]
    info = x > 0
    nan = {
        "p_hat": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "n_days": 0,
        "n_screened": 0,
        "n_over": 0,
        "dispersion": math.nan,
    }
    if not info.any():
        return nan
    counts = bool(np.mean((y == np.round(y)) & (x == np.round(x))) >= _COUNT_SHARE)
    ratio = _start_ratio(y[info], x[info])
    alpha = float(ndtr(-float(trim)))
    keep: np.ndarray | None = None
    kappa2 = 0.0
    for _ in range(_MAX_SCREEN_ROUNDS):
        kappa2, new_keep = _screen(y, x, info, ratio, float(trim), alpha, counts)
        if keep is not None and np.array_equal(new_keep, keep):
            break
        keep = new_keep
        sx = float(x[keep].sum())
        if sx <= 0.0:
            return nan
        ratio = float(y[keep].sum()) / sx
    assert keep is not None
    kept = keep & info
    kx, ky = x[kept], y[kept]
    n = len(kx)
    sx = float(kx.sum())
    ratio = float(ky.sum()) / sx
    p_hat = 1.0 - ratio
    out = {
        "p_hat": p_hat,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "n_days": n,
        "n_screened": int((~keep).sum()),
        "n_over": int((ky > kx).sum()),
        "dispersion": kappa2,
    }
    if n < 2:
        return out
    e = ky - ratio * kx
    var = n / (n - 1) * float(np.dot(e, e)) / sx**2
    binomial = ratio * (1.0 - ratio) / sx
    if counts and binomial > var:
        var = binomial
    zq = float(ndtri(0.5 + confidence / 2.0))
    if 0.0 < ratio < 1.0 and var > 0.0:  # Wilson at the effective number of events
        n_eff = ratio * (1.0 - ratio) / var
        c = zq * zq / n_eff
        mid = (p_hat + c / 2.0) / (1.0 + c)
        half = zq / (1.0 + c) * math.sqrt(p_hat * ratio / n_eff + c / (4.0 * n_eff))
        out["ci_low"], out["ci_high"] = mid - half, mid + half
    else:
        sd = math.sqrt(var)
        out["ci_low"], out["ci_high"] = p_hat - zq * sd, p_hat + zq * sd
    return out


def _start_ratio(y: np.ndarray, x: np.ndarray) -> float:
    """Robust starting ratio: median of the ratios of sums over groups of consecutive days.

    ``y``, ``x``: shape ``(n,)``, ``x > 0``.  A group holds ``ceil(30 / median(x))`` days (at most
    ``n // 5``, at least 1), so its ratio is nearly continuous even for counts of about 1 a day.
    """
    n = len(x)
    k = int(math.ceil(_START_EVENTS / float(np.median(x))))
    k = min(max(k, 1), max(1, n // 5))
    n_g = n // k
    gx = x[: n_g * k].reshape(n_g, k).sum(axis=1)
    gy = y[: n_g * k].reshape(n_g, k).sum(axis=1)
    return float(np.median(gy / gx))


def _screen(
    y: np.ndarray, x: np.ndarray, info: np.ndarray, ratio: float, trim: float, alpha: float, counts: bool
) -> tuple[float, np.ndarray]:
    """One screening round at ``ratio``: the dispersion ``κ²`` and the mask of plausible days."""
    e = y - ratio * x
    b = max(ratio * (1.0 - ratio), 0.0) * x  # binomial variance (0 when the ratio is outside (0, 1))
    m = (ratio * x) ** 2
    # κ²: day i has |z_i| <= 0.6745 iff κ² >= (e_i²/0.6745² - b_i) / m_i; take the median threshold
    ei, bi, mi = e[info], b[info], m[info]
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(mi > 0, (ei * ei / _MEDIAN_ABS_Z**2 - bi) / mi, np.where(ei * ei > 0, np.inf, 0.0))
    half = len(need) // 2
    kappa2 = float(np.partition(need, half)[half])
    kappa2 = max(kappa2, _KAPPA2_FLOOR) if math.isfinite(kappa2) else _KAPPA2_FLOOR
    v = b + kappa2 * m
    dev = np.abs(e)
    if counts:
        dev = np.maximum(dev - 0.5, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = np.where(v > 0, dev <= trim * np.sqrt(v), dev == 0)
    if 0.0 < ratio < 1.0 and not keep.all():
        cand = np.flatnonzero(~keep)
        k, n = np.round(y[cand]), np.round(x[cand])
        has_tail = (k <= n) & (n >= 1)
        cand, k, n = cand[has_tail], k[has_tail], n[has_tail]
        if len(cand):
            from scipy.stats import binom  # imported here: scipy.stats costs ~0.6 s at import sclm

            tail = np.minimum(binom.cdf(k, n, ratio), binom.sf(k - 1, n, ratio))
            keep[cand[tail >= alpha]] = True
    return kappa2, keep


def _check_p(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(
            f"p={value!r} for {what} is not a number; expected 0 <= p < 1 (the fraction of events the counter misses)"
        )
    p = float(value)
    if not (0.0 <= p < 1.0):
        raise ValueError(
            f"p={value!r} for {what} is out of range; expected 0 <= p < 1 "
            "(the fraction of events the counter misses)"
        )
    return p


def _references(reference: Any) -> dict[str, str]:
    if reference is None:
        return {"iot": "erp"}
    if isinstance(reference, str):
        return {"iot": reference}
    if isinstance(reference, Mapping):
        bad = [k for k, v in reference.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise ValueError(
                f"reference: entry {bad[0]!r} is not source -> reference source (both str); "
                "expected e.g. {'iot': 'erp'}"
            )
        same = [k for k, v in reference.items() if k == v]
        if same:
            raise ValueError(f"reference: source {same[0]!r} cannot be its own reference")
        return dict(reference)
    raise ValueError(
        f"reference must be None, a source name or a mapping {{source: reference source}}; got {reference!r}"
    )


def _p_targets(
    p: Any, refs: dict[str, str], pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], float | None]:
    """(source, variable) → given p, or None to estimate, for the pairs present in the data."""
    pairs = list(pairs)
    out: dict[tuple[str, str], float | None] = {}
    if p is None or isinstance(p, int | float | np.integer | np.floating) and not isinstance(p, bool):
        given = None if p is None else _check_p(p, "the counting sources " + ", ".join(sorted(refs)))
        for s, v in pairs:
            if s in refs:
                out[(s, v)] = given
        return out
    if isinstance(p, Mapping):
        by_pair: dict[tuple[str, str], Any] = {}
        by_source: dict[str, Any] = {}
        for k, val in p.items():
            if isinstance(k, tuple) and len(k) == 2 and all(isinstance(x, str) for x in k):
                by_pair[k] = val
            elif isinstance(k, str):
                by_source[k] = val
            else:
                raise ValueError(f"p: key {k!r} is not a source or a (source, variable) pair")
        for k, val in {**{(s, "*"): v for s, v in by_source.items()}, **by_pair}.items():
            if val is not None:
                _check_p(val, f"source {k[0]!r}" + ("" if k[1] == "*" else f", variable {k[1]!r}"))
        for s, v in pairs:
            if (s, v) in by_pair:
                val = by_pair[(s, v)]
            elif s in by_source:
                val = by_source[s]
            else:
                continue
            out[(s, v)] = None if val is None else float(val)
        return out
    raise ValueError(
        f"p must be None (estimate), a number in [0, 1), {{source: p}} or {{(source, variable): p}}; got {p!r}"
    )


def _check_fit_options(trim: float, confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence!r} is out of range; expected 0 < confidence < 1")
    if not (isinstance(trim, int | float) and trim > 0):
        raise ValueError(f"trim={trim!r} is out of range; expected a positive number of model SDs")


def _noise_inputs(
    run: _Run, reference: Any
) -> tuple[
    list[tuple[str, str]], dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
]:
    """What the noise-rate fit needs from one run: the (source, variable) pairs present and the aligned days.

    Returns ``pairs`` (sorted) and, for every pair whose source has a reference, ``(nodes, counts,
    y, x)``: the node labels in order, the days of each, and the aligned values ordered by
    (node, day).  The fit concatenates these over the nodes in label order (one table or the
    partitions of a Dask frame: the same arrays, :func:`_p_table`).
    """
    refs = _references(reference)
    lay = run.layout
    pair_codes = np.unique(np.stack([lay.s_src, lay.s_var], axis=1), axis=0)
    pairs = [(str(run.src_cats[a]), str(run.var_cats[b])) for a, b in pair_codes]
    data = {}
    for s, v in pairs:
        ref = refs.get(s)
        if ref is None:
            continue
        y, x, node = _aligned_pairs(run, s, v, ref)
        starts = np.flatnonzero(np.r_[True, node[1:] != node[:-1]]) if len(node) else np.empty(0, np.int64)
        counts = np.diff(np.append(starts, len(node)))
        data[(s, v)] = (run.node_cats[node[starts]], counts, y, x)
    return pairs, data


def _p_table(
    pairs: list[tuple[str, str]],
    aligned: Mapping[tuple[str, str], tuple[np.ndarray, np.ndarray]],
    p: Any,
    reference: Any,
    trim: float,
    confidence: float,
) -> pd.DataFrame:
    """The ``p_`` table from the pairs present and the aligned ``(y, x)`` days of each (node, day order)."""
    refs = _references(reference)
    targets = _p_targets(p, refs, pairs)
    rows = []
    for (s, v), given in sorted(targets.items()):
        ref = refs.get(s)
        if given is not None:
            rows.append((s, v, given, math.nan, math.nan, 0, 0, "(given)", True))
            continue
        if ref is None:
            raise ValueError(
                f"p for source {s!r}, variable {v!r} is to be estimated but no reference source is set; "
                f"pass reference={{{s!r}: 'erp'}} or give p"
            )
        y, x = aligned.get((s, v), (np.empty(0), np.empty(0)))
        if len(y) == 0:
            warnings.warn(
                f"noise rate of source {s!r}, variable {v!r}: no day on which reference source {ref!r} "
                "reports the same node and variable; not corrected",
                stacklevel=4,
            )
            rows.append((s, v, math.nan, math.nan, math.nan, 0, 0, ref, False))
            continue
        est = estimate_noise_rate(y, x, trim=trim, confidence=confidence)
        p_hat = est["p_hat"]
        applied = bool(0.0 <= p_hat < 1.0)
        if not applied:
            warnings.warn(
                f"noise rate of source {s!r}, variable {v!r} against {ref!r}: estimate p_hat={p_hat:.4f} "
                f"(CI {est['ci_low']:.4f}..{est['ci_high']:.4f}, {est['n_days']} days) is outside [0, 1); "
                "not corrected (applied=False in p_)",
                stacklevel=4,
            )
        rows.append(
            (
                s,
                v,
                p_hat,
                est["ci_low"],
                est["ci_high"],
                int(est["n_days"]),
                int(est["n_screened"]),
                ref,
                applied,
            )
        )
    table = pd.DataFrame(rows, columns=list(P_COLUMNS))
    return table.astype(_P_DTYPES)


def _fit_noise(run: _Run, p: Any, reference: Any, trim: float, confidence: float) -> pd.DataFrame:
    """The ``p_`` table for the (source, variable) pairs to correct."""
    _check_fit_options(trim, confidence)
    pairs, data = _noise_inputs(run, reference)
    return _p_table(pairs, {k: (d[2], d[3]) for k, d in data.items()}, p, reference, trim, confidence)


def _aligned_pairs(
    run: _Run, source: str, variable: str, reference: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values of ``source`` and ``reference`` on the same node and day (both present), and the node code.

    1-D, ordered by (node, day) whatever the block layout, so that a table split by node gives
    the same arrays piece by piece.
    """
    lay = run.layout
    x = _dense(run)
    empty = (np.empty(0), np.empty(0), np.empty(0, dtype=np.int64))
    si = np.searchsorted(run.src_cats, source)
    ri = np.searchsorted(run.src_cats, reference)
    vi = np.searchsorted(run.var_cats, variable)
    if ri >= len(run.src_cats) or run.src_cats[ri] != reference:
        return empty
    n_src = len(run.src_cats)
    gmap = np.full(len(lay.g_start) * n_src, -1, dtype=np.int64)
    gmap[lay.s_gid * n_src + lay.s_src] = np.arange(lay.n_series)
    ser = np.flatnonzero((lay.s_src == si) & (lay.s_var == vi))
    ref = gmap[lay.s_gid[ser] * n_src + ri]
    ser, ref = ser[ref >= 0], ref[ref >= 0]
    ys, xs, ss = [], [], []
    for b_i, b in enumerate(lay.blocks):
        sel = lay.s_block[ser] == b_i
        if not sel.any():
            continue
        view = x[b.off : b.off + b.rows * b.width].reshape(b.rows, b.width)
        yy = view[lay.s_row[ser[sel]]]
        xx = view[lay.s_row[ref[sel]]]
        ok = ~np.isnan(yy) & ~np.isnan(xx)
        ys.append(yy[ok])
        xs.append(xx[ok])
        ss.append(np.repeat(ser[sel], ok.sum(axis=1)))
    if not ys:
        return empty
    y, xv, s = np.concatenate(ys), np.concatenate(xs), np.concatenate(ss)
    if len(ys) > 1:  # several blocks: back to series (node, then day) order
        order = np.argsort(s, kind="stable")
        y, xv, s = y[order], xv[order], s[order]
    return y, xv, lay.s_node[s].astype(np.int64)


def _apply_noise(run: _Run, table: pd.DataFrame) -> None:
    """Divide the counter series by ``1 - p``; audit every value that changes."""
    lay = run.layout
    p_hat = table["p_hat"]
    applied = table["applied"] if "applied" in table else True
    usable = table[applied & np.isfinite(p_hat) & (p_hat >= 0.0) & (p_hat < 1.0) & (p_hat != 0.0)]
    if not len(usable):
        return
    _dense(run)
    s_p = np.zeros(lay.n_series)
    s_detail = np.empty(lay.n_series, dtype=object)
    for row in usable.itertuples(index=False):  # one per (source, variable)
        si = np.searchsorted(run.src_cats, row.source)
        vi = np.searchsorted(run.var_cats, row.variable)
        if si >= len(run.src_cats) or run.src_cats[si] != row.source:
            continue
        if vi >= len(run.var_cats) or run.var_cats[vi] != row.variable:
            continue
        sel = (lay.s_src == si) & (lay.s_var == vi)
        s_p[sel] = row.p_hat
        if row.reference == "(given)":
            s_detail[sel] = f"q = q'/(1-p), p={row.p_hat:g} (given)"
        else:
            s_detail[sel] = (
                f"q = q'/(1-p), p={row.p_hat:.4f} estimated vs {row.reference} "
                f"(CI {row.ci_low:.4f}..{row.ci_high:.4f}, {row.n_days} days, {row.n_screened} set aside)"
            )
    s_unit = run.s_unit if run.s_unit is not None else _series_unit(run)
    for b in lay.blocks:
        rows = np.flatnonzero(s_p[b.series] != 0.0)
        if not len(rows):
            continue
        view = _block_view(run, b)
        sub = view[rows]
        den = 1.0 - s_p[b.series[rows]][:, None]
        new = sub / den
        changed = ~np.isnan(sub) & (new != sub)
        r_i, c_i = np.nonzero(changed)
        sid = b.series[rows[r_i]]
        _add_part(
            run,
            sid,
            lay.g_first[lay.s_gid[sid]] + c_i,
            _R_NOISE,
            "changed",
            sub[r_i, c_i],
            new[r_i, c_i],
            s_unit[sid],
            s_unit[sid],
            s_detail[sid],
        )
        view[rows] = new
