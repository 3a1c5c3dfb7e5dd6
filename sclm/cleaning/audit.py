"""The audit log of the cleaning steps: :class:`Audit` and :func:`summary`.

One row per changed, dropped, filled or reported value, columns :data:`AUDIT_COLUMNS`:
``node, ts, variable, source, rule, action, old_value, new_value, old_unit, new_unit, detail``,
in pipeline order.  ``action`` is ``changed`` / ``dropped`` / ``filled`` / ``reported``
(:data:`ACTIONS`).  Nothing is lost: ``len(cleaned) == len(readings) - dropped + filled``.
:meth:`Audit.summary` (or :func:`summary`) counts rule × action.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

__all__ = ["ACTIONS", "AUDIT_COLUMNS", "Audit", "summary"]


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
