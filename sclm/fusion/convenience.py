"""The one-call form: :func:`~sclm.fusion.fuse` aligns, fuses and optionally aggregates cleaned readings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from sclm._dask import is_scalable
from sclm.fusion.aggregation import NodeAggregator
from sclm.fusion.fuser import SourceFuser
from sclm.fusion.report import FusionReport

__all__ = ["fuse"]


def fuse(
    readings: pd.DataFrame,
    method: str = "inverse_variance",
    *,
    groups: Mapping[str, Any] | pd.Series | str | None = None,
    rules: Mapping[str, str] | None = None,
    unmapped: str = "error",
    weights_by: str = "variable",
    noise: str = "relative",
    spread: str = "screened",
    min_overlap: int = 10,
    borrow: bool = True,
    reject: float | None = 6.0,
    fill: str | None = "linear",
    allow_nan: bool = False,
    imputed: pd.DataFrame | None = None,
    return_report: bool = False,
    client: Any = None,
    out: Any = None,
) -> pd.DataFrame | tuple[pd.DataFrame, FusionReport]:
    """Cleaned Readings → Panel: align the sources, fuse them, optionally aggregate nodes.

    Parameters
    ----------
    readings
        Cleaned Readings (R rows), native units (no ``case``), no duplicate
        ``(node, ts, variable, source)``.
    method
        ``"inverse_variance"`` (default), ``"mean"`` or ``"median"`` (see :class:`~sclm.fusion.SourceFuser`).
    groups
        ``None`` (default: one panel row set per node), a node → group mapping, ``"total"``, or
        ``"node_type"`` (the node types of the readings) — see :class:`~sclm.fusion.NodeAggregator`.
    rules, unmapped
        Aggregation rule per variable and the handling of nodes without a group
        (:class:`~sclm.fusion.NodeAggregator`); only with ``groups``.
    weights_by, noise, spread, min_overlap, borrow, reject, fill, allow_nan
        See :class:`~sclm.fusion.SourceFuser`.
    imputed
        Keys of readings invented upstream (filled gaps, replaced outliers), e.g.
        ``audit[audit["action"].eq("filled") | audit["rule"].str.startswith("outlier")]`` from
        cleaning (``ReadingsCleaner.imputed_`` holds them, taken from the audit's codes): used only
        where a cell has no observed reading (see :meth:`~sclm.fusion.SourceFuser.fit`).
    return_report
        Also return a :class:`~sclm.fusion.FusionReport` (weights, pairs, filled cells, the transformers).
    client, out
        Dask only: ``readings`` a Dask DataFrame or a Parquet folder runs on Dask and returns the
        same kind (a lazy panel with ``node``, ``ts`` columns, or the written folder
        ``<out>/panel``); see :meth:`~sclm.fusion.SourceFuser.transform`.  ``groups`` is not
        supported there (aggregate the computed panel).

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, FusionReport)
        Panel: MultiIndex (``node``, ``ts``), one float64 column per variable (sorted), daily,
        no gaps (filled cells reported), passes :func:`~sclm.schema.validate_panel`.

    Raises
    ------
    ValueError
        Unknown ``method`` (the message lists the methods) or other option.
    sclm.schema.DataValidationError
        Readings breaking the contract: empty, duplicate keys, unconverted ``case`` units,
        a node lacking a variable (unless ``allow_nan``).

    Examples
    --------
    >>> import sclm
    >>> from sclm.fusion import fuse
    >>> sc = sclm.make_scenario("manufacturing")
    >>> panel, report = fuse(cleaned_readings, return_report=True)  # doctest: +SKIP
    >>> report.weights[["variable", "source", "sigma_hat", "weight", "method"]]  # doctest: +SKIP
    """
    if rules is not None and groups is None:
        raise ValueError("rules apply to node aggregation; pass groups=... as well")
    fuser = SourceFuser(
        method,
        weights_by=weights_by,
        noise=noise,
        spread=spread,
        min_overlap=min_overlap,
        borrow=borrow,
        reject=reject,
        fill=fill,
        allow_nan=allow_nan,
    )
    if is_scalable(readings):
        if groups is not None:
            raise ValueError("groups= is not supported on a Dask frame; aggregate the computed panel instead")
        panel = fuser.fit_transform(readings, imputed=imputed, client=client, out=out)
    else:
        panel = fuser.fit_transform(readings, imputed=imputed)
    aggregator = None
    if groups is not None:
        if isinstance(groups, str) and groups == "node_type":
            groups = pd.Series(fuser.node_types_, dtype=object)
        aggregator = NodeAggregator(groups, rules=rules, unmapped=unmapped)
        panel = aggregator.fit_transform(panel)
    if not return_report:
        return panel
    return panel, FusionReport(
        weights=fuser.weights_,
        pairs=fuser.pairs_,
        filled=fuser.filled_,
        n_filled=fuser.n_filled_,
        rejected=fuser.rejected_,
        fuser=fuser,
        aggregator=aggregator,
        units=fuser.units_,
    )
