"""Private: the cleaned Readings table, the audit frame and the gaps frame of a finished run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sclm.cleaning._engine import _days_to_ts, _Run, _series_unit
from sclm.cleaning.audit import Audit, _empty_audit
from sclm.schema import READING_KEY


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


def _imputed_frame(run: _Run) -> pd.DataFrame:
    """Keys (node, ts, variable, source) of the readings cleaning invented, from the audit's codes.

    The rows of :func:`sclm.scoring.imputed_keys` applied to the audit (a gap fill, action
    ``filled``, or a value put in place of an outlier, rule ``outlier_*`` with action ``changed``),
    first occurrence in audit order, without a string scan of the audit: the parts know their rule
    and action, and the keys are (series id, day) integers until the labels are taken at the end.
    """
    lay = run.layout
    sids, days = [], []
    for p in run.parts:
        if p.action == "filled":
            keep = None
        elif p.action == "changed":
            if isinstance(p.rule, str):
                if not p.rule.startswith("outlier"):
                    continue
                keep = None
            else:
                rules = np.asarray(p.rule, dtype=object)
                names = pd.unique(rules)
                hit = [r for r in names if str(r).startswith("outlier")]
                if not hit:
                    continue
                keep = None if len(hit) == len(names) else np.isin(rules, hit)
        else:
            continue
        sids.append(p.sid if keep is None else p.sid[keep])
        days.append(p.day if keep is None else p.day[keep])
    if sids:
        sid = np.concatenate(sids)
        day = np.concatenate(days)
    else:
        sid = np.empty(0, dtype=np.int64)
        day = np.empty(0, dtype=np.int64)
    if len(sid):  # drop repeated keys, keeping the first (a key is (series, day))
        span = int(day.max()) - int(day.min()) + 1
        _, first = np.unique(sid * span + (day - day.min()), return_index=True)
        if len(first) < len(sid):
            first.sort()
            sid, day = sid[first], day[first]
    if lay is None or not len(sid):
        obj = np.empty(0, dtype=object)
        return pd.DataFrame(
            {
                "node": obj,
                "ts": np.empty(0, dtype="datetime64[ns]"),
                "variable": obj.copy(),
                "source": obj.copy(),
            }
        )
    return pd.DataFrame(
        {
            "node": run.node_cats[lay.s_node[sid]],
            "ts": _days_to_ts(day),
            "variable": run.var_cats[lay.s_var[sid]],
            "source": run.src_cats[lay.s_src[sid]],
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
    unit_codes = None
    if "units" in run.done and isinstance(frame["unit"].dtype, pd.CategoricalDtype):
        unit_codes = np.empty(n_out, dtype=np.int32)  # a categorical unit column stays categorical
        _copy_kept(unit_codes, run.unit, alive, all_rows)
        unit_codes[n_keep:] = s_unit[f_sid]
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
        elif c == "unit" and unit_codes is not None:
            out = pd.Categorical.from_codes(unit_codes, categories=pd.Index(run.unit_cats, dtype=object))
        elif c == "unit" and "units" in run.done:
            out = kept(col.to_numpy())  # then patch the converted rows
            out[conv_pos] = conv_lab
            out[n_keep:] = run.unit_cats[s_unit[f_sid]]
        elif isinstance(col.dtype, np.dtype):
            a = col.to_numpy()
            out = kept(a)
            out[n_keep:] = a[f_rows]
        elif isinstance(col.dtype, pd.CategoricalDtype):  # a category label column: copy its codes
            codes = col.cat.codes.to_numpy()
            out_codes = kept(codes)
            out_codes[n_keep:] = codes[f_rows]
            out = pd.Categorical.from_codes(out_codes, dtype=col.dtype, validate=False)
        else:  # extension dtype (an extra column): keep it
            src_rows = np.concatenate([np.arange(run.n)[alive], f_rows])
            out = col.take(src_rows).array
        columns[c] = out
    result = pd.DataFrame(columns, copy=False)
    if sort:
        result = result.sort_values(list(READING_KEY), kind="stable", ignore_index=True)
    return result
