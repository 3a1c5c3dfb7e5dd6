"""Report objects of fusion: the columns of the fitted tables and :class:`FusionReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from sclm.fusion.aggregation import NodeAggregator
    from sclm.fusion.fuser import SourceFuser

__all__ = ["FILLED_COLUMNS", "PAIR_COLUMNS", "WEIGHT_COLUMNS", "FusionReport"]

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
"""Columns of :attr:`~sclm.fusion.SourceFuser.weights_`."""

PAIR_COLUMNS: tuple[str, ...] = (
    "variable",
    "group",
    "source_a",
    "source_b",
    "n_days",
    "median_diff",
    "var_diff",
)
"""Columns of :attr:`~sclm.fusion.SourceFuser.pairs_`."""

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
"""Columns of :attr:`~sclm.fusion.SourceFuser.filled_`."""


@dataclass
class FusionReport:
    """What :func:`~sclm.fusion.fuse` did: the weights, the filled cells and the fitted transformers."""

    weights: pd.DataFrame
    pairs: pd.DataFrame
    filled: pd.DataFrame
    n_filled: int
    rejected: pd.DataFrame
    fuser: SourceFuser
    aggregator: NodeAggregator | None = None
    units: dict[str, str] = field(default_factory=dict)
