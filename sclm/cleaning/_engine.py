"""Private engine of the cleaning steps: the encoded run, the series layout and the audit parts.

Performance
-----------
Everything is vectorised: (node, variable, source) are encoded as integer series ids (label
columns are factorized once, :mod:`sclm._labels`), ``ts`` as day numbers, and the values are
scattered into dense ``(series × days)`` blocks (series of one (node, variable) share their
columns, so sources align by column; series of very different spans go to different blocks).
Rolling medians, MADs, gap runs and interpolation are numpy operations on cache-sized row chunks,
run on a few threads (``n_jobs``; the result does not depend on it); the audit is built from the
changed cells only.  No Python loop runs over rows or series.  Cleaning the 10-million-reading
manufacturing scenario takes a few seconds (see ``bench/cleaning_fusion.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sclm._labels import category_codes, sorted_codes
from sclm.schema import QUANTITY_VARIABLES, READING_COLUMNS, DataValidationError, validate_readings

_DAY_NS = 86_400_000_000_000
_CHUNK_CELLS = 1 << 19  # cells per row chunk of the dense blocks (bounded temporaries, threads pay off)
_STRING_COLUMNS = ("node", "node_type", "variable", "unit", "source")


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


def _days_to_ts(day: np.ndarray) -> np.ndarray:
    """Day numbers (days since 1970-01-01) → datetime64[ns]."""
    return (np.asarray(day, dtype=np.int64) * _DAY_NS).view("datetime64[ns]")


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
    categorical = [c for c in _STRING_COLUMNS if isinstance(readings[c].dtype, pd.CategoricalDtype)]
    for c in _STRING_COLUMNS:
        dtype_ok &= readings[c].dtype == np.dtype(object) or c in categorical
    for c in categorical:  # str categories, no missing code (the schema words the failure)
        col = readings[c]
        if (col.cat.codes.to_numpy() < 0).any() or pd.api.types.infer_dtype(
            col.cat.categories, skipna=False
        ) not in ("string", "empty"):
            _contract_error(readings)
    if not dtype_ok:
        _contract_error(readings)
        bad = [
            f"{c!r} has dtype {readings[c].dtype}"
            for c, want in [("ts", "datetime64[ns]"), ("value", "float64")]
            + [(c, "object") for c in _STRING_COLUMNS if c not in categorical]
            if str(readings[c].dtype) != want
        ]
        raise DataValidationError(
            f"readings: column {'; '.join(bad)}; expected ts datetime64[ns], value float64 and "
            "object (str) or category (str categories) columns node, node_type, variable, unit, source"
        )
    tsv = ts.to_numpy()
    if np.isnat(tsv).any():
        _contract_error(readings)
    vals = value.to_numpy()
    if np.isnan(vals).any():
        _contract_error(readings)
    for c in strings:
        if c in categorical:
            continue
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
            col = readings[c]
            if isinstance(col.dtype, pd.CategoricalDtype):
                codes[c], cats[c] = category_codes(col)
            else:
                codes[c], cats[c] = sorted_codes(col.to_numpy())
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
        sid, skeys = sorted_codes(key)
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
