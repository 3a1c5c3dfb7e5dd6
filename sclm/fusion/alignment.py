"""Alignment: the readings wide over sources, one row per (node, day, variable)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sclm.fusion._table import _days_index, _dense, _read

__all__ = ["align"]


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
