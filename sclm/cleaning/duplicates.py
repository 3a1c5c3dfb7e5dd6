"""Step 2 of the cleaning: duplicate keys, and the dense cells the later steps work on.

Readings sharing the key (node, ts, variable, source) collapse to one: ``"first"`` (default: the
record entered first, in input order, is kept; re-entries are dropped), ``"mean"`` or ``"median"``
(the first row is kept with the mean / median of the group).  Every dropped row is audited.
Used by :class:`~sclm.cleaning.DuplicateResolver`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sclm.cleaning._engine import _add_part, _Block, _contract_error, _Run
from sclm.schema import DataValidationError

DUPLICATE_RULES: tuple[str, ...] = ("first", "mean", "median")


def _plain(label: Any) -> Any:
    """A numpy scalar label as the Python scalar (its repr does not depend on the index type)."""
    return label.item() if isinstance(label, np.generic) else label


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
            f"key repeated {k}x; kept row {_plain(labels[r])!r}"
            + ("" if rule == "first" else f" with the {rule}")
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
