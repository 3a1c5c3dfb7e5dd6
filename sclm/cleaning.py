"""Cleaning of raw Readings: units, duplicates, noise-rate correction, outliers and gaps, with an audit log.

The step after the scenarios / loaders and before fusion (see ``DESIGN.md``).  Every step is a
scikit-learn-style transformer (``fit`` returns ``self``, learned attributes end in ``_``,
``get_feature_names_out``); :class:`ReadingsCleaner` composes them and :func:`clean` is the one-call
convenience::

    cleaned, audit = clean(scenario.readings, units=scenario.units)
    audit.summary()                        # rule × action counts

Pipeline order (fixed; each step sees the output of the previous one)
---------------------------------------------------------------------
1. **units** (:class:`UnitConverter`) — every reading is converted to the target unit of its
   (node, variable): the unit declared in the ``units`` table (the scenario's ``units`` frame:
   ``node, variable, unit, units_per_case``, or a mapping ``{(node, variable): pack}`` whose target
   is ``"unit"``); without a declaration, the unit most readings of that (node, variable) use (a
   tie goes to a count unit).
   Cases ↔ units use the declared pack size (``units = cases × units_per_case``).  Any other unit is
   an error naming the unit, the row, the node and the variable.
2. **duplicates** (:class:`DuplicateResolver`) — readings sharing the key (node, ts, variable,
   source) collapse to one: ``"first"`` (default: the record entered first, in input order, is kept;
   re-entries are dropped), ``"mean"`` or ``"median"`` (the first row is kept with the mean / median
   of the group).  Every dropped row is audited.
3. **noise_rate** (:class:`NoiseRateCorrector`) — the article's counter model ``q' = (1 - p)·q``, so
   ``q = q' / (1 - p)``.  ``p`` is given (float, ``{source: p}`` or ``{(source, variable): p}``) or
   estimated per (source, variable) against a reference source (default: ``"erp"`` for ``"iot"``),
   see :func:`estimate_noise_rate` (binomial thinning: ratio of sums over the days a robust,
   over-dispersed binomial screen keeps; delta-method / Wilson confidence interval).  An estimate
   outside ``[0, 1)`` warns and is not applied (``applied`` False in ``p_``).
4. **outliers** (:class:`OutlierFilter`) — a Hampel rule on residuals from a seasonal baseline plus
   a cross-source check (details below).  A flagged value is removed; in :class:`ReadingsCleaner` the
   gap step then fills it in place (audit action ``"changed"``, rule ``outlier_*``), or, when the gap
   it leaves is longer than ``max_gap`` (or the gap step is off), the reading is dropped (action
   ``"dropped"``).
5. **gaps** (:class:`GapFiller`) — each (node, variable, source) series is reindexed to daily over
   its own first..last day; runs of up to ``max_gap`` missing days (default 3) are filled
   (``"seasonal"``: linear interpolation of the weekday-adjusted series; ``"linear"``: plain time
   interpolation; ``"weekday"``: median of the same weekday one and two weeks away); longer runs are
   **reported** (action ``"reported"``, one audit row per gap, and the ``gaps_`` table), never
   invented.

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

Audit log
---------
One row per changed, dropped, filled or reported value, columns :data:`AUDIT_COLUMNS`:
``node, ts, variable, source, rule, action, old_value, new_value, old_unit, new_unit, detail``,
in pipeline order.  ``action`` is ``changed`` / ``dropped`` / ``filled`` / ``reported``.  Nothing
is lost: ``len(cleaned) == len(readings) - dropped + filled``.  :meth:`Audit.summary` (or
:func:`summary`) counts rule × action.

Output
------
The cleaned table has the input's columns and dtypes (``ts`` datetime64[ns], ``value`` float64,
strings object) and a fresh RangeIndex; surviving readings keep their input order, filled readings
follow, ordered by (node, variable, source, ts) (``sort=True`` sorts everything by the key instead).
A filled reading copies ``node_type`` (and any extra column) from the first reading of its series.
It passes ``validate_readings(cleaned, allow_duplicates=False)``.  The input is never mutated.

Performance
-----------
Everything is vectorised: (node, variable, source) are encoded as integer series ids (label
columns are factorized on their object addresses when the labels are shared ``str`` objects, as
in simulated or categorical data, else by value), ``ts`` as day numbers, and the values are
scattered into dense ``(series × days)`` blocks (series of one (node, variable) share their
columns, so sources align by column; series of very different spans go to different blocks).
Rolling medians, MADs, gap runs and interpolation are numpy operations on cache-sized row chunks,
run on a few threads (``n_jobs``; the result does not depend on it); the audit is built from the
changed cells only.  No Python loop runs over rows or series.  Cleaning the 10-million-reading
manufacturing scenario takes a few seconds (see the benchmark).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from scipy.stats import binom

from sclm.estimator import NotFittedError, Transformer
from sclm.schema import (
    QUANTITY_VARIABLES,
    READING_COLUMNS,
    READING_KEY,
    DataValidationError,
    validate_readings,
)

__all__ = [
    "ACTIONS",
    "AUDIT_COLUMNS",
    "COUNT_UNITS",
    "GAP_COLUMNS",
    "P_COLUMNS",
    "STEPS",
    "Audit",
    "DuplicateResolver",
    "GapFiller",
    "NoiseRateCorrector",
    "NotFittedError",
    "OutlierFilter",
    "ReadingsCleaner",
    "UnitConverter",
    "clean",
    "estimate_noise_rate",
    "summary",
]

AUDIT_COLUMNS: tuple[str, ...] = (
    "node",
    "ts",
    "variable",
    "source",
    "rule",
    "action",
    "old_value",
    "new_value",
    "old_unit",
    "new_unit",
    "detail",
)
"""Columns of the audit log."""

ACTIONS: tuple[str, ...] = ("changed", "dropped", "filled", "reported")
"""Audit actions: a value changed in place, a reading dropped, a missing day filled, a gap reported."""

STEPS: tuple[str, ...] = ("units", "duplicates", "noise_rate", "outliers", "gaps")
"""The cleaning steps, in pipeline order (names accepted by ``ReadingsCleaner(skip=...)``)."""

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

GAP_COLUMNS: tuple[str, ...] = ("node", "variable", "source", "start", "end", "days", "action", "method")
"""Columns of the ``gaps_`` table (one row per run of missing days inside a series' span)."""

COUNT_UNIT = "unit"
CASE_UNITS: frozenset[str] = frozenset({"case", "cases"})
COUNT_UNITS: frozenset[str] = frozenset(
    {"unit", "units", "pcs", "piece", "pieces", "each", "ea", "item", "items", "count", "counts"}
)
"""Units that count items (one pack of ``units_per_case`` of them is a case)."""

DUPLICATE_RULES: tuple[str, ...] = ("first", "mean", "median")
FILL_METHODS: tuple[str, ...] = ("seasonal", "linear", "weekday")

_DAY_NS = 86_400_000_000_000
_CHUNK_CELLS = 1 << 19  # cells per row chunk of the dense blocks (bounded temporaries, threads pay off)
_MAD_TO_SD = 1.4826
_POISSON_K = 4.0  # cross-source: count differences below 4·sqrt(max) are compatible with counting noise
_STRING_COLUMNS = ("node", "node_type", "variable", "unit", "source")

# rule names written to the audit
_R_UNITS = "unit_conversion"
_R_NOISE = "noise_rate"
_R_HAMPEL = "outlier_hampel"
_R_CROSS = "outlier_cross_source"
_R_GAP_LONG = "gap_too_long"


# ==================================================================================================
# Audit
# ==================================================================================================


class Audit(pd.DataFrame):
    """The audit log: a :class:`pandas.DataFrame` with columns :data:`AUDIT_COLUMNS` and :meth:`summary`.

    One row per changed, dropped, filled or reported value: ``node``, ``ts`` (datetime64[ns]),
    ``variable``, ``source`` (the reading's key), ``rule`` (which rule acted: ``unit_conversion``,
    ``duplicate_first|mean|median``, ``noise_rate``, ``outlier_hampel``, ``outlier_cross_source``,
    ``gap_seasonal|linear|weekday``, ``gap_too_long``), ``action`` (:data:`ACTIONS`), ``old_value``
    and ``new_value`` (float64; NaN where there is none), ``old_unit`` and ``new_unit`` (None where
    there is none) and ``detail`` (the parameters: pack size, p, score, gap length, ...).
    """

    _metadata: ClassVar[list[str]] = []

    @property
    def _constructor(self) -> type[Audit]:
        return Audit

    def summary(self) -> pd.DataFrame:
        """Rule × action counts (see :func:`summary`)."""
        return summary(self)


def summary(audit: pd.DataFrame) -> pd.DataFrame:
    """Count the audit rows per rule and action.

    Parameters
    ----------
    audit
        An audit log (columns :data:`AUDIT_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        Index ``rule`` (in pipeline order of first appearance), one int64 column per action in
        :data:`ACTIONS`, and ``total``.
    """
    if len(audit) == 0:
        out = pd.DataFrame(columns=[*ACTIONS, "total"], dtype=np.int64)
        out.index.name = "rule"
        return out
    rules = pd.unique(audit["rule"].to_numpy())
    table = pd.crosstab(audit["rule"].to_numpy(), audit["action"].to_numpy())
    table = table.reindex(index=rules, columns=list(ACTIONS), fill_value=0).astype(np.int64)
    table["total"] = table.sum(axis=1)
    table.index.name = "rule"
    table.columns.name = None
    return table


def _empty_audit() -> Audit:
    return Audit(
        {
            "node": np.empty(0, dtype=object),
            "ts": np.empty(0, dtype="datetime64[ns]"),
            "variable": np.empty(0, dtype=object),
            "source": np.empty(0, dtype=object),
            "rule": np.empty(0, dtype=object),
            "action": np.empty(0, dtype=object),
            "old_value": np.empty(0, dtype=np.float64),
            "new_value": np.empty(0, dtype=np.float64),
            "old_unit": np.empty(0, dtype=object),
            "new_unit": np.empty(0, dtype=object),
            "detail": np.empty(0, dtype=object),
        }
    )


@dataclass(eq=False)
class _AuditPart:
    sid: np.ndarray  # series id per entry (int)
    day: np.ndarray  # day number per entry (int64)
    rule: np.ndarray | str
    action: str
    old: np.ndarray
    new: np.ndarray
    old_unit: np.ndarray  # unit code, -1 = None
    new_unit: np.ndarray
    detail: np.ndarray | str


# ==================================================================================================
# Small numeric helpers (vectorised, NaN-aware)
# ==================================================================================================


def _days_to_ts(day: np.ndarray) -> np.ndarray:
    """Day numbers (days since 1970-01-01) → datetime64[ns]."""
    return (np.asarray(day, dtype=np.int64) * _DAY_NS).view("datetime64[ns]")


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


def _factorize_labels(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of an object column: codes and the unique values in order of first appearance.

    Missing labels get their own code (their value is None/NaN, which the caller's ``str`` check
    rejects).  Factorizing with the default sentinel first avoids pandas' slow NA scan of object
    arrays when, as usual, no label is missing.
    """
    codes, uniques = pd.factorize(values)
    if len(codes) and codes.min() < 0:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes, np.asarray(uniques, dtype=object)


def _sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Factorize ``values`` and renumber the codes in sorted order of the uniques (int32 codes)."""
    if values.dtype == object:
        codes, uniques = _factorize_labels(values)
        if not all(type(u) is str for u in uniques):
            raise TypeError("non-string label")
    else:
        codes, uniques = pd.factorize(values, sort=False)
        uniques = np.asarray(uniques)
    order = np.argsort(uniques, kind="stable")
    if np.array_equal(order, np.arange(len(order))):
        return codes.astype(np.int32), uniques
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return rank[codes], uniques[order]


# ==================================================================================================
# Validation and encoding
# ==================================================================================================


def _row_labels(frame: pd.DataFrame, positions: np.ndarray, k: int = 5) -> list[Any]:
    return [frame.index[int(i)] for i in positions[:k]]


def _contract_error(readings: Any, *, allow_duplicates: bool = True, hint: str = "") -> None:
    """Raise the schema's precise message for ``readings`` (a :class:`DataValidationError`)."""
    try:
        validate_readings(readings, allow_duplicates=allow_duplicates)
    except DataValidationError as exc:
        raise DataValidationError(f"{exc}{hint}") from None


def _check_readings(readings: Any, strings: tuple[str, ...] = _STRING_COLUMNS) -> None:
    """Fast vectorised check of the Readings contract; on a failure, the schema says what is wrong.

    ``strings``: the label columns scanned for non-str values here (:func:`_encode` checks the
    ones it factorizes on their unique values instead).

    Raises
    ------
    DataValidationError
        Not a DataFrame, empty, missing column, wrong dtype, NaN/NaT/None, non-string labels,
        negative quantity (via :func:`sclm.schema.validate_readings`), infinite value or a
        time of day in ``ts``.
    """
    if not isinstance(readings, pd.DataFrame) or len(readings) == 0:
        _contract_error(readings)
    if any(c not in readings.columns for c in READING_COLUMNS) or readings.columns.duplicated().any():
        _contract_error(readings)
        raise DataValidationError(
            f"readings: duplicated column names {list(readings.columns[readings.columns.duplicated()])}; "
            "expected each column once"
        )
    ts = readings["ts"]
    value = readings["value"]
    dtype_ok = ts.dtype == np.dtype("datetime64[ns]") and value.dtype == np.dtype(np.float64)
    for c in _STRING_COLUMNS:
        dtype_ok &= readings[c].dtype == np.dtype(object)
    if not dtype_ok:
        _contract_error(readings)
        bad = [
            f"{c!r} has dtype {readings[c].dtype}"
            for c, want in [("ts", "datetime64[ns]"), ("value", "float64")]
            + [(c, "object") for c in _STRING_COLUMNS]
            if str(readings[c].dtype) != want
        ]
        raise DataValidationError(
            f"readings: column {'; '.join(bad)}; expected ts datetime64[ns], value float64 and "
            "object (str) columns node, node_type, variable, unit, source"
        )
    tsv = ts.to_numpy()
    if np.isnat(tsv).any():
        _contract_error(readings)
    vals = value.to_numpy()
    if np.isnan(vals).any():
        _contract_error(readings)
    for c in strings:
        if pd.api.types.infer_dtype(readings[c].to_numpy(), skipna=False) != "string":
            _contract_error(readings)
            raise DataValidationError(f"readings: column {c!r} holds non-string values; expected str labels")
    inf = np.isinf(vals)
    if inf.any():
        pos = np.flatnonzero(inf)
        raise DataValidationError(
            f"readings: column 'value' holds infinite values in rows {_row_labels(readings, pos)} "
            f"(of {len(pos)}); expected finite numbers"
        )
    ns = tsv.view(np.int64)
    if np.any(ns % _DAY_NS):
        timed = ns % _DAY_NS != 0
        pos = np.flatnonzero(timed)
        raise DataValidationError(
            f"readings: column 'ts' holds times of day in rows {_row_labels(readings, pos)} "
            f"(of {len(pos)}), e.g. {pd.Timestamp(tsv[pos[0]])}; expected dates at midnight (daily readings)"
        )


@dataclass(eq=False)
class _Layout:
    """Series ids and the dense block layout of the cells (see the module docstring)."""

    sid: np.ndarray  # (n,) series id per row
    cell: np.ndarray  # (n,) int64 flat cell index per row
    s_node: np.ndarray  # (S,)
    s_var: np.ndarray
    s_src: np.ndarray
    s_gid: np.ndarray  # (S,) (node, variable) group id
    s_first: np.ndarray  # (S,) first day of the series
    s_last: np.ndarray
    s_block: np.ndarray
    s_row: np.ndarray  # row within its block
    s_base: np.ndarray  # cell = s_base[sid] + day
    g_first: np.ndarray  # (G,) day of column 0 of the group
    g_start: np.ndarray  # (G,) first series id of the group
    g_size: np.ndarray
    blocks: list[_Block]
    n_cells: int

    @property
    def n_series(self) -> int:
        return len(self.s_node)


@dataclass(eq=False)
class _Block:
    off: int  # first flat cell
    rows: int
    width: int  # columns (days)
    series: np.ndarray  # (rows,) series ids
    chunks: list[tuple[int, int]]  # row ranges aligned on (node, variable) groups


@dataclass(eq=False)
class _Run:
    """One pass of cleaning over one Readings table: the encoded rows, the cells and the audit."""

    frame: pd.DataFrame
    node_cats: np.ndarray
    var_cats: np.ndarray
    src_cats: np.ndarray
    unit_cats: np.ndarray
    node: np.ndarray
    var: np.ndarray
    src: np.ndarray
    unit: np.ndarray
    day: np.ndarray
    value: np.ndarray
    alive: np.ndarray
    layout: _Layout
    parts: list[_AuditPart] = field(default_factory=list)
    s_unit: np.ndarray | None = None  # (S,) unit code of each series after the units step
    x: np.ndarray | None = None  # (n_cells,) dense values
    rowof: np.ndarray | None = None  # (n_cells,) row of each cell, -1 = none
    fills: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    converted: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # rows re-united
    gaps: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]] = field(default_factory=list)
    done: set[str] = field(default_factory=set)

    @property
    def n(self) -> int:
        return len(self.alive)

    def release(self) -> None:
        """Free the per-row codes no longer needed once the cells are final (lower peak memory)."""
        empty = np.empty(0, dtype=np.int32)
        self.node = self.var = self.src = self.day = empty
        self.rowof = None
        if self.x is not None:
            self.value = np.empty(0)


def _encode(readings: pd.DataFrame) -> _Run:
    """Validate and encode a Readings table (the input is not modified)."""
    _check_readings(readings, strings=("node_type",))
    cats = {}
    codes = {}
    for c in ("node", "variable", "source", "unit"):
        try:
            codes[c], cats[c] = _sorted_codes(readings[c].to_numpy())
        except TypeError:
            _contract_error(readings)
            raise DataValidationError(
                f"readings: column {c!r} holds non-string values; expected str labels"
            ) from None
    value = readings["value"].to_numpy(dtype=np.float64, copy=True)
    var_cats = cats["variable"]
    is_q = np.isin(var_cats, list(QUANTITY_VARIABLES))
    if is_q.any() and (value < 0).any() and (is_q[codes["variable"]] & (value < 0)).any():
        _contract_error(readings)
    day = (readings["ts"].to_numpy().view(np.int64) // _DAY_NS).astype(np.int32)
    layout = _build_layout(
        codes["node"],
        codes["variable"],
        codes["source"],
        day,
        len(cats["node"]),
        len(var_cats),
        len(cats["source"]),
    )
    return _Run(
        frame=readings,
        node_cats=cats["node"],
        var_cats=var_cats,
        src_cats=cats["source"],
        unit_cats=cats["unit"],
        node=codes["node"],
        var=codes["variable"],
        src=codes["source"],
        unit=codes["unit"],
        day=day,
        value=value,
        alive=np.ones(len(value), dtype=bool),
        layout=layout,
    )


def _build_layout(
    node: np.ndarray, var: np.ndarray, src: np.ndarray, day: np.ndarray, n_node: int, n_var: int, n_src: int
) -> _Layout:
    n = len(node)
    space = n_node * n_var * n_src
    kdt = np.int32 if space < np.iinfo(np.int32).max else np.int64
    key = node.astype(kdt) * kdt(n_var)
    key += var
    key *= kdt(n_src)
    key += src
    if space <= max(4 * n, 1 << 22):
        present = np.zeros(space, dtype=bool)
        present[key] = True
        skeys = np.flatnonzero(present)
        lookup = np.zeros(space, dtype=np.int32)
        lookup[skeys] = np.arange(len(skeys), dtype=np.int32)
        sid = lookup[key]
        del present, lookup
    else:  # very many (node, variable, source) combinations: hash instead of a dense lookup
        sid, skeys = _sorted_codes(key)
        skeys = skeys.astype(np.int64)
    del key
    n_s = len(skeys)
    s_src = (skeys % n_src).astype(np.int32)
    s_var = ((skeys // n_src) % n_var).astype(np.int32)
    s_node = (skeys // (n_src * n_var)).astype(np.int32)
    s_first = np.full(n_s, np.iinfo(day.dtype).max, dtype=day.dtype)
    s_last = np.full(n_s, np.iinfo(day.dtype).min, dtype=day.dtype)
    np.minimum.at(s_first, sid, day)  # same dtypes: numpy's fast path
    np.maximum.at(s_last, sid, day)
    s_first = s_first.astype(np.int64)
    s_last = s_last.astype(np.int64)

    gkey = s_node.astype(np.int64) * n_var + s_var
    new_group = np.empty(n_s, dtype=bool)
    new_group[0] = True
    new_group[1:] = gkey[1:] != gkey[:-1]
    g_start = np.flatnonzero(new_group)
    s_gid = np.cumsum(new_group) - 1
    g_first = np.minimum.reduceat(s_first, g_start)
    g_last = np.maximum.reduceat(s_last, g_start)
    g_span = g_last - g_first + 1
    g_size = np.diff(np.append(g_start, n_s))

    # blocks: groups of similar span share a width (one block when spans are alike)
    need = int((g_span * g_size).sum())
    if n_s * int(g_span.max()) <= 1.5 * need + (1 << 20):
        g_bucket = np.zeros(len(g_start), dtype=np.int64)
    else:
        g_bucket = np.floor(np.log(g_span) / np.log(1.5)).astype(np.int64)
    s_bucket = g_bucket[s_gid]
    s_block = np.empty(n_s, dtype=np.int32)
    s_row = np.empty(n_s, dtype=np.int64)
    s_base = np.empty(n_s, dtype=np.int64)
    blocks: list[_Block] = []
    off = 0
    for b, bucket in enumerate(np.unique(g_bucket)):  # a few width classes, not series
        series = np.flatnonzero(s_bucket == bucket)
        width = int(g_span[s_gid[series]].max())
        rows = len(series)
        s_block[series] = b
        s_row[series] = np.arange(rows)
        s_base[series] = off + np.arange(rows, dtype=np.int64) * width - g_first[s_gid[series]]
        # row chunks of about _CHUNK_CELLS cells, cut at group starts
        local_starts = np.flatnonzero(np.r_[True, s_gid[series][1:] != s_gid[series][:-1]])
        step = max(1, _CHUNK_CELLS // width)
        want = np.arange(0, rows, step)
        cuts = np.unique(local_starts[np.minimum(np.searchsorted(local_starts, want), len(local_starts) - 1)])
        bounds = np.append(cuts, rows)
        chunks = [(int(a), int(c)) for a, c in zip(bounds[:-1], bounds[1:], strict=True) if c > a]
        blocks.append(_Block(off=off, rows=rows, width=width, series=series, chunks=chunks))
        off += rows * width
    cell = s_base[sid]
    cell += day
    if off < np.iinfo(np.int32).max:
        cell = cell.astype(np.int32)
    return _Layout(
        sid=sid,
        cell=cell,
        s_node=s_node,
        s_var=s_var,
        s_src=s_src,
        s_gid=s_gid,
        s_first=s_first,
        s_last=s_last,
        s_block=s_block,
        s_row=s_row,
        s_base=s_base,
        g_first=g_first,
        g_start=g_start,
        g_size=g_size,
        blocks=blocks,
        n_cells=off,
    )


def _pair_key(a: np.ndarray, n_b: int, b: np.ndarray) -> np.ndarray:
    """``a * n_b + b`` in int32 when it fits, else int64."""
    big = (int(a.max(initial=0)) + 1) * n_b >= np.iinfo(np.int32).max
    key = a.astype(np.int64 if big else np.int32)
    key *= n_b
    key += b
    return key


def _series_unit(run: _Run) -> np.ndarray:
    """Unit code of each series: the unit most of its (alive) readings use."""
    lay = run.layout
    n_u = len(run.unit_cats)
    counts = np.bincount(_pair_key(lay.sid, n_u, run.unit), minlength=lay.n_series * n_u)
    return counts.reshape(lay.n_series, n_u).argmax(axis=1).astype(np.int32)


def _is_count(run: _Run, count_units: Collection[str] | None) -> np.ndarray:
    """(S,) whether each series counts items (its unit is a count or case unit)."""
    units = COUNT_UNITS | CASE_UNITS if count_units is None else frozenset(count_units)
    s_unit = run.s_unit if run.s_unit is not None else _series_unit(run)
    return np.isin(run.unit_cats, list(units))[s_unit]


def _add_part(
    run: _Run,
    sid: np.ndarray,
    day: np.ndarray,
    rule: np.ndarray | str,
    action: str,
    old: np.ndarray,
    new: np.ndarray,
    old_unit: np.ndarray | int,
    new_unit: np.ndarray | int,
    detail: np.ndarray | str,
) -> None:
    k = len(sid)
    if k == 0:
        return

    def arr(x: np.ndarray | int, dtype: type) -> np.ndarray:
        return np.full(k, x, dtype=dtype) if np.ndim(x) == 0 else np.asarray(x, dtype=dtype)

    run.parts.append(
        _AuditPart(
            sid=np.asarray(sid, dtype=np.int64),
            day=np.asarray(day, dtype=np.int64),
            rule=rule,
            action=action,
            old=arr(old, np.float64),
            new=arr(new, np.float64),
            old_unit=arr(old_unit, np.int64),
            new_unit=arr(new_unit, np.int64),
            detail=detail,
        )
    )


def _audit_frame(run: _Run) -> Audit:
    parts = run.parts
    if not parts:
        return _empty_audit()
    lay = run.layout
    sid = np.concatenate([p.sid for p in parts])
    k = len(sid)

    def strings(attr: str) -> np.ndarray:
        out = np.empty(k, dtype=object)
        pos = 0
        for p in parts:
            m = len(p.sid)
            v = getattr(p, attr)
            out[pos : pos + m] = v
            pos += m
        return out

    units = np.append(run.unit_cats, None)  # code -1 → None
    return Audit(
        {
            "node": run.node_cats[lay.s_node[sid]],
            "ts": _days_to_ts(np.concatenate([p.day for p in parts])),
            "variable": run.var_cats[lay.s_var[sid]],
            "source": run.src_cats[lay.s_src[sid]],
            "rule": strings("rule"),
            "action": strings("action"),
            "old_value": np.concatenate([p.old for p in parts]),
            "new_value": np.concatenate([p.new for p in parts]),
            "old_unit": units[np.concatenate([p.old_unit for p in parts])],
            "new_unit": units[np.concatenate([p.new_unit for p in parts])],
            "detail": strings("detail"),
        },
        copy=False,
    )


def _gaps_frame(run: _Run) -> pd.DataFrame:
    lay = run.layout
    if not run.gaps:
        return pd.DataFrame(
            {
                "node": np.empty(0, dtype=object),
                "variable": np.empty(0, dtype=object),
                "source": np.empty(0, dtype=object),
                "start": np.empty(0, dtype="datetime64[ns]"),
                "end": np.empty(0, dtype="datetime64[ns]"),
                "days": np.empty(0, dtype=np.int64),
                "action": np.empty(0, dtype=object),
                "method": np.empty(0, dtype=object),
            }
        )
    sid = np.concatenate([g[0] for g in run.gaps])
    start = np.concatenate([g[1] for g in run.gaps])
    days = np.concatenate([g[2] for g in run.gaps])
    filled = np.concatenate([g[3] for g in run.gaps])
    method = np.concatenate([np.full(len(g[0]), g[4], dtype=object) for g in run.gaps])
    order = np.lexsort((start, sid))
    sid, start, days, filled, method = sid[order], start[order], days[order], filled[order], method[order]
    return pd.DataFrame(
        {
            "node": run.node_cats[lay.s_node[sid]],
            "variable": run.var_cats[lay.s_var[sid]],
            "source": run.src_cats[lay.s_src[sid]],
            "start": _days_to_ts(start),
            "end": _days_to_ts(start + days - 1),
            "days": days.astype(np.int64),
            "action": np.where(filled, "filled", "reported").astype(object),
            "method": method,
        }
    )


def _copy_kept(
    out: np.ndarray,
    a: np.ndarray,
    alive: np.ndarray,
    all_rows: bool,
    fn: Any = None,
    step: int = 1 << 20,
) -> None:
    """``out[:k] = fn(a[alive])`` in row blocks: small temporaries instead of one table-sized one."""
    pos = 0
    for s0 in range(0, len(a), step):
        part = a[s0 : s0 + step]
        if not all_rows:
            part = part[alive[s0 : s0 + step]]
        if fn is not None:
            part = fn(part)
        out[pos : pos + len(part)] = part
        pos += len(part)


def _output(run: _Run, *, sort: bool = False) -> pd.DataFrame:
    """The cleaned Readings: surviving rows in input order, then the filled rows.

    Consumes ``run``: the per-row codes, the cells and the dense values are freed as soon as
    they have been used, so that the output columns reuse their memory (a lower peak).
    """
    lay = run.layout
    frame = run.frame
    alive = run.alive
    all_rows = bool(alive.all())
    n_keep = run.n if all_rows else int(alive.sum())
    if run.fills:
        f_sid = np.concatenate([f[0] for f in run.fills])
        f_day = np.concatenate([f[1] for f in run.fills])
        f_val = np.concatenate([f[2] for f in run.fills])
        order = np.lexsort((f_day, f_sid))
        f_sid, f_day, f_val = f_sid[order], f_day[order], f_val[order]
    else:
        f_sid = np.empty(0, dtype=np.int64)
        f_day = np.empty(0, dtype=np.int64)
        f_val = np.empty(0, dtype=np.float64)
    n_fill = len(f_sid)
    n_out = n_keep + n_fill
    if n_fill:
        idt = lay.sid.dtype
        rep = np.full(lay.n_series, run.n, dtype=idt)  # first row of each series
        np.minimum.at(rep, lay.sid, np.arange(run.n, dtype=idt))
        f_rows = rep[f_sid]
    else:
        f_rows = np.empty(0, dtype=np.int64)
    s_unit = run.s_unit if run.s_unit is not None else _series_unit(run)
    # the converted rows: their output position and new unit label
    conv = run.converted
    if "units" in run.done and len(conv):
        keep_conv = alive[conv]
        conv_pos = conv if all_rows else conv - np.searchsorted(np.flatnonzero(~alive), conv)
        conv_pos = conv_pos[keep_conv]
        conv_lab = run.unit_cats[run.unit[conv[keep_conv]]]
    else:
        conv_pos = np.empty(0, dtype=np.int64)
        conv_lab = np.empty(0, dtype=object)
    # the values first, then free everything per-row or per-cell
    values = np.empty(n_out, dtype=np.float64)
    if run.x is not None:
        x = run.x
        _copy_kept(values, lay.cell, alive, all_rows, lambda cells: x[cells])
    else:
        _copy_kept(values, run.value, alive, all_rows)
    values[n_keep:] = f_val
    run.release()
    run.x = None
    run.unit = np.empty(0, dtype=np.int32)
    lay.sid = lay.cell = np.empty(0, dtype=np.int32)

    def kept(a: np.ndarray) -> np.ndarray:
        out = np.empty(n_out, dtype=a.dtype)
        _copy_kept(out, a, alive, all_rows)
        return out

    columns: dict[str, Any] = {}
    for c in frame.columns:
        col = frame[c]
        if c == "value":
            out = values
        elif c == "ts":
            out = kept(col.to_numpy())
            out[n_keep:] = _days_to_ts(f_day)
        elif c == "unit" and "units" in run.done:
            out = kept(col.to_numpy())  # then patch the converted rows
            out[conv_pos] = conv_lab
            out[n_keep:] = run.unit_cats[s_unit[f_sid]]
        elif isinstance(col.dtype, np.dtype):
            a = col.to_numpy()
            out = kept(a)
            out[n_keep:] = a[f_rows]
        else:  # extension dtype (an extra column): keep it
            src_rows = np.concatenate([np.arange(run.n)[alive], f_rows])
            out = col.take(src_rows).array
        columns[c] = out
    result = pd.DataFrame(columns, copy=False)
    if sort:
        result = result.sort_values(list(READING_KEY), kind="stable", ignore_index=True)
    return result


# ==================================================================================================
# Step 1: units
# ==================================================================================================


def _normalise_units(units: Any) -> pd.DataFrame | None:
    """The ``units`` option as a table ``node, variable, unit, units_per_case`` (float), or None.

    Accepts the scenario's ``units`` frame (``unit`` column optional: ``"unit"``), a mapping
    ``{(node, variable): pack}`` (target ``"unit"``) or None.

    Raises
    ------
    ValueError
        Wrong shape, a pack size that is not a positive finite number, or two different
        declarations of one (node, variable).
    """
    if units is None:
        return None
    if isinstance(units, pd.DataFrame):
        missing = [c for c in ("node", "variable") if c not in units.columns]
        if missing:
            raise ValueError(
                f"units table: missing column {missing[0]!r}; expected columns "
                f"['node', 'variable', 'unit', 'units_per_case'], got {list(units.columns)}"
            )
        if "unit" not in units.columns and "units_per_case" not in units.columns:
            raise ValueError(
                "units table: expected a 'unit' (target unit) and/or 'units_per_case' (pack size) column, "
                f"got {list(units.columns)}"
            )
        table = pd.DataFrame(
            {
                "node": units["node"].astype(str).to_numpy(dtype=object),
                "variable": units["variable"].astype(str).to_numpy(dtype=object),
                "unit": (
                    units["unit"].astype(str).to_numpy(dtype=object)
                    if "unit" in units.columns
                    else np.full(len(units), COUNT_UNIT, dtype=object)
                ),
                "units_per_case": (
                    pd.to_numeric(units["units_per_case"], errors="coerce").to_numpy(dtype=np.float64)
                    if "units_per_case" in units.columns
                    else np.full(len(units), np.nan)
                ),
            }
        )
    elif isinstance(units, Mapping):
        keys = list(units)
        bad = [k for k in keys if not (isinstance(k, tuple) and len(k) == 2)]
        if bad:
            raise ValueError(
                f"units mapping: key {bad[0]!r} is not a (node, variable) pair; "
                "expected {(node, variable): units_per_case}"
            )
        packs = []
        for k in keys:
            v = units[k]
            try:
                packs.append(float(v))
            except (TypeError, ValueError):
                raise ValueError(
                    f"units mapping: pack size {v!r} for {k!r} is not a number; expected units_per_case > 0"
                ) from None
        table = pd.DataFrame(
            {
                "node": np.array([str(k[0]) for k in keys], dtype=object),
                "variable": np.array([str(k[1]) for k in keys], dtype=object),
                "unit": np.full(len(keys), COUNT_UNIT, dtype=object),
                "units_per_case": np.array(packs, dtype=np.float64),
            }
        )
    else:
        raise ValueError(
            f"units must be a DataFrame (node, variable, unit, units_per_case), a mapping "
            f"{{(node, variable): units_per_case}} or None; got {type(units).__name__}"
        )
    count = table["unit"].isin(COUNT_UNITS | CASE_UNITS).to_numpy()
    pack = table["units_per_case"].to_numpy()
    bad = count & ~(np.isfinite(pack) & (pack > 0)) & ~np.isnan(pack)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"units table: units_per_case={float(pack[i])!r} for node {table['node'][i]!r}, variable "
            f"{table['variable'][i]!r} is not a positive number; expected the pack size (units per case)"
        )
    dup = table.duplicated(["node", "variable"], keep=False)
    if dup.any():
        conflict = table[dup].drop_duplicates()
        if conflict.duplicated(["node", "variable"]).any():
            row = conflict[conflict.duplicated(["node", "variable"], keep=False)].iloc[0]
            raise ValueError(
                f"units table: node {row['node']!r}, variable {row['variable']!r} is declared twice with "
                "different units or pack sizes; expected one declaration per (node, variable)"
            )
        table = table.drop_duplicates(["node", "variable"]).reset_index(drop=True)
    return table


def _apply_units(run: _Run, table: pd.DataFrame | None) -> pd.DataFrame:
    """Convert every reading to its (node, variable) target unit; audit the changed rows.

    Returns the conversions made: ``node, variable, source, from_unit, to_unit, factor, readings``.
    """
    lay = run.layout
    n_g = len(lay.g_start)
    # extend the unit vocabulary with the declared units
    unit_cats = run.unit_cats
    if table is not None and len(table):
        extra = sorted(set(table["unit"]) - set(unit_cats))
        if extra:
            unit_cats = np.concatenate([unit_cats, np.array(extra, dtype=object)])
            run.unit_cats = unit_cats
    n_u = len(unit_cats)
    # majority unit per (node, variable) group
    s_counts = np.bincount(_pair_key(lay.sid, n_u, run.unit), minlength=lay.n_series * n_u).reshape(
        lay.n_series, n_u
    )
    g_counts = np.add.reduceat(s_counts, lay.g_start, axis=0)
    # majority unit; a tie goes to a count unit (then to the first name)
    tie_break = np.isin(unit_cats, list(COUNT_UNITS)).astype(np.int64)
    g_target = (2 * g_counts.astype(np.int64) + tie_break).argmax(axis=1).astype(np.int64)
    g_pack = np.full(n_g, np.nan)
    g_declared = np.zeros(n_g, dtype=bool)
    if table is not None and len(table):
        t_node = pd.Index(run.node_cats).get_indexer(table["node"].to_numpy())
        t_var = pd.Index(run.var_cats).get_indexer(table["variable"].to_numpy())
        ok = (t_node >= 0) & (t_var >= 0)
        g_key = lay.s_node[lay.g_start].astype(np.int64) * len(run.var_cats) + lay.s_var[lay.g_start]
        t_key = t_node[ok].astype(np.int64) * len(run.var_cats) + t_var[ok]
        pos = np.searchsorted(g_key, t_key)
        pos = np.minimum(pos, n_g - 1)
        hit = g_key[pos] == t_key
        gi = pos[hit]
        g_target[gi] = pd.Index(unit_cats).get_indexer(table["unit"].to_numpy()[ok][hit])
        g_pack[gi] = table["units_per_case"].to_numpy()[ok][hit]
        g_declared[gi] = True
    s_target = g_target[lay.s_gid].astype(np.int32)
    run.s_unit = s_target
    s_mixed = s_counts[np.arange(lay.n_series), s_target] != s_counts.sum(axis=1)
    if not s_mixed.any():
        off = np.empty(0, dtype=np.int64)
    elif s_mixed.mean() < 0.5:
        cand = np.flatnonzero(s_mixed[lay.sid])
        off = cand[run.unit[cand] != s_target[lay.sid[cand]]]
    else:
        off = np.flatnonzero(run.unit != s_target[lay.sid])
    if len(off) == 0:
        return _conversions_frame(run, off, np.empty(0), np.empty(0, dtype=np.int64))
    o_unit = run.unit[off]
    o_target = s_target[lay.sid[off]]
    o_g = lay.s_gid[lay.sid[off]]
    count_u = np.isin(unit_cats, list(COUNT_UNITS))
    case_u = np.isin(unit_cats, list(CASE_UNITS))
    pack = g_pack[o_g]
    factor = np.full(len(off), np.nan)
    same_kind = (count_u[o_unit] & count_u[o_target]) | (case_u[o_unit] & case_u[o_target])
    factor[same_kind] = 1.0
    has_pack = g_declared[o_g] & np.isfinite(pack) & (pack > 0)
    up = case_u[o_unit] & count_u[o_target] & has_pack
    down = count_u[o_unit] & case_u[o_target] & has_pack
    factor[up] = pack[up]
    factor[down] = 1.0 / pack[down]
    bad = np.isnan(factor)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        r = int(off[i])
        g = int(o_g[i])
        u = unit_cats[o_unit[i]]
        t = unit_cats[o_target[i]]
        if g_declared[g]:
            conv = sorted(CASE_UNITS if t in COUNT_UNITS else COUNT_UNITS if t in CASE_UNITS else [])
            conv = conv if np.isfinite(g_pack[g]) else []
            how = (
                f"declared in the units table (pack {g_pack[g]:g})" if np.isfinite(g_pack[g]) else "declared"
            )
            expected = f"expected {t!r} ({how})" + (
                f" or a unit convertible to it ({', '.join(conv)})" if conv else ""
            )
        else:
            expected = (
                f"expected {t!r} (the unit of the other readings of this node and variable; "
                "declare the target unit and pack size in the units table to convert)"
            )
        raise DataValidationError(
            f"readings: unknown unit {u!r} in row {run.frame.index[r]!r} (node "
            f"{run.node_cats[run.node[r]]!r}, variable {run.var_cats[run.var[r]]!r}, source "
            f"{run.src_cats[run.src[r]]!r}); {expected}; {int(bad.sum())} reading(s) affected"
        )
    old = run.value[off]
    new = old * factor
    run.value[off] = new
    run.unit[off] = o_target.astype(run.unit.dtype)
    changed_unit = o_unit != o_target
    run.converted = off[changed_unit] if not changed_unit.all() else off
    # detail per conversion (few distinct strings)
    f_code, f_uniq = pd.factorize(factor)
    key = (f_code.astype(np.int64) * n_u + o_unit) * n_u + o_target
    k_code, k_uniq = pd.factorize(key)
    dstr = np.empty(len(k_uniq), dtype=object)
    for i, kk in enumerate(k_uniq):  # one per distinct (from, to, factor)
        f = float(f_uniq[kk // (n_u * n_u)])
        a, t = unit_cats[(kk // n_u) % n_u], unit_cats[kk % n_u]
        dstr[i] = f"{a} -> {t}: x{f:g}" + (" (units_per_case)" if f != 1.0 else "")
    _add_part(
        run,
        lay.sid[off],
        run.day[off],
        _R_UNITS,
        "changed",
        old,
        new,
        o_unit,
        o_target,
        dstr[k_code],
    )
    return _conversions_frame(run, off, factor, o_unit)


def _conversions_frame(run: _Run, off: np.ndarray, factor: np.ndarray, o_unit: np.ndarray) -> pd.DataFrame:
    """One row per (series, from unit, factor) converted: how many readings."""
    lay = run.layout
    cols = ["node", "variable", "source", "from_unit", "to_unit", "factor", "readings"]
    if len(off) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols}).astype(
            {"factor": np.float64, "readings": np.int64}
        )
    f_code, f_uniq = pd.factorize(factor)
    n_u = len(run.unit_cats)
    key = (lay.sid[off].astype(np.int64) * n_u + o_unit) * len(f_uniq) + f_code
    k_code, k_uniq = pd.factorize(key)
    order = np.argsort(k_uniq)
    k_uniq = k_uniq[order]
    counts = np.bincount(k_code, minlength=len(order))[order]
    s = k_uniq // (n_u * len(f_uniq))
    frm = (k_uniq // len(f_uniq)) % n_u
    fac = np.asarray(f_uniq, dtype=np.float64)[k_uniq % len(f_uniq)]
    s_unit = run.s_unit if run.s_unit is not None else _series_unit(run)
    return pd.DataFrame(
        {
            "node": run.node_cats[lay.s_node[s]],
            "variable": run.var_cats[lay.s_var[s]],
            "source": run.src_cats[lay.s_src[s]],
            "from_unit": run.unit_cats[frm],
            "to_unit": run.unit_cats[s_unit[s]],
            "factor": fac,
            "readings": counts.astype(np.int64),
        }
    )


# ==================================================================================================
# Step 2: duplicates (and the dense cells)
# ==================================================================================================


def _resolve_duplicates(run: _Run, rule: str | None) -> int:
    """Collapse repeated keys (``rule`` None: raise if there are any); build ``rowof``. Returns #dropped."""
    lay = run.layout
    n = run.n
    idx_dtype = np.int32 if n < np.iinfo(np.int32).max else np.int64
    rowof = np.full(lay.n_cells, -1, dtype=idx_dtype)
    rows = np.arange(n, dtype=idx_dtype)
    if run.alive.all():
        rowof[lay.cell] = rows
        winners = rowof[lay.cell] == rows
        alive_rows = rows
    else:
        alive_rows = np.flatnonzero(run.alive).astype(idx_dtype)
        rowof[lay.cell[alive_rows]] = alive_rows
        winners = rowof[lay.cell[alive_rows]] == alive_rows
    run.rowof = rowof
    if winners.all():
        return 0
    if rule is None:
        _contract_error(
            run.frame,
            allow_duplicates=False,
            hint="; resolve duplicates first (DuplicateResolver, or clean() which does it)",
        )
        raise DataValidationError(
            "readings: duplicate keys (node, ts, variable, source); expected one per key"
        )
    losers = alive_rows[~winners]
    del winners
    dupcell = np.zeros(lay.n_cells, dtype=bool)
    dupcell[lay.cell[losers]] = True
    inv = alive_rows[dupcell[lay.cell[alive_rows]]].astype(np.int64)
    del dupcell
    order = np.lexsort((inv, lay.cell[inv]))
    r_s = inv[order]
    c_s = lay.cell[r_s]
    first = np.r_[True, c_s[1:] != c_s[:-1]]
    starts = np.flatnonzero(first)
    sizes = np.diff(np.append(starts, len(r_s)))
    keep = r_s[first]
    grp = np.cumsum(first) - 1
    drop = r_s[~first]
    vals = run.value[r_s]
    if rule == "first":
        newv = vals[first]
    elif rule == "mean":
        newv = np.add.reduceat(vals, starts) / sizes
    else:  # median: sort values within each group
        o2 = np.lexsort((vals, grp))
        sv = vals[o2]
        lo = starts + (sizes - 1) // 2
        hi = starts + sizes // 2
        newv = 0.5 * (sv[lo] + sv[hi])
    rowof[lay.cell[keep]] = keep
    run.alive[drop] = False
    name = f"duplicate_{rule}"
    labels = run.frame.index
    keep_of_drop = keep[grp[~first]]
    detail = np.array(
        [
            f"key repeated {k}x; kept row {labels[r]!r}" + ("" if rule == "first" else f" with the {rule}")
            for k, r in zip(sizes[grp[~first]], keep_of_drop, strict=True)
        ],
        dtype=object,
    )
    _add_part(
        run,
        lay.sid[drop],
        run.day[drop],
        name,
        "dropped",
        run.value[drop],
        np.nan,
        run.unit[drop],
        -1,
        detail,
    )
    if rule != "first":
        changed = newv != vals[first]
        ck = keep[changed]
        _add_part(
            run,
            lay.sid[ck],
            run.day[ck],
            name,
            "changed",
            run.value[ck],
            newv[changed],
            run.unit[ck],
            run.unit[ck],
            np.array([f"{rule} of {k} records" for k in sizes[changed]], dtype=object),
        )
        run.value[keep] = newv
    return len(drop)


def _dense(run: _Run) -> np.ndarray:
    """The dense cell values (built once from the alive rows)."""
    if run.x is None:
        if run.rowof is None:
            _resolve_duplicates(run, None)
        x = np.full(run.layout.n_cells, np.nan)
        if run.alive.all():
            x[run.layout.cell] = run.value
        else:
            x[run.layout.cell[run.alive]] = run.value[run.alive]
        run.x = x
    return run.x


def _block_view(run: _Run, b: _Block) -> np.ndarray:
    assert run.x is not None
    return run.x[b.off : b.off + b.rows * b.width].reshape(b.rows, b.width)


# ==================================================================================================
# Step 3: noise-rate correction
# ==================================================================================================


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


def _fit_noise(run: _Run, p: Any, reference: Any, trim: float, confidence: float) -> pd.DataFrame:
    """The ``p_`` table for the (source, variable) pairs to correct."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence!r} is out of range; expected 0 < confidence < 1")
    if not (isinstance(trim, int | float) and trim > 0):
        raise ValueError(f"trim={trim!r} is out of range; expected a positive number of model SDs")
    refs = _references(reference)
    lay = run.layout
    pair_codes = np.unique(np.stack([lay.s_src, lay.s_var], axis=1), axis=0)
    pairs = [(str(run.src_cats[a]), str(run.var_cats[b])) for a, b in pair_codes]
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
        y, x = _aligned_pairs(run, s, v, ref)
        if len(y) == 0:
            warnings.warn(
                f"noise rate of source {s!r}, variable {v!r}: no day on which reference source {ref!r} "
                "reports the same node and variable; not corrected",
                stacklevel=3,
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
                stacklevel=3,
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


def _aligned_pairs(run: _Run, source: str, variable: str, reference: str) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``source`` and ``reference`` on the same node and day (both present), 1-D."""
    lay = run.layout
    x = _dense(run)
    si = np.searchsorted(run.src_cats, source)
    ri = np.searchsorted(run.src_cats, reference)
    vi = np.searchsorted(run.var_cats, variable)
    if ri >= len(run.src_cats) or run.src_cats[ri] != reference:
        return np.empty(0), np.empty(0)
    n_src = len(run.src_cats)
    gmap = np.full(len(lay.g_start) * n_src, -1, dtype=np.int64)
    gmap[lay.s_gid * n_src + lay.s_src] = np.arange(lay.n_series)
    ser = np.flatnonzero((lay.s_src == si) & (lay.s_var == vi))
    ref = gmap[lay.s_gid[ser] * n_src + ri]
    ser, ref = ser[ref >= 0], ref[ref >= 0]
    ys, xs = [], []
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
    if not ys:
        return np.empty(0), np.empty(0)
    return np.concatenate(ys), np.concatenate(xs)


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


# ==================================================================================================
# Steps 4 and 5: outliers and gaps (one pass over the dense blocks)
# ==================================================================================================


@dataclass(frozen=True)
class _OutlierConfig:
    threshold: float
    window: int
    min_ratio: float
    min_drop_ratio: float
    cross_source: bool
    agree_tol: float
    protect_zeros: bool


@dataclass(frozen=True)
class _GapConfig:
    max_gap: int
    method: str


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


# ==================================================================================================
# Transformers
# ==================================================================================================


class _Step(Transformer):
    """Cleaning steps: the shared scikit-learn conventions (:mod:`sclm.estimator`) plus the Readings columns."""

    _fitted_attr: ClassVar[str] = "n_features_in_"

    def _record_input(self, readings: pd.DataFrame) -> None:
        self.feature_names_in_ = np.asarray(list(readings.columns), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)

    def get_feature_names_out(self, input_features: Iterable[str] | None = None) -> np.ndarray:
        """The output columns: the same as the input's (cleaning keeps the Readings columns)."""
        if input_features is not None:
            return np.asarray(list(input_features), dtype=object)
        if hasattr(self, "feature_names_in_"):
            return self.feature_names_in_.copy()
        return np.asarray(READING_COLUMNS, dtype=object)

    def _finish(self, run: _Run, *, sort: bool = False) -> pd.DataFrame:
        self.audit_ = _audit_frame(run)
        self.gaps_ = _gaps_frame(run)
        run.parts.clear()
        return _output(run, sort=sort)  # last: it frees the run as it goes


class UnitConverter(_Step):
    """Convert every reading to the target unit of its (node, variable).

    Parameters
    ----------
    units
        The declarations: the scenario's ``units`` frame (``node, variable, unit, units_per_case``;
        ``unit`` is the target), a mapping ``{(node, variable): units_per_case}`` (target
        ``"unit"``) or None.  Without a declaration, the target is the unit most readings of that
        (node, variable) use.  ``case`` ↔ count units convert with the pack size
        (``units = cases × units_per_case``); count-unit aliases (``units``, ``pcs``...) map 1:1.

    Attributes
    ----------
    table_ : pandas.DataFrame or None
        The normalised declarations ``node, variable, unit, units_per_case``.
    conversions_ : pandas.DataFrame
        The conversions seen at fit: ``node, variable, source, from_unit, to_unit, factor, readings``.
    audit_ : Audit
        The audit of the last ``transform`` (rule ``unit_conversion``, action ``changed``).

    Raises
    ------
    DataValidationError
        (at fit/transform) A reading whose unit is neither the target nor convertible to it: the
        message names the unit, the row, the node and the variable.
    """

    def __init__(self, units: pd.DataFrame | Mapping[tuple[str, str], float] | None = None) -> None:
        self.units = units

    def fit(self, readings: pd.DataFrame, y: Any = None) -> UnitConverter:
        """Normalise the declarations and check that every reading converts; returns ``self``."""
        self.table_ = _normalise_units(self.units)
        run = _encode(readings)
        self.conversions_ = _apply_units(run, self.table_)
        self._record_input(readings)
        return self

    def transform(self, readings: pd.DataFrame) -> pd.DataFrame:
        """Converted copy of ``readings`` (same rows and order); the audit is in ``audit_``."""
        self._check_fitted()
        run = _encode(readings)
        _apply_units(run, self.table_)
        run.done.add("units")
        return self._finish(run)


class DuplicateResolver(_Step):
    """Collapse readings that share the key (node, ts, variable, source).

    Parameters
    ----------
    rule
        ``"first"`` (default: keep the reading entered first, in input order — a re-entered ERP
        record follows its original), ``"mean"`` or ``"median"`` (keep the first row with the
        group's mean / median).  Every dropped row is audited (rule ``duplicate_<rule>``,
        action ``dropped``; a kept row whose value changes: action ``changed``).

    Attributes
    ----------
    rule_ : str
        The rule applied.
    audit_ : Audit
        The audit of the last ``transform``.
    """

    def __init__(self, rule: str = "first") -> None:
        self.rule = rule

    def fit(self, readings: pd.DataFrame, y: Any = None) -> DuplicateResolver:
        """Check the rule and the table; returns ``self``."""
        if self.rule not in DUPLICATE_RULES:
            raise ValueError(
                f"rule={self.rule!r} is not a duplicate rule; expected one of {list(DUPLICATE_RULES)}"
            )
        _check_readings(readings)
        self.rule_ = self.rule
        self._record_input(readings)
        return self

    def transform(self, readings: pd.DataFrame) -> pd.DataFrame:
        """Copy of ``readings`` without repeated keys; the audit is in ``audit_``."""
        self._check_fitted()
        run = _encode(readings)
        _resolve_duplicates(run, self.rule_)
        return self._finish(run)


class NoiseRateCorrector(_Step):
    """Undo the counter undercount ``q' = (1 - p)·q`` of the article: ``q = q' / (1 - p)``.

    Parameters
    ----------
    p
        None (default): estimate ``p`` per (source, variable) for every counting source (the keys
        of ``reference``) with :func:`estimate_noise_rate`.  A number in ``[0, 1)``: that ``p`` for
        every counting source.  A mapping ``{source: p}`` or ``{(source, variable): p}`` (a value
        None means "estimate"); these keys choose the corrected series.
    reference
        Which source each counter is reconciled against: None → ``{"iot": "erp"}``; a string →
        ``{"iot": string}``; or a mapping ``{source: reference source}``.
    confidence
        Coverage of the confidence interval of an estimated ``p`` (default 0.95).
    trim
        Screening threshold of the estimator, in model standard deviations (default 4; see
        :func:`estimate_noise_rate`).

    Attributes
    ----------
    p_ : pandas.DataFrame
        One row per corrected (source, variable): :data:`P_COLUMNS` = ``source, variable, p_hat,
        ci_low, ci_high, n_days, n_screened, reference, applied`` (``reference`` ``"(given)"`` and
        NaN CI for a given p; ``n_screened``: days the estimator set aside as implausible;
        ``applied`` False when no estimate could be made or it fell outside ``[0, 1)``, which
        warns and leaves the series uncorrected).
    audit_ : Audit
        The audit of the last ``transform`` (rule ``noise_rate``, action ``changed``).

    Notes
    -----
    The readings must have unique keys and comparable units (run units and duplicates first, as
    :class:`ReadingsCleaner` does).  A given ``p`` outside ``[0, 1)`` raises a :class:`ValueError`;
    an estimate outside ``[0, 1)`` warns and is not applied (``applied`` False in ``p_``).
    """

    def __init__(
        self,
        p: float | Mapping[Any, float | None] | None = None,
        *,
        reference: str | Mapping[str, str] | None = None,
        confidence: float = 0.95,
        trim: float = 4.0,
    ) -> None:
        self.p = p
        self.reference = reference
        self.confidence = confidence
        self.trim = trim

    def fit(self, readings: pd.DataFrame, y: Any = None) -> NoiseRateCorrector:
        """Estimate (or record) ``p`` per corrected (source, variable) into ``p_``; returns ``self``."""
        _references(self.reference)
        _p_targets(self.p, _references(self.reference), [])  # range checks before touching data
        run = _encode(readings)
        _resolve_duplicates(run, None)
        self.p_ = _fit_noise(run, self.p, self.reference, self.trim, self.confidence)
        self._record_input(readings)
        return self

    def transform(self, readings: pd.DataFrame) -> pd.DataFrame:
        """Corrected copy of ``readings``; the audit is in ``audit_``."""
        self._check_fitted()
        run = _encode(readings)
        _resolve_duplicates(run, None)
        _apply_noise(run, self.p_)
        return self._finish(run)


class OutlierFilter(_Step):
    """Remove outliers: Hampel rule on a seasonal baseline plus a cross-source check.

    The rule is in the module docstring and in ``rule_``.  Flagged readings are removed (audit
    action ``dropped``, rule ``outlier_hampel`` or ``outlier_cross_source``, the score in
    ``detail``); :class:`ReadingsCleaner` refills them in place with the gap step.

    Parameters
    ----------
    threshold
        Robust z-score above which a value may be flagged (default 5).
    window
        Neighbours on each side in the centred rolling median of the weekday-adjusted series
        (default 2: days t±1, t±2).
    min_ratio
        A spike must be at least this multiple of the baseline, and of every neighbour (default 2).
    min_drop_ratio
        A drop must be below the baseline divided by this (default 10).
    cross_source
        Use the other sources of the same node, variable and day (default True).
    agree_tol
        Relative difference within which two sources agree (default 0.25): agreeing values are
        never flagged.
    protect_zeros
        Never flag an exact zero of a count series by the temporal rule (default True).
    count_units
        Units treated as counts (Poisson term, zero protection); default :data:`COUNT_UNITS` and
        ``case``.

    Attributes
    ----------
    rule_ : str
        The rule and thresholds, as text.
    audit_ : Audit
        The audit of the last ``transform``.
    """

    def __init__(
        self,
        threshold: float = 5.0,
        *,
        window: int = 2,
        min_ratio: float = 2.0,
        min_drop_ratio: float = 10.0,
        cross_source: bool = True,
        agree_tol: float = 0.25,
        protect_zeros: bool = True,
        count_units: Collection[str] | None = None,
    ) -> None:
        self.threshold = threshold
        self.window = window
        self.min_ratio = min_ratio
        self.min_drop_ratio = min_drop_ratio
        self.cross_source = cross_source
        self.agree_tol = agree_tol
        self.protect_zeros = protect_zeros
        self.count_units = count_units

    def _config(self) -> _OutlierConfig:
        return _outlier_config(
            self.threshold,
            self.window,
            self.min_ratio,
            self.min_drop_ratio,
            self.cross_source,
            self.agree_tol,
            self.protect_zeros,
        )

    def fit(self, readings: pd.DataFrame, y: Any = None) -> OutlierFilter:
        """Check the parameters and the table; record ``rule_``; returns ``self``."""
        cfg = self._config()
        _check_readings(readings)
        self.rule_ = _outlier_rule_text(cfg)
        self._record_input(readings)
        return self

    def transform(self, readings: pd.DataFrame) -> pd.DataFrame:
        """Copy of ``readings`` without the flagged values; the audit is in ``audit_``."""
        self._check_fitted()
        run = _encode(readings)
        _resolve_duplicates(run, None)
        _dense_pass(run, self._config(), None, self.count_units)
        return self._finish(run)


class GapFiller(_Step):
    """Reindex each (node, variable, source) series to daily and fill short gaps.

    Parameters
    ----------
    max_gap
        Longest run of missing days that is filled (default 3); longer runs are reported (audit
        action ``reported``, rule ``gap_too_long``, and ``gaps_``), not invented.
    method
        ``"seasonal"`` (default: linear interpolation of the weekday-adjusted series, times the
        weekday profile), ``"linear"`` (time interpolation) or ``"weekday"`` (median of the same
        weekday ±7 and ±14 days, else seasonal).  A gap at a series' edge takes the nearest value.

    Attributes
    ----------
    gaps_ : pandas.DataFrame
        Every gap of the last ``transform``: :data:`GAP_COLUMNS`.
    audit_ : Audit
        The audit of the last ``transform`` (rule ``gap_<method>``: ``filled``).
    """

    def __init__(self, max_gap: int = 3, *, method: str = "seasonal") -> None:
        self.max_gap = max_gap
        self.method = method

    def fit(self, readings: pd.DataFrame, y: Any = None) -> GapFiller:
        """Check the parameters and the table; returns ``self``."""
        self.config_ = _gap_config(self.max_gap, self.method)
        _check_readings(readings)
        self._record_input(readings)
        return self

    def transform(self, readings: pd.DataFrame) -> pd.DataFrame:
        """Copy of ``readings`` plus the filled days; the audit is in ``audit_``."""
        self._check_fitted()
        run = _encode(readings)
        _resolve_duplicates(run, None)
        _dense_pass(run, None, self.config_, None)
        return self._finish(run)


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


def _gap_config(max_gap: int, method: str) -> _GapConfig:
    if isinstance(max_gap, bool) or not isinstance(max_gap, int | np.integer) or max_gap < 0:
        raise ValueError(f"max_gap={max_gap!r} is out of range; expected an int >= 0 (days)")
    if method not in FILL_METHODS:
        raise ValueError(f"fill method {method!r} is unknown; expected one of {list(FILL_METHODS)}")
    return _GapConfig(int(max_gap), method)


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


class ReadingsCleaner(_Step):
    """The cleaning pipeline: units → duplicates → noise rate → outliers → gaps (see the module docstring).

    Parameters
    ----------
    units
        Unit declarations (see :class:`UnitConverter`), e.g. ``scenario.units``.
    duplicates
        Duplicate rule: ``"first"`` (default), ``"mean"`` or ``"median"``.
    p, reference, confidence, trim
        Noise-rate correction (see :class:`NoiseRateCorrector`); default: estimate ``p`` of source
        ``"iot"`` against ``"erp"``.
    outlier_threshold, outlier_window, min_ratio, min_drop_ratio, cross_source, agree_tol, protect_zeros
        Outlier rule (see :class:`OutlierFilter`).
    max_gap, fill
        Gap filling (see :class:`GapFiller`): longest filled gap in days (default 3) and the method.
    skip
        Steps to turn off, names from :data:`STEPS` (e.g. ``("outliers",)``).  Skipping
        ``duplicates`` is only possible when no key repeats.
    sort
        Sort the output by (node, ts, variable, source) (default False: input order, filled rows last).
    count_units
        Units treated as counts by the outlier rule (default :data:`COUNT_UNITS` and ``case``).
    n_jobs
        Threads for the outlier and gap pass (None: up to 4; -1: every CPU; 1: none).  The result
        does not depend on it.

    Attributes
    ----------
    units_table_ : pandas.DataFrame or None
        Normalised unit declarations.
    conversions_ : pandas.DataFrame
        Unit conversions seen at fit.
    p_ : pandas.DataFrame
        Noise rates (:data:`P_COLUMNS`) used by ``transform``.
    outlier_rule_ : str
        The outlier rule and thresholds.
    rules_ : dict
        The rule of every step (what the audit's ``rule`` values mean).
    audit_ : Audit
        Audit of the last ``transform`` (``clean`` returns it).
    gaps_ : pandas.DataFrame
        Gaps of the last ``transform`` (:data:`GAP_COLUMNS`).
    """

    def __init__(
        self,
        *,
        units: pd.DataFrame | Mapping[tuple[str, str], float] | None = None,
        duplicates: str = "first",
        p: float | Mapping[Any, float | None] | None = None,
        reference: str | Mapping[str, str] | None = None,
        confidence: float = 0.95,
        trim: float = 4.0,
        outlier_threshold: float = 5.0,
        outlier_window: int = 2,
        min_ratio: float = 2.0,
        min_drop_ratio: float = 10.0,
        cross_source: bool = True,
        agree_tol: float = 0.25,
        protect_zeros: bool = True,
        max_gap: int = 3,
        fill: str = "seasonal",
        skip: Collection[str] = (),
        sort: bool = False,
        count_units: Collection[str] | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.units = units
        self.duplicates = duplicates
        self.p = p
        self.reference = reference
        self.confidence = confidence
        self.trim = trim
        self.outlier_threshold = outlier_threshold
        self.outlier_window = outlier_window
        self.min_ratio = min_ratio
        self.min_drop_ratio = min_drop_ratio
        self.cross_source = cross_source
        self.agree_tol = agree_tol
        self.protect_zeros = protect_zeros
        self.max_gap = max_gap
        self.fill = fill
        self.skip = skip
        self.sort = sort
        self.count_units = count_units
        self.n_jobs = n_jobs

    # -- parameters -----------------------------------------------------------------------------
    def _steps(self) -> set[str]:
        skip = [self.skip] if isinstance(self.skip, str) else list(self.skip)
        unknown = [s for s in skip if s not in STEPS]
        if unknown:
            raise ValueError(f"skip: unknown step {unknown[0]!r}; expected names from {list(STEPS)}")
        return set(STEPS) - set(skip)

    def _validate(self) -> None:
        steps = self._steps()
        if "duplicates" in steps and self.duplicates not in DUPLICATE_RULES:
            raise ValueError(
                f"duplicates={self.duplicates!r} is not a duplicate rule; expected one of {list(DUPLICATE_RULES)}"
            )
        if "noise_rate" in steps:
            refs = _references(self.reference)
            _p_targets(self.p, refs, [])
        self._ocfg = (
            _outlier_config(
                self.outlier_threshold,
                self.outlier_window,
                self.min_ratio,
                self.min_drop_ratio,
                self.cross_source,
                self.agree_tol,
                self.protect_zeros,
            )
            if "outliers" in steps
            else None
        )
        self._gcfg = _gap_config(self.max_gap, self.fill) if "gaps" in steps else None
        self._active = steps

    # -- the work -------------------------------------------------------------------------------
    def _fit_run(self, run: _Run) -> None:
        steps = self._active
        self.units_table_ = _normalise_units(self.units) if "units" in steps else None
        if "units" in steps:
            self.conversions_ = _apply_units(run, self.units_table_)
            run.done.add("units")
        else:
            self.conversions_ = _conversions_frame(run, np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
        _resolve_duplicates(run, self.duplicates if "duplicates" in steps else None)
        run.done.add("duplicates")
        if "noise_rate" in steps:
            self.p_ = _fit_noise(run, self.p, self.reference, self.trim, self.confidence)
        else:
            self.p_ = pd.DataFrame({c: pd.Series(dtype=object) for c in P_COLUMNS}).astype(_P_DTYPES)
        self.outlier_rule_ = _outlier_rule_text(self._ocfg) if self._ocfg is not None else "(off)"
        self.rules_ = {
            "units": "convert to the declared (or majority) unit; cases x units_per_case"
            if "units" in steps
            else "(off)",
            "duplicates": f"duplicate_{self.duplicates}" if "duplicates" in steps else "(off)",
            "noise_rate": "q = q'/(1-p); p given or binomial-thinning ratio of sums vs reference over "
            "screened days (delta-method/Wilson CI); an estimate outside [0, 1) is not applied"
            if "noise_rate" in steps
            else "(off)",
            "outliers": self.outlier_rule_,
            "gaps": (
                f"fill runs <= {self._gcfg.max_gap} day(s) by {self._gcfg.method}; report longer runs"
                if self._gcfg is not None
                else "(off)"
            ),
        }

    def _transform_run(self, run: _Run) -> pd.DataFrame:
        steps = self._active
        if "units" in steps and "units" not in run.done:
            _apply_units(run, self.units_table_)
            run.done.add("units")
        if "duplicates" not in run.done:
            _resolve_duplicates(run, self.duplicates if "duplicates" in steps else None)
            run.done.add("duplicates")
        if "noise_rate" in steps:
            _apply_noise(run, self.p_)
        if self._ocfg is not None or self._gcfg is not None:
            _dense_pass(run, self._ocfg, self._gcfg, self.count_units, self.n_jobs)
        return self._finish(run, sort=bool(self.sort))

    # -- public API -----------------------------------------------------------------------------
    def fit(self, readings: pd.DataFrame, y: Any = None) -> ReadingsCleaner:
        """Learn the unit conversions and the noise rates (``p_``) from ``readings``; returns ``self``."""
        self._validate()
        run = _encode(readings)
        self._fit_run(run)
        self._record_input(readings)
        return self

    def transform(self, readings: pd.DataFrame) -> pd.DataFrame:
        """The cleaned copy of ``readings``; the audit is in ``audit_`` and the gaps in ``gaps_``."""
        self._check_fitted()
        self._validate()
        return self._transform_run(_encode(readings))

    def fit_transform(self, readings: pd.DataFrame, y: Any = None) -> pd.DataFrame:
        """``fit(readings).transform(readings)``, encoding the table once."""
        self._validate()
        run = _encode(readings)
        self._fit_run(run)
        self._record_input(readings)
        return self._transform_run(run)


def clean(readings: pd.DataFrame, **options: Any) -> tuple[pd.DataFrame, Audit]:
    """Clean a Readings table: units → duplicates → noise rate → outliers → gaps.

    Equivalent to ``ReadingsCleaner(**options).fit(readings).transform(readings)`` (it calls
    ``fit_transform``, which encodes the table once) and returns the audit with the table.

    Parameters
    ----------
    readings
        Raw Readings (columns ``ts, node, node_type, variable, value, unit, source``; duplicated
        keys allowed).  Not modified.
    **options
        :class:`ReadingsCleaner` parameters, e.g. ``units=scenario.units``, ``p=0.1``,
        ``reference={"iot": "erp"}``, ``max_gap=3``, ``skip=("outliers",)``.

    Returns
    -------
    cleaned : pandas.DataFrame
        Same columns and dtypes, one row per key (passes ``validate_readings(...,
        allow_duplicates=False)``).
    audit : Audit
        Every changed, dropped, filled or reported value (:data:`AUDIT_COLUMNS`);
        ``len(cleaned) == len(readings) - dropped + filled``.

    Raises
    ------
    sclm.schema.DataValidationError
        Bad input: empty table, missing column, wrong dtype, NaN/NaT, negative quantity, unknown unit.
    ValueError
        Bad option, e.g. ``p`` outside ``[0, 1)``.
    """
    cleaner = ReadingsCleaner(**options)
    cleaned = cleaner.fit_transform(readings)
    return cleaned, cleaner.audit_
