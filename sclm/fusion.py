"""Fusion: align the sources of each (node, day, variable), fuse them, aggregate nodes.

The step after cleaning (see DESIGN.md): cleaned Readings (long, native units, one row per
``(node, ts, variable, source)``) become a Panel (wide, index ``(node, ts)``, one float column per
variable, daily, no gaps).

Two transformers, scikit-learn style (``fit`` returns ``self``, learned attributes end in ``_``,
``get_feature_names_out``, ``get_params``/``set_params``; no scikit-learn dependency), and two
functions:

* :func:`align` — the readings wide over sources: index (``node``, ``ts``, ``variable``), one
  column per source, NaN where a source has no reading that day;
* :class:`SourceFuser` — estimates each source's noise from the data (:attr:`~SourceFuser.weights_`)
  and fuses the sources of every (node, day, variable) into one value by ``"mean"`` (the article's
  plain average), ``"median"`` or ``"inverse_variance"``; fills the days no source covers and
  reports them (:attr:`~SourceFuser.filled_`);
* :class:`NodeAggregator` — sums or averages nodes into groups (parent, node type, ``"total"``);
* :func:`fuse` — both in one call: ``sclm.fuse(readings, method="inverse_variance", **options)``.

Noise estimation (three-cornered hat)
-------------------------------------
A source ``s`` reports ``y_s = x·(1 + σ_s·ε_s)`` with independent ``ε_s ~ N(0, 1)`` (the
scenarios' multiplicative noise).  On the days two sources ``a`` and ``b`` both report, the
*symmetric relative difference*

.. math::  r_{ab} = (y_a - y_b) / ((|y_a| + |y_b|) / 2) \\approx σ_a ε_a - σ_b ε_b

has variance ``σ_a² + σ_b²`` (to first order in σ; it is bounded in [-2, 2] and defined when one
value is 0, unlike a log-ratio; days where both are 0 are skipped).  Its variance ``v_ab`` is
measured robustly (``spread="screened"``, see :data:`SPREADS`): the differences farther than
4 × 1.4826·MAD from their median are set aside and the variance of the rest is taken around
its mean, corrected for the truncation; so leftover outliers do not inflate it, and neither does
a constant bias between two sources (e.g. an uncorrected IoT undercount, visible in
``pairs_.median_diff``).  ``spread="mad"`` gives the plain ``(1.4826·MAD)²``.

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

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from sclm.estimator import NotFittedError, Transformer
from sclm.schema import QUANTITY_VARIABLES, DataValidationError, validate_readings

__all__ = [
    "AGG_RULES",
    "FILLED_COLUMNS",
    "FILL_METHODS",
    "METHODS",
    "NOISE_KINDS",
    "PAIR_COLUMNS",
    "SPREADS",
    "UNMAPPED",
    "WEIGHTS_BY",
    "WEIGHT_COLUMNS",
    "FusionReport",
    "NodeAggregator",
    "NotFittedError",
    "SourceFuser",
    "align",
    "default_rule",
    "fuse",
]

METHODS: tuple[str, ...] = ("inverse_variance", "mean", "median")
"""Ways to fuse the sources of one (node, day, variable)."""

WEIGHTS_BY: tuple[str, ...] = ("variable", "node_type", "node")
"""Scope of one noise estimate: per variable, per (variable, node type), per (variable, node)."""

NOISE_KINDS: tuple[str, ...] = ("relative", "absolute")
"""``relative``: σ is a fraction of the value (multiplicative noise); ``absolute``: in the unit."""

AGG_RULES: tuple[str, ...] = ("sum", "mean")
"""How :class:`NodeAggregator` combines the nodes of a group."""

SPREADS: tuple[str, ...] = ("screened", "mad", "variance")
"""How the variance of pairwise differences is measured.

* ``screened`` (default): the sample variance of the differences within 4 robust sd
  (``1.4826·MAD``) of their median, divided by the variance of a standard normal truncated at
  ±4 (0.9989) — robust to outliers like the MAD, nearly as efficient as the plain variance on
  Gaussian noise (the MAD alone has 37 % efficiency, i.e. needs ~2.7× the days);
* ``mad``: ``(1.4826·MAD)²``;
* ``variance``: the plain sample variance (not robust).
"""

FILL_METHODS: tuple[str, ...] = ("linear",)
"""How :class:`SourceFuser` fills days with no source (``fill=None`` leaves NaN)."""

UNMAPPED: tuple[str, ...] = ("error", "self", "drop")
"""What :class:`NodeAggregator` does with a node that has no group."""

WEIGHT_COLUMNS: tuple[str, ...] = (
    "variable",
    "group",
    "source",
    "sigma_hat",
    "sigma_kind",
    "weight",
    "n_days",
    "method",
)
"""Columns of :attr:`SourceFuser.weights_`."""

PAIR_COLUMNS: tuple[str, ...] = (
    "variable",
    "group",
    "source_a",
    "source_b",
    "n_days",
    "median_diff",
    "var_diff",
)
"""Columns of :attr:`SourceFuser.pairs_`."""

FILLED_COLUMNS: tuple[str, ...] = (
    "node",
    "variable",
    "n_days",
    "n_observed",
    "n_interpolated",
    "n_extended",
    "n_imputed",
    "n_nan",
)
"""Columns of :attr:`SourceFuser.filled_`."""

CASE_UNIT = "case"
_MAD_TO_SD = 1.4826
_FLOOR_REL = 1e-6
_FLOOR_ABS = 1e-20
_NS_PER_DAY = 86_400_000_000_000


class _Transformer(Transformer):
    """Fusion transformers: the shared scikit-learn conventions (:mod:`sclm.estimator`)."""

    _fitted_attr = ""


def _choice(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; expected one of: {', '.join(map(str, allowed))}")


# --------------------------------------------------------------------------------------------------
# Readings → integer codes (one vectorised pass per column; validation on the codes)
# --------------------------------------------------------------------------------------------------


@dataclass
class _Table:
    """Readings as integer codes.  R rows, N nodes, V variables, S sources, D days."""

    nodes: np.ndarray  # (N,) object, sorted
    node_types: np.ndarray  # (N,) object, the type of each node
    variables: np.ndarray  # (V,) object, sorted
    sources: np.ndarray  # (S,) object, sorted
    units: dict[str, str]  # variable → unit
    day0: np.datetime64  # first day (datetime64[D])
    n_days: int
    node: np.ndarray  # (R,) int codes into nodes
    day: np.ndarray  # (R,) int days since day0
    var: np.ndarray  # (R,) int codes into variables
    src: np.ndarray  # (R,) int codes into sources
    value: np.ndarray  # (R,) float64
    index: pd.Index  # (R,) the readings' index, for messages


def _runs(values: np.ndarray) -> np.ndarray | None:
    """Start positions of runs of equal values, when the column comes in long runs (else None).

    Readings are usually sorted by node, so ``node`` and ``node_type`` are a few thousand runs:
    hashing one value per run instead of one per row makes their encoding ~10x cheaper.
    """
    n, probe = len(values), 65_536
    if values.dtype != object or n < 4 * probe:
        return None
    try:
        head = values[:probe]
        if np.count_nonzero(head[1:] != head[:-1]) > probe // 64:
            return None
        change = np.empty(n, dtype=bool)
        change[0] = True
        np.not_equal(values[1:], values[:-1], out=change[1:])
    except (TypeError, ValueError):  # objects without elementwise comparison
        return None
    starts = np.flatnonzero(change)
    return starts if len(starts) <= n // 64 else None


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (R,) int32 into the sorted uniques (K,); -1 for missing values."""
    values = col.to_numpy()
    starts = _runs(values)
    if starts is None:
        codes, uniques = pd.factorize(values, sort=False)
    else:
        codes, uniques = pd.factorize(values[starts], sort=False)
    uniques = np.asarray(uniques, dtype=object)
    bad = [u for u in uniques if not isinstance(u, str)]
    if bad:
        raise DataValidationError(
            f"readings: column {col.name!r} holds non-string values, e.g. {bad[:3]!r}; expected str"
        )
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(len(order) + 1, dtype=np.int32)
    rank[order] = np.arange(len(order))
    rank[-1] = -1  # code -1 (NaN) stays -1
    if starts is None:
        return rank[codes], uniques[order]
    return np.repeat(rank[codes], np.diff(np.append(starts, len(values)))), uniques[order]


def _fail(readings: pd.DataFrame, rows: np.ndarray, what: str, *, allow_duplicates: bool) -> None:
    """Let :func:`validate_readings` word the failure of the offending rows; else raise ``what``.

    ``rows`` is a bool mask or integer positions (at most 50 are re-validated).
    """
    pos = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows)
    validate_readings(readings.iloc[pos[:50]], allow_duplicates=allow_duplicates)
    raise DataValidationError(f"readings: {what}")


def _read(readings: pd.DataFrame) -> _Table:
    """Validate ``readings`` against the Readings contract (no duplicate keys) and encode them.

    The column-level contract (presence, dtypes) is checked by :func:`validate_readings` on one
    row; the row-level checks (missing values, negative quantities, duplicate keys) run here on
    integer codes, vectorised, and any failure is re-checked by :func:`validate_readings` on the
    offending rows so the message is the contract's own.
    """
    if not isinstance(readings, pd.DataFrame) or len(readings) == 0:
        validate_readings(readings, allow_duplicates=False)  # raises: not a frame / empty
    validate_readings(readings.iloc[:1], allow_duplicates=False)  # columns and dtypes
    codes = {}
    uniques = {}
    for c in ("node", "node_type", "variable", "source", "unit"):
        codes[c], uniques[c] = _codes(readings[c])
        if (codes[c] < 0).any():
            _fail(readings, codes[c] < 0, f"column {c!r} has missing values", allow_duplicates=True)
    value = readings["value"].to_numpy(dtype=np.float64)
    if np.isnan(value).any():
        _fail(readings, np.isnan(value), "column 'value' has NaN", allow_duplicates=True)
    # days: hash the timestamps once, then work on the (few) distinct values
    ts_codes, ts_uniques = pd.factorize(readings["ts"].to_numpy().view(np.int64))  # datetime64[ns], checked
    ts_uniques = np.asarray(ts_uniques, dtype=np.int64)
    nat = ts_uniques == np.iinfo(np.int64).min
    if nat.any():
        _fail(readings, ts_codes == int(np.flatnonzero(nat)[0]), "column 'ts' has NaT", allow_duplicates=True)
    day_of, rest = np.divmod(ts_uniques, _NS_PER_DAY)
    if rest.any():
        bad = np.flatnonzero(np.isin(ts_codes, np.flatnonzero(rest)))
        raise DataValidationError(
            f"readings: column 'ts' has a time of day in rows {list(readings.index[bad[:5]])} "
            f"(of {len(bad)}), e.g. {readings['ts'].iloc[bad[0]]}; expected daily dates at midnight "
            "(aggregate intraday readings to days first)"
        )
    first = int(day_of.min())
    day = (day_of - first).astype(np.int32)[ts_codes]
    del ts_codes
    variables = uniques["variable"]
    quantity = np.isin(variables, list(QUANTITY_VARIABLES))
    negative = quantity[codes["variable"]] & (value < 0)
    if negative.any():
        _fail(readings, negative, "negative quantities", allow_duplicates=True)

    # one type per node
    n_nodes = len(uniques["node"])
    type_of = np.zeros(n_nodes, dtype=np.int32)
    type_of[codes["node"]] = codes["node_type"]
    clash = type_of[codes["node"]] != codes["node_type"]
    if clash.any():
        bad = np.unique(codes["node"][clash])
        node = uniques["node"][bad[0]]
        types = sorted(set(uniques["node_type"][codes["node_type"][codes["node"] == bad[0]]]))
        raise DataValidationError(
            f"readings: node {node!r} has several node_type values {types} ({len(bad)} such nodes); "
            "expected one node_type per node"
        )

    # units: no unconverted cases; one unit per variable
    units = uniques["unit"]
    n_units, n_src = len(units), len(uniques["source"])
    vu_key = codes["variable"] * np.int32(n_units)
    vu_key += codes["unit"]
    vu = np.bincount(vu_key, minlength=len(variables) * n_units)
    del vu_key
    vu = vu.reshape(len(variables), n_units)
    if CASE_UNIT in set(units):
        k = int(np.flatnonzero(units == CASE_UNIT)[0])
        rows = codes["unit"] == k
        pairs = np.unique(codes["variable"][rows] * n_src + codes["source"][rows])
        where = ", ".join(f"{variables[p // n_src]} from {uniques['source'][p % n_src]}" for p in pairs[:6])
        raise DataValidationError(
            f"readings: {int(rows.sum())} readings are in unit 'case' (unconverted pack counts: {where}); "
            "fusion needs native units — run the cleaning step's unit conversion first "
            "(sclm.clean, cases × units_per_case → units)"
        )
    mixed = np.flatnonzero((vu > 0).sum(axis=1) > 1)
    if len(mixed):
        v = int(mixed[0])
        raise DataValidationError(
            f"readings: variable {variables[v]!r} comes in several units {sorted(units[vu[v] > 0])}; "
            "expected one unit per variable (convert units before fusing)"
        )
    unit_of = {str(variables[v]): str(units[int(np.argmax(vu[v]))]) for v in range(len(variables))}

    return _Table(
        nodes=uniques["node"],
        node_types=uniques["node_type"][type_of],
        variables=variables,
        sources=uniques["source"],
        units=unit_of,
        day0=np.datetime64(first, "D"),
        n_days=int(day_of.max()) - first + 1,
        node=codes["node"],
        day=day,
        var=codes["variable"],
        src=codes["source"],
        value=value,
        index=readings.index,
    )


@dataclass
class _Var:
    """One variable, dense: ``A[cell, j]`` = source ``j``'s value, cell = node·D + day."""

    name: str
    sources: np.ndarray  # (S_v,) object, sorted
    A: np.ndarray  # (N·D, S_v) float64, NaN where the source has no reading
    imputed: np.ndarray | None = None  # (N·D, S_v) bool: the reading was invented upstream

    @functools.cached_property
    def present(self) -> np.ndarray:
        """(N·D, S_v) bool: the source reports that cell."""
        return ~np.isnan(self.A)

    @functools.cached_property
    def observed(self) -> np.ndarray:
        """(N·D, S_v) bool: the source reports that cell with an observed (not imputed) value."""
        return self.present if self.imputed is None else self.present & ~self.imputed

    def for_fusion(self) -> tuple[_Var, np.ndarray | None]:
        """The variable as fusion sees it, and the cells with imputed readings only (or None).

        In a cell with an observed reading, imputed readings are dropped; a cell with imputed
        readings only keeps them.
        """
        if self.imputed is None or not self.imputed.any():
            return self, None
        any_obs = self.observed.any(axis=1)
        use = np.where(any_obs[:, None], self.observed, self.present)
        only = ~any_obs & self.present.any(axis=1)
        return _Var(self.name, self.sources, np.where(use, self.A, np.nan)), only


def _dense(t: _Table, readings: pd.DataFrame, imputed: pd.DataFrame | None = None) -> list[_Var]:
    """Per variable, the (cells × sources) array; raises on duplicate keys.

    Every (variable, source) pair owns one block of N·D cells in a shared buffer, blocks
    ordered by (variable, source); a single scatter puts row ``i`` at
    ``block(var, src)·N·D + node·D + day``.  A variable's array is the (S_v, N·D) run of its
    blocks, transposed — so each source's column is contiguous.  The key is unique iff the
    buffer ends up with R non-NaN values (values are never NaN): duplicates cost nothing to find.
    """
    n_cells = len(t.nodes) * t.n_days
    n_var, n_src = len(t.variables), len(t.sources)
    pair = t.var * np.int32(n_src)
    pair += t.src
    used = (np.bincount(pair, minlength=n_var * n_src) > 0).reshape(n_var, n_src)
    block = np.full(n_var * n_src, -1, dtype=np.int64)
    block[used.reshape(-1)] = np.arange(int(used.sum()))
    flat = t.node.astype(np.int64)
    flat *= t.n_days
    flat += t.day
    flat += (block * n_cells)[pair]
    del pair
    buffer = np.full(int(used.sum()) * n_cells, np.nan)
    buffer[flat] = t.value
    if np.count_nonzero(~np.isnan(buffer)) != len(flat):
        count = np.bincount(flat, minlength=len(buffer))
        dup = count[flat] > 1
        keys = np.unique(flat[dup])[:5]
        _fail(
            readings,
            np.flatnonzero(np.isin(flat, keys)),
            f"duplicate key (node, ts, variable, source) in {int(dup.sum())} rows; expected one row per key",
            allow_duplicates=False,
        )
    del flat
    mark = None
    if imputed is not None:
        mark = np.zeros(len(buffer), dtype=bool)
        pos = _imputed_positions(t, imputed, block, n_cells)
        mark[pos] = True
        mark &= ~np.isnan(buffer)  # keys with no reading are ignored
    out, start = [], 0
    for v, name in enumerate(t.variables):
        s_v = int(used[v].sum())
        part = slice(start * n_cells, (start + s_v) * n_cells)
        A = buffer[part].reshape(s_v, n_cells).T
        imp = None if mark is None else mark[part].reshape(s_v, n_cells).T
        out.append(_Var(name=str(name), sources=t.sources[used[v]], A=A, imputed=imp))
        start += s_v
    return out


def _imputed_positions(t: _Table, imputed: pd.DataFrame, block: np.ndarray, n_cells: int) -> np.ndarray:
    """Buffer positions of the ``imputed`` keys that match a reading's (node, ts, variable, source)."""
    if not isinstance(imputed, pd.DataFrame):
        raise TypeError(f"imputed must be a DataFrame of keys, got {type(imputed).__name__}")
    missing = [c for c in ("node", "ts", "variable", "source") if c not in imputed.columns]
    if missing:
        raise DataValidationError(
            f"imputed: missing column(s) {missing}; expected the keys node, ts, variable, source "
            "(e.g. rows of the cleaning audit)"
        )
    if not len(imputed):
        return np.zeros(0, dtype=np.int64)
    ok = np.ones(len(imputed), dtype=bool)
    codes = []
    for col, uniques in (("node", t.nodes), ("variable", t.variables), ("source", t.sources)):
        values = imputed[col].astype(str).to_numpy(dtype=object)
        c = np.clip(np.searchsorted(uniques, values), 0, len(uniques) - 1)
        ok &= uniques[c] == values
        codes.append(c)
    ts = pd.to_datetime(imputed["ts"]).to_numpy().astype("datetime64[D]")
    day = (ts - t.day0).astype(np.int64)
    ok &= ~np.isnat(ts) & (day >= 0) & (day < t.n_days)
    node, var, src = codes
    b = block[var * len(t.sources) + src]
    ok &= b >= 0
    return (b * n_cells + node * t.n_days + day)[ok]


def _days_index(t: _Table) -> pd.DatetimeIndex:
    days = t.day0 + np.arange(t.n_days)
    return pd.DatetimeIndex(days.astype("datetime64[ns]"), name="ts")


# --------------------------------------------------------------------------------------------------
# align
# --------------------------------------------------------------------------------------------------


def align(readings: pd.DataFrame) -> pd.DataFrame:
    """The readings wide over sources: one row per (node, day, variable), one column per source.

    Parameters
    ----------
    readings
        Readings table (R rows; columns ``ts``, ``node``, ``node_type``, ``variable``,
        ``value``, ``unit``, ``source``), native units, no duplicate
        ``(node, ts, variable, source)``.

    Returns
    -------
    pandas.DataFrame
        Shape ``(K, S)``: MultiIndex (``node``, ``ts``, ``variable``) over the K cells with at
        least one reading, sorted; one float64 column per source (sorted names), NaN where
        that source has no reading of that variable that day.  Values in the variable's unit.

    Raises
    ------
    sclm.schema.DataValidationError
        The readings break the contract, hold duplicate keys or unconverted ``case`` units.
    """
    t = _read(readings)
    dense = _dense(t, readings)
    n_v = len(t.variables)
    src_pos = {s: i for i, s in enumerate(t.sources)}
    keys, blocks = [], []
    for v, var in enumerate(dense):
        cells = np.flatnonzero((~np.isnan(var.A)).any(axis=1))
        keys.append(cells * n_v + v)
        block = np.full((len(cells), len(t.sources)), np.nan)
        block[:, [src_pos[s] for s in var.sources]] = var.A[cells]
        blocks.append(block)
    key = np.concatenate(keys)
    order = np.argsort(key, kind="stable")
    key = key[order]
    values = np.concatenate(blocks)[order]
    cell, var_code = np.divmod(key, n_v)
    node_code, day_code = np.divmod(cell, t.n_days)
    index = pd.MultiIndex(
        levels=[pd.Index(t.nodes, name="node"), _days_index(t), pd.Index(t.variables, name="variable")],
        codes=[node_code, day_code, var_code],
        names=["node", "ts", "variable"],
        verify_integrity=False,
    )
    return pd.DataFrame(values, index=index, columns=pd.Index(list(t.sources), name="source"))


# --------------------------------------------------------------------------------------------------
# Noise estimation
# --------------------------------------------------------------------------------------------------


def _group_median(x: np.ndarray, g: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``x`` within each group code ``g`` (NaN for empty groups), vectorised."""
    if n_groups == 1:
        return np.array([np.median(x)]) if len(x) else np.array([np.nan])
    order = np.lexsort((x, g))
    xs = x[order]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    lo = np.minimum(starts + (counts - 1) // 2, max(len(xs) - 1, 0))
    hi = np.minimum(starts + counts // 2, max(len(xs) - 1, 0))
    if not len(xs):
        return np.full(n_groups, np.nan)
    return np.where(counts > 0, (xs[lo] + xs[hi]) / 2.0, np.nan)


def _truncated_variance_factor(c: float) -> float:
    """Variance of a standard normal truncated to ``[-c, c]``: ``1 - 2cφ(c) / (2Φ(c) - 1)``."""
    phi = math.exp(-0.5 * c * c) / math.sqrt(2.0 * math.pi)
    mass = math.erf(c / math.sqrt(2.0))
    return 1.0 - 2.0 * c * phi / mass


_SCREEN_K = 4.0
_SCREEN_CORRECTION = _truncated_variance_factor(_SCREEN_K)


def _spread(d: np.ndarray, g: np.ndarray, n_groups: int, spread: str) -> tuple[np.ndarray, np.ndarray]:
    """Per group: (centre, variance) of the differences ``d`` — see :data:`SPREADS`."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if spread == "variance":
            n = np.bincount(g, minlength=n_groups)
            centre = np.bincount(g, weights=d, minlength=n_groups) / n
            var = np.bincount(g, weights=(d - centre[g]) ** 2, minlength=n_groups) / (n - 1)
            return centre, var
        centre = _group_median(d, g, n_groups)
        dev = np.abs(d - centre[g])
        sd = _MAD_TO_SD * _group_median(dev, g, n_groups)
        if spread == "mad":
            return centre, sd**2
        keep = dev <= _SCREEN_K * sd[g]
        gk, dk = g[keep], d[keep]
        n = np.bincount(gk, minlength=n_groups)
        mean = np.bincount(gk, weights=dk, minlength=n_groups) / n
        var = np.bincount(gk, weights=(dk - mean[gk]) ** 2, minlength=n_groups) / (n - 1)
        return centre, var / _SCREEN_CORRECTION


def _components(k: int, edges: list[tuple[int, int]]) -> list[list[int]]:
    parent = list(range(k))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges:
        parent[root(a)] = root(b)
    comps: dict[int, list[int]] = {}
    for i in range(k):
        comps.setdefault(root(i), []).append(i)
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


@dataclass
class _Fitted:
    """Weights of one variable: raw inverse-variance weights per (group, source)."""

    sources: np.ndarray  # (S_v,)
    groups: np.ndarray  # (G,) object group names
    raw: np.ndarray  # (G, S_v) raw weight (1/σ̂², or 1 for a lone source); NaN: no data
    sigma2: np.ndarray  # (G, S_v) σ̂² (NaN: not estimable)


def _group_codes(t: _Table, weights_by: str) -> tuple[np.ndarray, np.ndarray]:
    """Per node, the code of its estimation group; and the group names."""
    if weights_by == "variable":
        return np.zeros(len(t.nodes), dtype=np.int64), np.array(["all"], dtype=object)
    if weights_by == "node":
        return np.arange(len(t.nodes)), t.nodes
    codes, names = pd.factorize(t.node_types, sort=True)
    return codes.astype(np.int64), np.asarray(names, dtype=object)


# --------------------------------------------------------------------------------------------------
# SourceFuser
# --------------------------------------------------------------------------------------------------


class SourceFuser(_Transformer):
    """Fuse the sources of each (node, day, variable) into one Panel value.

    Parameters
    ----------
    method
        ``"inverse_variance"`` (default): weights ``1/σ̂_s²`` estimated from the data (see the
        module docstring), renormalised over the sources present each day; ``"mean"``: the
        article's plain average of the sources present; ``"median"``: their median.
    weights_by
        Scope of one noise estimate: ``"variable"`` (default: one σ̂ per (variable, source)),
        ``"node_type"`` or ``"node"`` (one per (variable, node type / node, source)).
    noise
        ``"relative"`` (default; multiplicative noise, σ̂ a fraction of the value, estimated on
        symmetric relative differences) or ``"absolute"`` (σ̂ in the variable's unit, plain
        differences).
    spread
        How the variance of the pairwise differences is measured: ``"screened"`` (default,
        robust and efficient), ``"mad"`` or ``"variance"`` — see :data:`SPREADS`.
    min_overlap
        Days two sources must share (within a group) for their pair to enter the estimate.
    borrow
        For a variable with exactly 2 sources (only ``σ_a² + σ_b²`` identifiable): if one of them
        was identified by a three-cornered hat in another variable (same group), borrow that σ̂
        and solve the other (method ``"borrowed: 2 sources, sigma of <source> from <variables>"``);
        assumes a source's relative noise is the same across variables, and is skipped when the
        borrowed σ̂² exceeds the pair's difference variance.  ``False``: equal weights
        (``"equal: 2 sources"``).
    reject
        ``inverse_variance`` only: in a cell where >= 3 sources report, drop a reading farther
        than ``reject`` noise sd's from the cell's median (leftover outliers), counted in
        :attr:`rejected_`; ``None`` keeps every reading.  With 2 sources nothing is dropped
        (which one is wrong cannot be told).
    fill
        ``"linear"`` (default): a day with no source is filled by linear interpolation in time
        within its node, and days before the variable's first (after its last) reading at that
        node take the first (last) fused value; every filled cell is reported in
        :attr:`filled_` and :attr:`filled_mask_`.  ``None``: leave NaN (needs ``allow_nan``).
    allow_nan
        A (node, variable) with no reading at all — impossible to fill — raises
        :class:`~sclm.schema.DataValidationError` (default); with ``allow_nan=True`` its column
        is NaN for that node (and reported in :attr:`filled_` as ``n_nan``).

    Attributes
    ----------
    weights_ : pandas.DataFrame
        One row per (variable, group, source), columns :data:`WEIGHT_COLUMNS`: ``group``
        (``"all"`` when ``weights_by="variable"``, else the node type or node), ``sigma_hat``
        (estimated noise sd, relative or absolute per ``sigma_kind``; NaN where not estimable),
        ``weight`` (the weight of the source when all the sources it overlaps with report;
        sums to 1 over the sources of a group that share days — all of them, unless some never
        overlap, e.g. ERP on DCs and POS on stores; equal for ``"mean"``, NaN for
        ``"median"``), ``n_days`` (node-days the source reports), ``method`` (how σ̂ was
        obtained: ``"three-cornered hat: k sources"``, ``"borrowed: 2 sources, ..."``,
        ``"equal: 2 sources"``, ``"equal: not identifiable"``, ``"single source"``,
        ``"no overlap"`` — see the module docstring).
    pairs_ : pandas.DataFrame
        One row per (variable, group, pair of sources), columns :data:`PAIR_COLUMNS`:
        overlapping days, median and variance of the differences (relative or absolute).
    variables_ : list of str
        The fused variables (sorted) — the Panel columns.
    sources_ : dict
        Variable → list of its sources.
    units_ : dict
        Variable → unit (the one unit its readings share).
    node_types_ : dict
        Node → node type.
    n_readings_ : int
        Rows seen by ``fit``.
    filled_ : pandas.DataFrame
        Set by ``transform``: one row per (node, variable) with any filled or NaN day, columns
        :data:`FILLED_COLUMNS` (``n_days`` rows of the node in the panel, ``n_observed`` days with
        at least one reading, ``n_interpolated``, ``n_extended`` (before the first / after the
        last reading), ``n_imputed`` (days whose readings were all marked ``imputed``; counted in
        ``n_observed`` too), ``n_nan`` (left NaN)).
    filled_mask_ : pandas.DataFrame
        Set by ``transform``: bool, shaped like the panel, True where the value was filled
        (interpolated, extended, or from imputed readings only).
    n_filled_ : int
        Set by ``transform``: number of filled cells (``n_interpolated + n_extended +
        n_imputed``).
    rejected_ : pandas.DataFrame
        Set by ``transform``: readings dropped as outlying (``reject``), columns ``variable``,
        ``source``, ``n_rejected`` (only sources with at least one).

    Notes
    -----
    Each node's panel rows span its first to its last day with any reading (of any variable),
    every day in between.  Panel columns are the variables, sorted.  The work is vectorised
    over integer codes: one dense (node·day × source) array per variable, no Python loop over
    series or days; memory is about ``N·D·Σ_v S_v`` floats (D: days from the first to the last
    reading overall).  On 13.7 million readings (1650 nodes × 760 days, 11 (variable, source)
    pairs) ``fuse`` takes about 1.5–2× one ``groupby(["node", "ts", "variable"]).mean()``.
    """

    _fitted_attr = "weights_"

    def __init__(
        self,
        method: str = "inverse_variance",
        *,
        weights_by: str = "variable",
        noise: str = "relative",
        spread: str = "screened",
        min_overlap: int = 10,
        borrow: bool = True,
        reject: float | None = 6.0,
        fill: str | None = "linear",
        allow_nan: bool = False,
    ) -> None:
        self.method = method
        self.weights_by = weights_by
        self.noise = noise
        self.spread = spread
        self.min_overlap = min_overlap
        self.borrow = borrow
        self.reject = reject
        self.fill = fill
        self.allow_nan = allow_nan

    # -- parameters --------------------------------------------------------------------------------
    def _check_params(self) -> None:
        _choice("method", self.method, METHODS)
        _choice("weights_by", self.weights_by, WEIGHTS_BY)
        _choice("noise", self.noise, NOISE_KINDS)
        _choice("spread", self.spread, SPREADS)
        if self.fill is not None:
            _choice("fill", self.fill, FILL_METHODS)
        if not isinstance(self.min_overlap, int | np.integer) or self.min_overlap < 2:
            raise ValueError(f"min_overlap={self.min_overlap!r}; expected an int >= 2")
        if self.reject is not None and not (isinstance(self.reject, int | float) and self.reject > 0):
            raise ValueError(f"reject={self.reject!r}; expected a positive number of sigmas, or None")

    # -- fit -----------------------------------------------------------------------------------------
    def fit(
        self, readings: pd.DataFrame, y: Any = None, *, imputed: pd.DataFrame | None = None
    ) -> SourceFuser:
        """Estimate each source's noise and the fusion weights from ``readings``.

        Parameters
        ----------
        readings
            Cleaned Readings (R rows), native units, no duplicate keys.
        y
            Ignored.
        imputed
            Keys (columns ``node``, ``ts``, ``variable``, ``source``; others ignored) of readings
            whose value an earlier step invented — a filled gap, a replaced outlier — e.g. rows of
            the cleaning audit.  They are left out of the noise estimate, and a cell uses them
            only when it has no observed reading (such cells count as filled, ``n_imputed``).

        Returns
        -------
        SourceFuser
            ``self``, with :attr:`weights_`, :attr:`pairs_` and the other fitted attributes.
        """
        self._check_params()
        t = _read(readings)
        self._fit(t, _dense(t, readings, imputed))
        return self

    def _fit(self, t: _Table, dense: list[_Var]) -> None:
        node_group, group_names = _group_codes(t, self.weights_by)
        n_groups = len(group_names)
        cell_group = np.repeat(node_group, t.n_days)
        relative = self.noise == "relative"
        stats = {}  # variable → per-group estimates
        for var in dense:
            A, s_v, present = var.A, len(var.sources), var.observed
            n_days = np.stack(
                [np.bincount(cell_group[present[:, j]], minlength=n_groups) for j in range(s_v)], axis=1
            )  # (G, S_v)
            pairs = [(a, b) for a in range(s_v) for b in range(a + 1, s_v)]
            n_ab = np.zeros((n_groups, len(pairs)), dtype=np.int64)
            m_ab = np.full((n_groups, len(pairs)), np.nan)
            v_ab = np.full((n_groups, len(pairs)), np.nan)
            for p, (a, b) in enumerate(pairs):
                both = present[:, a] & present[:, b]
                x, y, g = A[both, a], A[both, b], cell_group[both]
                if relative:
                    den = (np.abs(x) + np.abs(y)) / 2.0
                    ok = den > 0
                    d, g = (x[ok] - y[ok]) / den[ok], g[ok]
                else:
                    d = x - y
                n_ab[:, p] = np.bincount(g, minlength=n_groups)
                if len(d):
                    m_ab[:, p], v_ab[:, p] = _spread(d, g, n_groups, self.spread)
            sigma2 = np.full((n_groups, s_v), np.nan)
            raw = np.full((n_groups, s_v), np.nan)
            comp = np.full((n_groups, s_v), -1, dtype=np.int64)
            how = np.full((n_groups, s_v), "", dtype=object)
            for gi in range(n_groups):
                active = n_days[gi] > 0
                if active.any():
                    sigma2[gi], raw[gi], methods, comp[gi] = _solve_group(
                        active, pairs, n_ab[gi], v_ab[gi], self.min_overlap
                    )
                    how[gi] = methods
            stats[var.name] = (var, n_days, pairs, n_ab, m_ab, v_ab, sigma2, raw, comp, how)
        if self.borrow:
            self._borrow(stats, n_groups)

        weight_rows: list[dict[str, Any]] = []
        pair_rows: list[dict[str, Any]] = []
        fitted: dict[str, _Fitted] = {}
        for var, n_days, pairs, n_ab, m_ab, v_ab, sigma2, raw, comp, how in stats.values():
            s_v = len(var.sources)
            for gi in range(n_groups):
                active = n_days[gi] > 0
                if self.method == "mean":
                    shown = np.where(active, 1.0, np.nan)
                elif self.method == "median":
                    shown = np.full(s_v, np.nan)
                else:
                    shown = raw[gi]
                for j in np.flatnonzero(active):
                    total = np.nansum(shown[comp[gi] == comp[gi, j]])
                    weight_rows.append(
                        {
                            "variable": var.name,
                            "group": str(group_names[gi]),
                            "source": str(var.sources[j]),
                            "sigma_hat": float(np.sqrt(sigma2[gi, j])),
                            "sigma_kind": self.noise,
                            "weight": float(shown[j] / total) if total > 0 else np.nan,
                            "n_days": int(n_days[gi, j]),
                            "method": how[gi, j],
                        }
                    )
                for p, (a, b) in enumerate(pairs):
                    if n_ab[gi, p]:
                        pair_rows.append(
                            {
                                "variable": var.name,
                                "group": str(group_names[gi]),
                                "source_a": str(var.sources[a]),
                                "source_b": str(var.sources[b]),
                                "n_days": int(n_ab[gi, p]),
                                "median_diff": float(m_ab[gi, p]),
                                "var_diff": float(v_ab[gi, p]),
                            }
                        )
            fitted[var.name] = _Fitted(sources=var.sources, groups=group_names, raw=raw, sigma2=sigma2)
        self.weights_ = pd.DataFrame(weight_rows, columns=list(WEIGHT_COLUMNS)).astype(
            {"sigma_hat": np.float64, "weight": np.float64, "n_days": np.int64}
        )
        self.pairs_ = pd.DataFrame(pair_rows, columns=list(PAIR_COLUMNS)).astype(
            {"n_days": np.int64, "median_diff": np.float64, "var_diff": np.float64}
        )
        self.variables_ = [str(v) for v in t.variables]
        self.sources_ = {var.name: [str(s) for s in var.sources] for var in dense}
        self.units_ = dict(t.units)
        self.node_types_ = dict(zip(map(str, t.nodes), map(str, t.node_types), strict=True))
        self.n_readings_ = len(t.node)
        self._fitted = fitted

    @staticmethod
    def _borrow(stats: dict[str, tuple], n_groups: int) -> None:
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

    # -- transform -----------------------------------------------------------------------------------
    def transform(self, readings: pd.DataFrame, *, imputed: pd.DataFrame | None = None) -> pd.DataFrame:
        """Fuse ``readings`` into a Panel with the fitted weights.

        Parameters
        ----------
        readings
            Cleaned Readings (R rows) whose variables and sources were seen by ``fit``.
        imputed
            Keys of invented readings, see :meth:`fit`.

        Returns
        -------
        pandas.DataFrame
            Panel: MultiIndex (``node``, ``ts``) — per node every day from its first to its last
            reading — one float64 column per variable (sorted; units in :attr:`units_`); no NaN
            unless ``allow_nan``.  Sets :attr:`filled_`, :attr:`filled_mask_`, :attr:`n_filled_`.
        """
        self._check_fitted()
        self._check_params()
        t = _read(readings)
        return self._transform(t, _dense(t, readings, imputed))

    def fit_transform(
        self, readings: pd.DataFrame, y: Any = None, *, imputed: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """``fit(readings).transform(readings)``, reading and encoding the table once."""
        self._check_params()
        t = _read(readings)
        dense = _dense(t, readings, imputed)
        self._fit(t, dense)
        return self._transform(t, dense)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The panel columns: the fused variables, sorted (object array)."""
        self._check_fitted()
        return np.asarray(self.variables_, dtype=object)

    def _weights_for(self, t: _Table, var: _Var) -> tuple[np.ndarray, np.ndarray]:
        """Raw weights and σ̂² (each N × S_v) per node for ``var`` in table ``t``, from the fit."""
        if var.name not in self._fitted:
            raise ValueError(
                f"variable {var.name!r} was not seen by fit; fitted variables: {', '.join(self.variables_)}"
            )
        f = self._fitted[var.name]
        pos = {s: i for i, s in enumerate(f.sources)}
        unseen = [s for s in var.sources if s not in pos]
        if unseen:
            raise ValueError(
                f"source(s) {unseen} of variable {var.name!r} were not seen by fit; "
                f"fitted sources: {', '.join(map(str, f.sources))}"
            )
        node_group, names = _group_codes(t, self.weights_by)
        gpos = {g: i for i, g in enumerate(f.groups)}
        missing = [g for g in names if g not in gpos]
        if missing:
            raise ValueError(
                f"{self.weights_by} {missing[:5]} not seen by fit (weights_by={self.weights_by!r}); "
                "refit on readings that include them"
            )
        rows, cols = [gpos[g] for g in names], [pos[s] for s in var.sources]
        raw = f.raw[rows][:, cols][node_group]  # (N, S_v)
        sigma2 = f.sigma2[rows][:, cols][node_group]
        return raw, sigma2

    def _transform(self, t: _Table, dense: list[_Var]) -> pd.DataFrame:
        n_nodes, n_days = len(t.nodes), t.n_days
        # each node's span: first..last day with any reading
        seen = np.zeros(n_nodes * n_days, dtype=bool)
        for var in dense:
            seen |= var.present.any(axis=1)
        seen = seen.reshape(n_nodes, n_days)
        first = np.argmax(seen, axis=1)
        last = n_days - 1 - np.argmax(seen[:, ::-1], axis=1)
        day_ix = np.arange(n_days)
        in_span = (day_ix >= first[:, None]) & (day_ix <= last[:, None])  # (N, D)

        columns: dict[str, np.ndarray] = {}
        filled_cols: dict[str, np.ndarray] = {}
        report = []
        rejected_rows: list[dict[str, Any]] = []
        for var in dense:
            var, only = var.for_fusion()
            F, rejected = self._fuse_one(t, var)
            F = F.reshape(n_nodes, n_days)
            only = np.zeros((n_nodes, n_days), dtype=bool) if only is None else only.reshape(n_nodes, n_days)
            rejected_rows.extend(
                {"variable": var.name, "source": str(src), "n_rejected": int(k)}
                for src, k in zip(var.sources, rejected, strict=True)
                if k
            )
            observed = ~np.isnan(F)
            F, interp, extend = _fill(F) if self.fill == "linear" else (F, None, None)
            if interp is None:
                interp = extend = np.zeros_like(observed)
            nan = np.isnan(F)
            if var.name in QUANTITY_VARIABLES:
                np.maximum(F, 0.0, out=F)  # rounding only: a weighted mean of values >= 0 is >= 0
            columns[var.name] = F[in_span]
            filled_cols[var.name] = (interp | extend | only)[in_span]
            report.append(
                np.stack(
                    [
                        in_span.sum(axis=1),
                        (observed & in_span).sum(axis=1),
                        (interp & in_span).sum(axis=1),
                        (extend & in_span).sum(axis=1),
                        (only & in_span).sum(axis=1),
                        (nan & in_span).sum(axis=1),
                    ],
                    axis=1,
                )
            )
        node_code, day_code = np.nonzero(in_span)
        index = pd.MultiIndex(
            levels=[pd.Index(t.nodes, name="node"), _days_index(t)],
            codes=[node_code, day_code],
            names=["node", "ts"],
            verify_integrity=False,
        )
        names = [v.name for v in dense]
        panel = pd.DataFrame(columns, index=index, columns=names, copy=False)
        self.filled_mask_ = pd.DataFrame(filled_cols, index=index, columns=names, copy=False)

        counts = np.concatenate(report)  # (V·N, 5), variable-major
        filled = pd.DataFrame(counts, columns=list(FILLED_COLUMNS[2:]), dtype=np.int64)
        filled.insert(0, "variable", np.repeat(np.asarray(names, dtype=object), n_nodes))
        filled.insert(0, "node", np.tile(t.nodes, len(names)))
        keep = filled[["n_interpolated", "n_extended", "n_imputed", "n_nan"]].sum(axis=1) > 0
        self.filled_ = filled[keep].sort_values(["node", "variable"]).reset_index(drop=True)
        self.n_filled_ = int(self.filled_[["n_interpolated", "n_extended", "n_imputed"]].to_numpy().sum())
        self.rejected_ = pd.DataFrame(rejected_rows, columns=["variable", "source", "n_rejected"]).astype(
            {"n_rejected": np.int64}
        )

        n_nan = int(self.filled_["n_nan"].sum())
        if n_nan and not self.allow_nan:
            row = self.filled_[self.filled_["n_nan"] > 0].iloc[0]
            empty = self.filled_[self.filled_["n_nan"] == self.filled_["n_days"]]
            if len(empty):
                e = empty.iloc[0]
                raise DataValidationError(
                    f"readings: node {e['node']!r} has no reading of variable {e['variable']!r} "
                    f"({len(empty)} such (node, variable) pairs); a wide panel needs every variable at every "
                    "node — pass allow_nan=True to leave those columns NaN, or fuse such nodes separately"
                )
            raise DataValidationError(
                f"readings: {n_nan} panel cells have no source (first: node {row['node']!r}, variable "
                f"{row['variable']!r}) and fill=None; use fill='linear' or allow_nan=True"
            )
        return panel

    def _fuse_one(self, t: _Table, var: _Var) -> tuple[np.ndarray, np.ndarray]:
        """Fused value per cell (N·D,), NaN where no source reports; rejected readings per source."""
        n_nodes, n_days, s_v = len(t.nodes), t.n_days, len(var.sources)
        rejected = np.zeros(s_v, dtype=np.int64)
        if s_v == 1:
            return var.A[:, 0].copy(), rejected
        A = var.A.reshape(n_nodes, n_days, s_v)
        present = var.present.reshape(n_nodes, n_days, s_v)
        if self.method == "median":
            return _row_median(A, present).reshape(-1), rejected
        if self.method == "mean":
            W = present.astype(np.float64)
        else:
            raw, sigma2 = self._weights_for(t, var)  # (N, S_v) each
            if np.isnan(raw[present.any(axis=1)]).any():  # a source here, never in its group in fit
                raise ValueError(
                    f"variable {var.name!r}: a source reports in a {self.weights_by} where fit saw none; "
                    "refit on these readings"
                )
            W = np.where(present, raw[:, None, :], 0.0)
            if self.reject is not None and s_v >= 3:
                bad = self._outlying(A, present, sigma2)
                if bad is not None:
                    rejected = bad.reshape(-1, s_v).sum(axis=0)
                    W[bad] = 0.0
                    present = present & ~bad
        # exact for identical sources: ref + Σ w (a - ref) / Σ w, ref = first present source
        first = np.argmax(present, axis=2)
        ref = np.take_along_axis(A, first[..., None], 2)[..., 0]
        diff = np.where(present, A - ref[..., None], 0.0)
        diff *= W
        den = _last(W, np.add)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = ref + _last(diff, np.add) / den
        return np.where(den > 0, out, np.nan).reshape(-1), rejected

    def _outlying(self, A: np.ndarray, present: np.ndarray, sigma2: np.ndarray) -> np.ndarray | None:
        """Readings to drop: ``|y_s - median| > reject · scale`` in cells with >= 3 sources.

        ``A`` and ``present`` are (N, D, S_v), ``sigma2`` (N, S_v).  ``scale = sqrt(σ̂_s² +
        max_present σ̂²)`` (times ``|median|`` for relative noise) bounds the spread of
        ``y_s - median`` under the fitted noise; a cell whose σ̂'s are unknown drops nothing, and
        at least one reading of a cell is always kept.  Returns a bool array like ``A``, or None.
        """
        cand = _last(present.astype(np.int8), np.add) >= 3
        if not cand.any():
            return None
        S2 = np.where(present, sigma2[:, None, :], 0.0)
        med = _row_median(A, present)
        scale = np.sqrt(S2 + _last(S2, np.fmax)[..., None])
        if self.noise == "relative":
            scale *= np.abs(med)[..., None]
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.abs(A - med[..., None]) / scale
        drop = present & (z > self.reject) & cand[..., None]  # NaN z (0/0, unknown σ̂) never drops
        keep_all = ~_last(present & ~drop, np.logical_or)
        drop[keep_all] = False
        return drop if drop.any() else None


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


# --------------------------------------------------------------------------------------------------
# NodeAggregator
# --------------------------------------------------------------------------------------------------


def default_rule(variable: str) -> str:
    """``"sum"`` for count variables (:data:`~sclm.schema.QUANTITY_VARIABLES`) except price; else ``"mean"``."""
    return "sum" if variable in QUANTITY_VARIABLES and variable != "price" else "mean"


class NodeAggregator(_Transformer):
    """Aggregate a Panel's nodes into groups: sum or average per variable, day by day.

    Parameters
    ----------
    groups
        Node → group: a dict or a :class:`pandas.Series` indexed by node (e.g.
        ``scenario.nodes.set_index("node")["parent"]`` or ``[...]["node_type"]``), or
        ``"total"`` (every node in one group named ``"total"``).
    rules
        Variable → ``"sum"`` or ``"mean"``; variables not named get :func:`default_rule`
        (sum for counts, mean for price and everything else).  Names of variables the panel
        does not hold are ignored.
    unmapped
        A node with no group (absent from ``groups``, or mapped to ``""``/None/NaN, such as a
        top node's empty ``parent``): ``"error"`` (default) raises, ``"self"`` makes the node its
        own group (joining any group of the same name: grouping by ``parent`` puts a plant with
        its warehouses), ``"drop"`` leaves it out.

    Attributes
    ----------
    groups_ : pandas.Series
        Node → group name (str), for the nodes kept.
    group_sizes_ : pandas.Series
        Group → number of member nodes.
    rules_ : dict
        Variable → rule, for every panel column.
    feature_names_in_ : numpy.ndarray
        The panel columns seen by ``fit``.

    Notes
    -----
    A group's rows are the days on which *every* member node has a row (the intersection of
    the member spans — contiguous for daily members), so a sum never silently drops a
    member.  The output is again a Panel: index (``node`` = group name, ``ts``), the input
    columns in order, float64.  NaN in a member propagates to its group.
    """

    _fitted_attr = "rules_"

    def __init__(
        self,
        groups: Mapping[str, Any] | pd.Series | str = "total",
        *,
        rules: Mapping[str, str] | None = None,
        unmapped: str = "error",
    ) -> None:
        self.groups = groups
        self.rules = rules
        self.unmapped = unmapped

    def fit(self, panel: pd.DataFrame, y: Any = None) -> NodeAggregator:
        """Resolve the node → group mapping and the rule of each variable for ``panel``.

        Parameters
        ----------
        panel
            Panel: MultiIndex (``node``, ``ts``), one float column per variable.
        y
            Ignored.

        Returns
        -------
        NodeAggregator
            ``self``.
        """
        _choice("unmapped", self.unmapped, UNMAPPED)
        _check_panel_index(panel)
        nodes = pd.Index(panel.index.get_level_values("node").unique(), name="node")
        if isinstance(self.groups, str):
            if self.groups != "total":
                raise ValueError(
                    f"groups={self.groups!r}: the only named grouping is 'total'; pass a node → group "
                    "mapping (dict or Series), e.g. scenario.nodes.set_index('node')['parent']"
                    + (" (sclm.fuse accepts groups='node_type')" if self.groups == "node_type" else "")
                )
            mapped = pd.Series("total", index=nodes, dtype=object)
        elif isinstance(self.groups, pd.Series | Mapping):
            mapping = (
                self.groups
                if isinstance(self.groups, pd.Series)
                else pd.Series(dict(self.groups), dtype=object)
            )
            if not mapping.index.is_unique:
                raise ValueError(
                    "groups: a node appears more than once in the mapping; expected one group per node"
                )
            mapped = mapping.reindex(nodes).astype(object)
        else:
            raise TypeError(
                f"groups must be a dict, a pandas Series or 'total', got {type(self.groups).__name__}"
            )
        none = mapped.isna() | (mapped.astype(str) == "")
        if none.any():
            if self.unmapped == "error":
                bad = list(mapped.index[none][:5])
                raise ValueError(
                    f"{int(none.sum())} node(s) have no group, e.g. {bad}; map them, or pass "
                    "unmapped='self' (own group) or unmapped='drop'"
                )
            if self.unmapped == "self":
                mapped[none] = mapped.index[none].to_numpy()
            else:
                mapped = mapped[~none]
        if not len(mapped):
            raise ValueError("groups: no node of the panel has a group")
        rules = dict(self.rules or {})
        for var, rule in rules.items():
            _choice(f"rule for {var!r}", rule, AGG_RULES)
        self.rules_ = {str(c): rules.get(c, default_rule(str(c))) for c in panel.columns}
        self.groups_ = mapped.astype(str).rename("group")
        self.group_sizes_ = self.groups_.value_counts().sort_index().rename("n_nodes")
        self.feature_names_in_ = np.asarray(list(panel.columns), dtype=object)
        return self

    def transform(self, panel: pd.DataFrame) -> pd.DataFrame:
        """Aggregate ``panel`` (same columns as in ``fit``) into the groups.

        Returns
        -------
        pandas.DataFrame
            Panel: MultiIndex (``node`` = group name, sorted; ``ts``), the days every member
            has, one float64 column per input variable.
        """
        self._check_fitted()
        _check_panel_index(panel)
        if list(panel.columns) != list(self.feature_names_in_):
            raise ValueError(
                f"panel columns {list(panel.columns)} differ from those seen by fit {list(self.feature_names_in_)}"
            )
        group_names = np.asarray(self.group_sizes_.index, dtype=object)
        sizes = self.group_sizes_.to_numpy()
        gpos = pd.Series(np.arange(len(group_names)), index=group_names)
        node_level = panel.index.levels[0]
        node_group = gpos.reindex(self.groups_.reindex(node_level).to_numpy()).to_numpy()
        node_group = np.where(np.isnan(node_group), -1, node_group).astype(np.int64)
        ts_level = panel.index.levels[1]
        ts_order = np.argsort(ts_level.to_numpy(), kind="stable")
        ts_rank = np.empty(len(ts_order), dtype=np.int64)
        ts_rank[ts_order] = np.arange(len(ts_order))
        g = node_group[panel.index.codes[0]]
        keep = g >= 0
        t_code = ts_rank[np.asarray(panel.index.codes[1])[keep]]
        n_t = len(ts_level)
        key = g[keep] * n_t + t_code
        count = np.bincount(key, minlength=len(group_names) * n_t)
        complete = np.flatnonzero(count == np.repeat(sizes, n_t))
        if not len(complete) or len(np.unique(complete // n_t)) < len(group_names):
            have = set(np.unique(complete // n_t))
            bad = [str(group_names[i]) for i in range(len(group_names)) if i not in have]
            raise DataValidationError(
                f"panel: group(s) {bad[:5]} have no day on which all their member nodes have a row"
            )
        out = {}
        for col in panel.columns:
            s = np.bincount(key, weights=panel[col].to_numpy(dtype=np.float64)[keep], minlength=len(count))
            if self.rules_[str(col)] == "mean":
                s = s / np.maximum(count, 1)
            out[col] = s[complete]
        gi, ti = np.divmod(complete, n_t)
        index = pd.MultiIndex(
            levels=[
                pd.Index(group_names, name="node"),
                pd.DatetimeIndex(ts_level.to_numpy()[ts_order], name="ts"),
            ],
            codes=[gi, ti],
            names=["node", "ts"],
            verify_integrity=False,
        )
        return pd.DataFrame(out, index=index, columns=list(panel.columns))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The output columns: the panel's variables, in order (object array)."""
        self._check_fitted()
        return self.feature_names_in_.copy()


def _check_panel_index(panel: pd.DataFrame) -> None:
    if not isinstance(panel, pd.DataFrame):
        raise DataValidationError(f"panel: expected a pandas DataFrame, got {type(panel).__name__}")
    if list(panel.index.names) != ["node", "ts"] or not isinstance(panel.index, pd.MultiIndex):
        raise DataValidationError(
            f"panel: index levels are {list(panel.index.names)}; expected ['node', 'ts']"
        )
    if len(panel) == 0:
        raise DataValidationError("panel: the table is empty; expected at least one row")


# --------------------------------------------------------------------------------------------------
# fuse
# --------------------------------------------------------------------------------------------------


@dataclass
class FusionReport:
    """What :func:`fuse` did: the weights, the filled cells and the fitted transformers."""

    weights: pd.DataFrame
    pairs: pd.DataFrame
    filled: pd.DataFrame
    n_filled: int
    rejected: pd.DataFrame
    fuser: SourceFuser
    aggregator: NodeAggregator | None = None
    units: dict[str, str] = field(default_factory=dict)


def fuse(
    readings: pd.DataFrame,
    method: str = "inverse_variance",
    *,
    groups: Mapping[str, Any] | pd.Series | str | None = None,
    rules: Mapping[str, str] | None = None,
    unmapped: str = "error",
    weights_by: str = "variable",
    noise: str = "relative",
    spread: str = "screened",
    min_overlap: int = 10,
    borrow: bool = True,
    reject: float | None = 6.0,
    fill: str | None = "linear",
    allow_nan: bool = False,
    imputed: pd.DataFrame | None = None,
    return_report: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, FusionReport]:
    """Cleaned Readings → Panel: align the sources, fuse them, optionally aggregate nodes.

    Parameters
    ----------
    readings
        Cleaned Readings (R rows), native units (no ``case``), no duplicate
        ``(node, ts, variable, source)``.
    method
        ``"inverse_variance"`` (default), ``"mean"`` or ``"median"`` (see :class:`SourceFuser`).
    groups
        ``None`` (default: one panel row set per node), a node → group mapping, ``"total"``, or
        ``"node_type"`` (the node types of the readings) — see :class:`NodeAggregator`.
    rules, unmapped
        Aggregation rule per variable and the handling of nodes without a group
        (:class:`NodeAggregator`); only with ``groups``.
    weights_by, noise, spread, min_overlap, borrow, reject, fill, allow_nan
        See :class:`SourceFuser`.
    imputed
        Keys of readings invented upstream (filled gaps, replaced outliers), e.g.
        ``audit[audit["action"].eq("filled") | audit["rule"].str.startswith("outlier")]`` from
        cleaning: used only where a cell has no observed reading (see :meth:`SourceFuser.fit`).
    return_report
        Also return a :class:`FusionReport` (weights, pairs, filled cells, the transformers).

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, FusionReport)
        Panel: MultiIndex (``node``, ``ts``), one float64 column per variable (sorted), daily,
        no gaps (filled cells reported), passes :func:`~sclm.schema.validate_panel`.

    Raises
    ------
    ValueError
        Unknown ``method`` (the message lists the methods) or other option.
    sclm.schema.DataValidationError
        Readings breaking the contract: empty, duplicate keys, unconverted ``case`` units,
        a node lacking a variable (unless ``allow_nan``).

    Examples
    --------
    >>> import sclm
    >>> from sclm.fusion import fuse
    >>> sc = sclm.make_scenario("manufacturing")
    >>> panel, report = fuse(cleaned_readings, return_report=True)  # doctest: +SKIP
    >>> report.weights[["variable", "source", "sigma_hat", "weight", "method"]]  # doctest: +SKIP
    """
    if rules is not None and groups is None:
        raise ValueError("rules apply to node aggregation; pass groups=... as well")
    fuser = SourceFuser(
        method,
        weights_by=weights_by,
        noise=noise,
        spread=spread,
        min_overlap=min_overlap,
        borrow=borrow,
        reject=reject,
        fill=fill,
        allow_nan=allow_nan,
    )
    panel = fuser.fit_transform(readings, imputed=imputed)
    aggregator = None
    if groups is not None:
        if isinstance(groups, str) and groups == "node_type":
            groups = pd.Series(fuser.node_types_, dtype=object)
        aggregator = NodeAggregator(groups, rules=rules, unmapped=unmapped)
        panel = aggregator.fit_transform(panel)
    if not return_report:
        return panel
    return panel, FusionReport(
        weights=fuser.weights_,
        pairs=fuser.pairs_,
        filled=fuser.filled_,
        n_filled=fuser.n_filled_,
        rejected=fuser.rejected_,
        fuser=fuser,
        aggregator=aggregator,
        units=fuser.units_,
    )
