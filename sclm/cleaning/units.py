"""Step 1 of the cleaning: unit conversion (used by :class:`~sclm.cleaning.UnitConverter`).

Every reading is converted to the target unit of its (node, variable): the unit declared in the
``units`` table (the scenario's ``units`` frame: ``node, variable, unit, units_per_case``, or a
mapping ``{(node, variable): pack}`` whose target is ``"unit"``); without a declaration, the unit
most readings of that (node, variable) use (a tie goes to a count unit).  Cases ↔ units use the
declared pack size (``units = cases × units_per_case``).  Any other unit is an error naming the
unit, the row, the node and the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sclm.cleaning._engine import _add_part, _pair_key, _Run, _series_unit
from sclm.schema import DataValidationError

__all__ = ["COUNT_UNITS"]


COUNT_UNIT = "unit"
CASE_UNITS: frozenset[str] = frozenset({"case", "cases"})
COUNT_UNITS: frozenset[str] = frozenset(
    {"unit", "units", "pcs", "piece", "pieces", "each", "ea", "item", "items", "count", "counts"}
)
"""Units that count items (one pack of ``units_per_case`` of them is a case)."""


# the rule name written to the audit
_R_UNITS = "unit_conversion"


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
