"""Source-noise estimation (three-cornered hat): σ̂ of each source from the pairwise differences.

A source ``s`` reports ``y_s = x·(1 + σ_s·ε_s)`` with independent ``ε_s ~ N(0, 1)`` (the
scenarios' multiplicative noise).  On the days two sources ``a`` and ``b`` both report, the
*symmetric relative difference*

.. math::  r_{ab} = (y_a - y_b) / ((|y_a| + |y_b|) / 2) \\approx σ_a ε_a - σ_b ε_b

has variance ``σ_a² + σ_b²`` (to first order in σ; it is bounded in [-2, 2] and defined when one
value is 0, unlike a log-ratio; days where both are 0 are skipped).  Its variance ``v_ab`` is
measured robustly (``spread="screened"``, see :data:`SPREADS`): the differences farther than
4 robust sd (``MAD / Φ⁻¹(3/4)`` ≈ 1.4826·MAD) from their median are set aside and the variance of
the rest is taken around its mean, corrected for the truncation; so leftover outliers do not
inflate it, and neither does a constant bias between two sources (e.g. an uncorrected IoT
undercount, visible in ``pairs_.median_diff``).  ``spread="mad"`` gives the plain ``(MAD / Φ⁻¹(3/4))²``.

With ``k >= 3`` sources the ``k(k-1)/2`` equations ``σ_a² + σ_b² = v_ab`` are solved by
non-negative least squares, each pair weighted by ``n_ab / v_ab²`` (the inverse variance of a
variance estimate from ``n_ab`` days; exact for k = 3), and every ``σ_s²`` is clipped below at
``1e-6 × max(v_ab)`` so no weight is infinite.  With ``noise="absolute"`` the plain
difference ``y_a - y_b`` is used and σ is in the variable's unit.

* exactly 2 sources: only ``σ_a² + σ_b²`` is identifiable.  With ``borrow=True`` (default),
  when one of the two was identified by a three-cornered hat in another variable of the same
  group, its σ̂² is borrowed (median over those variables) and the other is
  ``v_ab - σ̂_a²`` (method ``"borrowed: 2 sources, sigma of <a> from <variables>"``; assumes a
  source's relative noise does not depend on the variable; skipped when inconsistent,
  ``v_ab < σ̂_a²``).  Otherwise both get ``σ̂² = v_ab / 2`` and equal weights, method
  ``"equal: 2 sources"``;
* 1 source: weight 1, ``σ̂`` NaN, method ``"single source"``;
* ``k >= 3`` sources whose overlap graph is bipartite (no odd cycle, so not identifiable):
  equal weights, ``σ̂² = median(v_ab) / 2``, method ``"equal: not identifiable"``;
* a source that never shares ``min_overlap`` days with another: method ``"no overlap"``,
  weight 1 where it is alone (e.g. ERP demand on DCs, POS demand on stores); on the few days
  it does meet another source it counts like the noisiest identified source of its group.

Leftover outliers: the robust spread keeps them out of σ̂; and with ``reject`` (default 6),
in a cell where >= 3 sources report, a reading more than ``reject·sqrt(σ̂_s² + max σ̂²)``
(relative: times the cell median) from the cell's median is dropped before weighting and
counted in ``rejected_``.  With 2 sources in a cell nothing can be told apart: cleaning's job.

Pairs and components are formed per estimation group (``weights_by``): the whole variable
(default), the node type, or the node.  The inverse-variance fused value of a cell is
``Σ_s w_s y_s / Σ_s w_s`` with ``w_s = 1/σ̂_s²`` over the sources present that day (the weights
renormalise when a source is missing); the noise being multiplicative, ``σ_s x`` scales every
source of a cell by the same ``x``, so relative σ's give the right weights.

Nothing is read from a simulator's truth or meta: the weights come from the readings only.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.optimize import nnls
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.special import ndtri

from sclm._labels import sorted_codes
from sclm.fusion._table import _Table, _Var

__all__ = ["NOISE_KINDS", "SPREADS", "WEIGHTS_BY"]

_FLOOR_REL = 1e-6  # σ̂² >= _FLOOR_REL · max(v_ab) (and >= _FLOOR_ABS): no infinite weight
_FLOOR_ABS = 1e-20

WEIGHTS_BY: tuple[str, ...] = ("variable", "node_type", "node")
"""Scope of one noise estimate: per variable, per (variable, node type), per (variable, node)."""

NOISE_KINDS: tuple[str, ...] = ("relative", "absolute")
"""``relative``: σ is a fraction of the value (multiplicative noise); ``absolute``: in the unit."""

SPREADS: tuple[str, ...] = ("screened", "mad", "variance")
"""How the variance of pairwise differences is measured.

* ``screened`` (default): the sample variance of the differences within 4 robust sd (the
  normal-consistent MAD, ``MAD / Φ⁻¹(3/4)`` ≈ ``1.4826·MAD``) of their median, divided by the
  variance of a standard normal truncated at ±4 (0.9989) — robust to outliers like the MAD,
  nearly as efficient as the plain variance on Gaussian noise (the MAD alone has 37 %
  efficiency, i.e. needs ~2.7× the days);
* ``mad``: the square of that robust sd, ``(MAD / Φ⁻¹(3/4))²``;
* ``variance``: the plain sample variance (not robust).
"""


_SCREEN_K = 4.0
# Variance of a standard normal truncated to ±k (scipy's truncnorm.var(-k, k), in closed form so
# that importing the module does not import scipy.stats): 1 - 2kφ(k) / (2Φ(k) - 1) = 0.99893.
_SCREEN_CORRECTION = 1.0 - 2.0 * _SCREEN_K * math.exp(-0.5 * _SCREEN_K**2) / math.sqrt(
    2.0 * math.pi
) / math.erf(_SCREEN_K / math.sqrt(2.0))
_NORMAL_MAD_SCALE = float(ndtri(0.75))  # Φ⁻¹(3/4): median_abs_deviation's scale="normal"


class _VarNoise(NamedTuple):
    """Noise estimates of one variable: G estimation groups, S_v sources, P pairs of them."""

    var: _Var
    n_days: np.ndarray  # (G, S_v) int: node-days each source reports (observed readings)
    pairs: list[tuple[int, int]]  # (P,) source pairs (a, b), a < b
    n_ab: np.ndarray  # (G, P) int: days both report
    m_ab: np.ndarray  # (G, P) median difference
    v_ab: np.ndarray  # (G, P) variance of the differences (see SPREADS)
    sigma2: np.ndarray  # (G, S_v) σ̂² (NaN: not estimable)
    raw: np.ndarray  # (G, S_v) raw weight 1/σ̂² (1 for a lone source; NaN: no data)
    comp: np.ndarray  # (G, S_v) int: overlap component of the source (-1: no data)
    how: np.ndarray  # (G, S_v) object: how σ̂ was obtained (WEIGHT_COLUMNS' "method")


def _group_median(x: np.ndarray, g: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``x`` within each group code ``g`` (NaN for empty groups), vectorised over groups."""
    order = np.lexsort((x, g))
    xs = x[order]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    lo = np.minimum(starts + (counts - 1) // 2, max(len(xs) - 1, 0))
    hi = np.minimum(starts + counts // 2, max(len(xs) - 1, 0))
    if not len(xs):
        return np.full(n_groups, np.nan)
    return np.where(counts > 0, (xs[lo] + xs[hi]) / 2.0, np.nan)


def _median_and_mad(d: np.ndarray, g: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group code ``g``: the median of ``d`` and its normal-consistent MAD (NaN for empty groups).

    The MAD is :func:`scipy.stats.median_abs_deviation` with ``scale="normal"``
    (``MAD / Φ⁻¹(3/4)``, the sd of Gaussian data); both results have shape ``(n_groups,)``.
    One group (``weights_by="variable"``) takes scipy's formula with the median computed once; several groups (node types, nodes: up to
    thousands, a scipy call costs ~0.1–1 ms) take the same medians vectorised over the groups,
    equal to scipy's per group (tested).
    """
    if n_groups == 1:
        if not len(d):
            return np.array([np.nan]), np.array([np.nan])
        # scipy's formula (median of |d - median| / Φ⁻¹(3/4)) with the median taken once
        centre = np.median(d)
        return np.array([centre]), np.array([np.median(np.abs(d - centre)) / _NORMAL_MAD_SCALE])
    centre = _group_median(d, g, n_groups)
    return centre, _group_median(np.abs(d - centre[g]), g, n_groups) / _NORMAL_MAD_SCALE


def _spread(d: np.ndarray, g: np.ndarray, n_groups: int, spread: str) -> tuple[np.ndarray, np.ndarray]:
    """Per group: (centre, variance) of the differences ``d`` — see :data:`SPREADS`."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if spread == "variance":
            n = np.bincount(g, minlength=n_groups)
            centre = np.bincount(g, weights=d, minlength=n_groups) / n
            var = np.bincount(g, weights=(d - centre[g]) ** 2, minlength=n_groups) / (n - 1)
            return centre, var
        centre, sd = _median_and_mad(d, g, n_groups)
        if spread == "mad":
            return centre, sd**2
        keep = np.abs(d - centre[g]) <= _SCREEN_K * sd[g]
        gk, dk = g[keep], d[keep]
        n = np.bincount(gk, minlength=n_groups)
        mean = np.bincount(gk, weights=dk, minlength=n_groups) / n
        var = np.bincount(gk, weights=(dk - mean[gk]) ** 2, minlength=n_groups) / (n - 1)
        return centre, var / _SCREEN_CORRECTION


def _components(k: int, edges: list[tuple[int, int]]) -> list[list[int]]:
    """Connected components of the graph on ``k`` sources with undirected ``edges``.

    Each component lists its members ascending; components come in the order of their
    smallest member (so component numbers are stable).
    """
    if not edges:
        return [[i] for i in range(k)]
    a, b = np.asarray(edges, dtype=np.int64).T
    graph = coo_array((np.ones(len(a)), (a, b)), shape=(k, k))
    _, labels = connected_components(graph, directed=False)
    comps: dict[int, list[int]] = {}
    for i, label in enumerate(labels.tolist()):
        comps.setdefault(label, []).append(i)
    return list(comps.values())


def _solve_group(
    active: np.ndarray, pairs: list[tuple[int, int]], n_ab: np.ndarray, v_ab: np.ndarray, min_overlap: int
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """σ̂², raw fusion weight, method and overlap component of each source of one estimation group.

    Parameters
    ----------
    active
        Shape ``(S_v,)`` bool: the source has readings in this group.
    pairs, n_ab, v_ab
        The source pairs ``(a, b)``, their overlapping days and difference variances (length P).
    """
    k = len(active)
    component = np.full(k, -1, dtype=np.int64)
    sigma2 = np.full(k, np.nan)
    raw = np.full(k, np.nan)
    method = [""] * k
    usable = [p for p in range(len(pairs)) if n_ab[p] >= min_overlap and np.isfinite(v_ab[p])]
    idx = np.flatnonzero(active)
    local = {int(j): i for i, j in enumerate(idx)}
    comps = _components(len(idx), [(local[pairs[p][0]], local[pairs[p][1]]) for p in usable])
    vmax = max([v_ab[p] for p in usable], default=0.0)
    floor = max(_FLOOR_REL * vmax, _FLOOR_ABS)
    lone: list[int] = []
    for c, comp_local in enumerate(comps):
        comp = [int(idx[i]) for i in comp_local]
        component[comp] = c
        members = set(comp)
        rows = [p for p in usable if pairs[p][0] in members and pairs[p][1] in members]
        if len(comp) == 1:
            j = comp[0]
            raw[j] = 1.0
            method[j] = "single source" if len(idx) == 1 else "no overlap"
            lone.append(j)
            continue
        v = np.array([v_ab[p] for p in rows])
        if len(comp) == 2:
            s2 = max(float(v[0]) / 2.0, floor)
            for j in comp:
                sigma2[j], raw[j], method[j] = s2, 1.0 / s2, "equal: 2 sources"
            continue
        pos = {j: i for i, j in enumerate(comp)}
        D = np.zeros((len(rows), len(comp)))
        for r, p in enumerate(rows):
            D[r, pos[pairs[p][0]]] = D[r, pos[pairs[p][1]]] = 1.0
        if np.linalg.matrix_rank(D) < len(comp):
            s2 = max(float(np.median(v)) / 2.0, floor)
            for j in comp:
                sigma2[j], raw[j], method[j] = s2, 1.0 / s2, "equal: not identifiable"
            continue
        w = np.sqrt(np.array([n_ab[p] for p in rows]) / np.maximum(v, floor) ** 2)
        x, _ = nnls(D * w[:, None], v * w)
        x = np.maximum(x, floor)
        for j in comp:
            sigma2[j], raw[j] = x[pos[j]], 1.0 / x[pos[j]]
            method[j] = f"three-cornered hat: {len(comp)} sources"
    known = np.isfinite(sigma2)
    if lone and known.any():  # met others too rarely to estimate: trust it like the worst known
        raw[lone] = float(np.min(raw[known]))
    return sigma2, raw, method, component


def _group_codes(t: _Table, weights_by: str) -> tuple[np.ndarray, np.ndarray]:
    """Per node, the code of its estimation group; and the group names."""
    if weights_by == "variable":
        return np.zeros(len(t.nodes), dtype=np.int64), np.array(["all"], dtype=object)
    if weights_by == "node":
        return np.arange(len(t.nodes)), t.nodes
    codes, names = sorted_codes(t.node_types)
    return codes.astype(np.int64), names


def _pair_diffs(
    var: _Var, cell_group: np.ndarray, n_groups: int, *, relative: bool
) -> tuple[np.ndarray, list[tuple[int, int]], list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """The sufficient data of the noise estimate of one variable: counts and pairwise differences.

    Returns ``n_days`` (G, S_v), the source ``pairs`` and per pair ``(d, g, cell)``: the
    differences on the days both sources report (in cell order, i.e. node then day), their
    estimation group codes and their cells.  The differences' medians are not sums, so a split
    table (Dask partitions by node) gathers these arrays in node order and calls
    :func:`_solve_noise` once (:mod:`sclm._dask`).
    """
    A, s_v, present = var.A, len(var.sources), var.observed
    n_days = np.stack(
        [np.bincount(cell_group[present[:, j]], minlength=n_groups) for j in range(s_v)], axis=1
    )  # (G, S_v)
    pairs = [(a, b) for a in range(s_v) for b in range(a + 1, s_v)]
    diffs = []
    for a, b in pairs:
        both = present[:, a] & present[:, b]
        cells = np.flatnonzero(both)
        x, y, g = A[cells, a], A[cells, b], cell_group[cells]
        if relative:
            den = (np.abs(x) + np.abs(y)) / 2.0
            ok = den > 0
            d, g, cells = (x[ok] - y[ok]) / den[ok], g[ok], cells[ok]
        else:
            d = x - y
        diffs.append((d, g, cells))
    return n_days, pairs, diffs


def _solve_noise(
    var: _Var,
    n_days: np.ndarray,
    pairs: list[tuple[int, int]],
    diffs: list[tuple[np.ndarray, np.ndarray]],
    n_groups: int,
    *,
    spread: str,
    min_overlap: int,
) -> _VarNoise:
    """σ̂ of every source of one variable, per estimation group, from :func:`_pair_diffs`' data."""
    s_v = len(var.sources)
    n_ab = np.zeros((n_groups, len(pairs)), dtype=np.int64)
    m_ab = np.full((n_groups, len(pairs)), np.nan)
    v_ab = np.full((n_groups, len(pairs)), np.nan)
    for p, (d, g) in enumerate(diffs):
        n_ab[:, p] = np.bincount(g, minlength=n_groups)
        if len(d):
            m_ab[:, p], v_ab[:, p] = _spread(d, g, n_groups, spread)
    sigma2 = np.full((n_groups, s_v), np.nan)
    raw = np.full((n_groups, s_v), np.nan)
    comp = np.full((n_groups, s_v), -1, dtype=np.int64)
    how = np.full((n_groups, s_v), "", dtype=object)
    for gi in range(n_groups):
        active = n_days[gi] > 0
        if active.any():
            sigma2[gi], raw[gi], methods, comp[gi] = _solve_group(
                active, pairs, n_ab[gi], v_ab[gi], min_overlap
            )
            how[gi] = methods
    return _VarNoise(var, n_days, pairs, n_ab, m_ab, v_ab, sigma2, raw, comp, how)


def _estimate(
    var: _Var, cell_group: np.ndarray, n_groups: int, *, relative: bool, spread: str, min_overlap: int
) -> _VarNoise:
    """Pairwise differences and σ̂ of every source of one variable, per estimation group.

    Parameters
    ----------
    var
        The variable's dense (cells × sources) array; imputed readings do not enter the estimate.
    cell_group
        Shape ``(N·D,)``: the estimation group code of each cell, in ``[0, n_groups)``.
    relative, spread, min_overlap
        Symmetric relative (else plain) differences; see :data:`SPREADS`; days two sources must
        share for their pair to count.
    """
    n_days, pairs, diffs = _pair_diffs(var, cell_group, n_groups, relative=relative)
    return _solve_noise(
        var, n_days, pairs, [(d, g) for d, g, _ in diffs], n_groups, spread=spread, min_overlap=min_overlap
    )


def _borrow(stats: dict[str, _VarNoise], n_groups: int) -> None:
    """Identify 2-source components with a σ̂ one source got from a three-cornered hat elsewhere.

    For a pair (a, b) whose only equation is ``σ_a² + σ_b² = v_ab``: if ``a`` was identified
    by a three-cornered hat in other variables (same group), ``σ_a²`` is the median of those
    estimates and ``σ_b² = v_ab - σ_a²`` — kept only when ``σ_b² >= 0`` (consistent), else the
    pair stays at equal weights.  When both sources were identified elsewhere, the one with
    the smaller borrowed σ² anchors (the subtraction then moves the other least).
    """
    known: dict[tuple[int, str], list[tuple[str, float]]] = {}
    for name, (var, _, _, _, _, _, sigma2, _, _, how) in stats.items():
        for gi in range(n_groups):
            for j, src in enumerate(var.sources):
                if str(how[gi, j]).startswith("three-cornered hat"):
                    known.setdefault((gi, str(src)), []).append((name, float(sigma2[gi, j])))
    for name, (var, _, pairs, n_ab, _, v_ab, sigma2, raw, comp, how) in stats.items():
        for gi in range(n_groups):
            for p, (a, b) in enumerate(pairs):
                if how[gi, a] != "equal: 2 sources" or comp[gi, a] != comp[gi, b] or not n_ab[gi, p]:
                    continue
                if (comp[gi] == comp[gi, a]).sum() != 2:
                    continue
                options = []
                for anchor, other in ((a, b), (b, a)):
                    lent = [x for x in known.get((gi, str(var.sources[anchor])), []) if x[0] != name]
                    if lent:
                        options.append((float(np.median([x[1] for x in lent])), anchor, other, lent))
                if not options:
                    continue
                s2, anchor, other, lent = min(options, key=lambda o: o[0])
                rest = float(v_ab[gi, p]) - s2
                if rest < 0:
                    continue
                floor = max(_FLOOR_REL * float(v_ab[gi, p]), _FLOOR_ABS)
                sigma2[gi, anchor], sigma2[gi, other] = max(s2, floor), max(rest, floor)
                raw[gi, anchor], raw[gi, other] = 1.0 / sigma2[gi, anchor], 1.0 / sigma2[gi, other]
                where = ", ".join(sorted(x[0] for x in lent))
                label = f"borrowed: 2 sources, sigma of {var.sources[anchor]} from {where}"
                how[gi, anchor] = how[gi, other] = label
