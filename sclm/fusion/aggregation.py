"""Node aggregation: sum or average a Panel's nodes into groups, with one rule per variable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sclm.fusion._common import _choice, _Transformer
from sclm.schema import QUANTITY_VARIABLES, DataValidationError

__all__ = ["AGG_RULES", "UNMAPPED", "NodeAggregator", "default_rule"]

AGG_RULES: tuple[str, ...] = ("sum", "mean")
"""How :class:`~sclm.fusion.NodeAggregator` combines the nodes of a group."""

UNMAPPED: tuple[str, ...] = ("error", "self", "drop")
"""What :class:`~sclm.fusion.NodeAggregator` does with a node that has no group."""


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
