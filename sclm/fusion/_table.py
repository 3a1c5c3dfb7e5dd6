"""Private engine: Readings → integer codes → one dense (cell × source) array per variable.

Validation runs on the codes, vectorised; a failure is re-checked by
:func:`~sclm.schema.validate_readings` on the offending rows so the message is the contract's own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sclm._labels import NonStringLabelError, category_codes, sorted_codes
from sclm.schema import QUANTITY_VARIABLES, DataValidationError, readings_columns_ok, validate_readings

CASE_UNIT = "case"
_NS_PER_DAY = 86_400_000_000_000


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


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (R,) int32 into the sorted uniques (K,); -1 for missing values.

    :func:`sclm._labels.sorted_codes` (one hash per run of a sorted column); a missing label is
    code -1 here (``_read`` reports it with the contract's message), and ``str`` subclasses
    such as ``numpy.str_`` count as labels.
    """
    try:
        if isinstance(col.dtype, pd.CategoricalDtype):
            return category_codes(col, missing="sentinel")
        return sorted_codes(col.to_numpy(), missing="sentinel", runs=True, str_subclasses=True)
    except NonStringLabelError as e:
        raise DataValidationError(
            f"readings: column {col.name!r} holds non-string values, e.g. {e.examples!r}; expected str"
        ) from None


def _fail(readings: pd.DataFrame, rows: np.ndarray, what: str, *, allow_duplicates: bool) -> None:
    """Let :func:`~sclm.schema.validate_readings` word the failure of the offending rows; else raise ``what``.

    ``rows`` is a bool mask or integer positions (at most 50 are re-validated).
    """
    pos = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows)
    validate_readings(readings.iloc[pos[:50]], allow_duplicates=allow_duplicates)
    raise DataValidationError(f"readings: {what}")


_BLOCK = 1 << 16  # rows per block of the row checks (cache-sized temporaries)


def _day_numbers(ns: np.ndarray) -> np.ndarray | None:
    """Days since 1970-01-01 (int32) of midnight timestamps (int64 ns), or None if any is not midnight.

    Block by block: no table-sized int64 temporaries.  NaT (int64 min) is not a midnight.
    """
    day = np.empty(len(ns), dtype=np.int32)
    for s0 in range(0, len(ns), _BLOCK):
        block = ns[s0 : s0 + _BLOCK]
        d = block // _NS_PER_DAY
        with np.errstate(over="ignore"):
            if not np.array_equal(d * _NS_PER_DAY, block):
                return None
        day[s0 : s0 + _BLOCK] = d
    return day


def _any_negative_quantity(value: np.ndarray, var: np.ndarray, quantity: np.ndarray) -> bool:
    """Whether a reading of a quantity variable (``quantity[var]``) is negative, block by block."""
    for s0 in range(0, len(value), _BLOCK):
        neg = value[s0 : s0 + _BLOCK] < 0
        if neg.any() and quantity[var[s0 : s0 + _BLOCK][neg]].any():
            return True
    return False


def _read(readings: pd.DataFrame) -> _Table:
    """Validate ``readings`` against the Readings contract (no duplicate keys) and encode them.

    The column-level contract (presence, dtypes) is checked by :func:`~sclm.schema.validate_readings` on one
    row; the row-level checks (missing values, negative quantities, duplicate keys) run here on
    integer codes, vectorised, and any failure is re-checked by :func:`~sclm.schema.validate_readings` on the
    offending rows so the message is the contract's own.
    """
    if not isinstance(readings, pd.DataFrame) or len(readings) == 0:
        validate_readings(readings, allow_duplicates=False)  # raises: not a frame / empty
    if not readings_columns_ok(readings):  # columns and dtypes; the contract words a failure
        validate_readings(readings.iloc[:1], allow_duplicates=False)
    codes = {}
    uniques = {}
    for c in ("node", "node_type", "variable", "source", "unit"):
        codes[c], uniques[c] = _codes(readings[c])
        if (codes[c] < 0).any():
            _fail(readings, codes[c] < 0, f"column {c!r} has missing values", allow_duplicates=True)
    value = readings["value"].to_numpy(dtype=np.float64)
    if np.isnan(value).any():
        _fail(readings, np.isnan(value), "column 'value' has NaN", allow_duplicates=True)
    # days: integer division of the nanoseconds (no hashing); NaT and times of day are refused
    ns = readings["ts"].to_numpy().view(np.int64)  # datetime64[ns], checked
    day = _day_numbers(ns)
    if day is None:  # a NaT or a time of day somewhere: find and word it
        nat = ns == np.iinfo(np.int64).min
        if nat.any():
            _fail(readings, nat, "column 'ts' has NaT", allow_duplicates=True)
        bad = np.flatnonzero(ns % _NS_PER_DAY != 0)
        raise DataValidationError(
            f"readings: column 'ts' has a time of day in rows {list(readings.index[bad[:5]])} "
            f"(of {len(bad)}), e.g. {readings['ts'].iloc[bad[0]]}; expected daily dates at midnight "
            "(aggregate intraday readings to days first)"
        )
    first = int(day.min())
    day -= np.int32(first)
    variables = uniques["variable"]
    quantity = np.isin(variables, list(QUANTITY_VARIABLES))
    if _any_negative_quantity(value, codes["variable"], quantity):
        negative = quantity[codes["variable"]] & (value < 0)
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
        n_days=int(day.max()) + 1,
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
