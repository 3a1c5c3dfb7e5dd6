"""Panels as they were known at each forecast origin: cleaning and fusion without look-ahead.

Cleaning and fusion look at neighbours (the centred outlier median, gap interpolation, fusion's
fill) and fit parameters (the noise rate p̂, each source's σ̂); run on the whole period they use
the test days, and every score of a forecast made from that panel is optimistic.
:class:`CausalPanels` makes the forecasting path causal:

* the cleaner (:class:`sclm.cleaning.ReadingsCleaner`: unit table, p̂) and the fuser
  (:class:`sclm.fusion.SourceFuser`: σ̂ weights) are **fitted** on the raw readings up to
  ``train_end`` only;
* :meth:`CausalPanels.panel_at` ``(origin)`` **transforms** the raw readings with
  ``ts <= origin`` — the rules that look at neighbours see no later day — and fuses them: the
  panel as known at the origin (cached per origin).  All readings up to the origin are used,
  not a trailing window: the outlier scale (MAD) and the weekday profile are taken over the
  whole series, so a window would change the values.

A panel at an origin depends only on the readings up to it (``tests/test_causal.py`` checks that
changing any later reading changes no training input and no forecast).  The one exception, by
design, are the *known-future* columns (planned price and promotion): a forecast over the H days
after the origin needs their plans, which :meth:`~CausalPanels.panel_at` ``(origin, horizon=H,
known_future=...)`` takes from ``plans`` (default: the whole-period panel, :attr:`CausalPanels.full`).

Pass the object where a panel goes: ``sclm.pipeline.scenario_task(scenario, panels)``; then
:func:`sclm.pipeline.train_forecaster`, :meth:`sclm.pipeline.TrainedForecaster.forecast`,
:func:`sclm.pipeline.backtest` and :func:`sclm.decisions.inventory.rolling_forecasts` read
``panel_at(origin)`` for every input, and the whole-period panel only for the actual values of
real data (scoring) and the plans::

    panels = CausalPanels(scenario.readings, units=scenario.units, train_end=first_origin)
    task = scenario_task(scenario, panels, horizon=14, input_size=56)
    scores, forecasts = backtest(task, n_origins=3, truth=scenario.truth)

Cost: one ``transform`` of the cleaner and of the fuser per origin (about 0.25 s for the 58,000
readings of the 760-day retail scenario on one CPU core).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CausalPanels"]


class CausalPanels:
    """Fused panels of raw readings as known at each origin (cleaner and fuser fitted up to ``train_end``).

    Parameters
    ----------
    readings : pandas.DataFrame
        Raw Readings (R rows; columns ``ts, node, node_type, variable, value, unit, source``), as
        the sources delivered them.  Not modified.
    train_end : date
        Last day the cleaner and the fuser are fitted on (the training end of the forecaster);
        :meth:`panel_at` refuses earlier origins.
    units : pandas.DataFrame or mapping, optional
        Unit declarations for :class:`sclm.cleaning.ReadingsCleaner` (e.g. ``scenario.units``).
    cleaner_options : mapping, optional
        Further :class:`~sclm.cleaning.ReadingsCleaner` parameters (``max_gap``, ``p`` ...).
    fusion_method : {"inverse_variance", "mean", "median"}
        :class:`sclm.fusion.SourceFuser` method.
    fusion_options : mapping, optional
        Further :class:`~sclm.fusion.SourceFuser` parameters.
    plans : pandas.DataFrame, optional
        Panel (index ``node, ts``) holding the known-future columns on every day that a forecast
        may need (up to the last origin + H); default :attr:`full`.
    full : pandas.DataFrame, optional
        The whole-period panel, if already computed with the same options (saves one cleaning
        and fusion); default computed on first use.

    Attributes
    ----------
    cleaner_ : sclm.cleaning.ReadingsCleaner
        Fitted on the readings up to ``train_end``; ``audit_`` is the one of the last transform.
    fuser_ : sclm.fusion.SourceFuser
        Fitted on those readings cleaned (imputed values left out of σ̂).
    train_end : pandas.Timestamp
    last_day : pandas.Timestamp
        Last day of any reading.
    """

    def __init__(
        self,
        readings: pd.DataFrame,
        *,
        train_end: object,
        units: pd.DataFrame | Mapping[tuple[str, str], float] | None = None,
        cleaner_options: Mapping[str, Any] | None = None,
        fusion_method: str = "inverse_variance",
        fusion_options: Mapping[str, Any] | None = None,
        plans: pd.DataFrame | None = None,
        full: pd.DataFrame | None = None,
    ) -> None:
        from sclm.cleaning import ReadingsCleaner
        from sclm.fusion import SourceFuser

        if not isinstance(readings, pd.DataFrame) or "ts" not in readings.columns:
            raise TypeError("readings must be a Readings DataFrame with a 'ts' column")
        self.readings = readings
        self._ts = pd.to_datetime(readings["ts"]).to_numpy()
        self.train_end = pd.Timestamp(train_end)
        self.last_day = pd.Timestamp(self._ts.max())
        first = pd.Timestamp(self._ts.min())
        if not first <= self.train_end <= self.last_day:
            raise ValueError(
                f"train_end {self.train_end:%Y-%m-%d} lies outside the readings "
                f"({first:%Y-%m-%d} to {self.last_day:%Y-%m-%d})"
            )
        self.units = units
        self.cleaner_options = dict(cleaner_options or {})
        self.fusion_method = fusion_method
        self.fusion_options = dict(fusion_options or {})
        self._plans = plans
        self._full = full
        self._cache: dict[pd.Timestamp, pd.DataFrame] = {}
        self.cleaner_ = ReadingsCleaner(units=units, **self.cleaner_options)
        train = self._until(self.train_end)
        cleaned = self.cleaner_.fit_transform(train)
        self.fuser_ = SourceFuser(fusion_method, **self.fusion_options)
        self.fuser_.fit(cleaned, imputed=self._imputed())
        self._cache[self.train_end] = self._fused(cleaned, self.train_end)

    def __repr__(self) -> str:
        return (
            f"CausalPanels({len(self.readings):,} readings to {self.last_day:%Y-%m-%d}, "
            f"fitted to {self.train_end:%Y-%m-%d}, {len(self._cache)} panel(s) cached)"
        )

    # -- helpers ---------------------------------------------------------------------------------
    def _until(self, day: pd.Timestamp) -> pd.DataFrame:
        return self.readings[self._ts <= day.to_datetime64()]

    def _imputed(self) -> pd.DataFrame:
        from sclm.scoring import imputed_keys

        return imputed_keys(self.cleaner_.audit_)

    def _fused(self, cleaned: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
        """Fuse and extend every node to the origin (its last value carried forward)."""
        panel = self.fuser_.transform(cleaned, imputed=self._imputed())
        return _extend(panel, origin)

    # -- public API ------------------------------------------------------------------------------
    @property
    def full(self) -> pd.DataFrame:
        """The whole-period panel: cleaner and fuser fitted and applied on every reading (not causal).

        For the actual values of real data (scoring only), plots and the default plans.
        """
        if self._full is None:
            from sclm.cleaning import ReadingsCleaner
            from sclm.fusion import SourceFuser
            from sclm.scoring import imputed_keys

            cleaner = ReadingsCleaner(units=self.units, **self.cleaner_options)
            cleaned = cleaner.fit_transform(self.readings)
            fuser = SourceFuser(self.fusion_method, **self.fusion_options)
            self._full = fuser.fit_transform(cleaned, imputed=imputed_keys(cleaner.audit_))
        return self._full

    @property
    def plans(self) -> pd.DataFrame:
        """The panel the known-future columns after an origin are read from."""
        return self.full if self._plans is None else self._plans

    def panel_at(self, origin: object, *, horizon: int = 0, known_future: Sequence[str] = ()) -> pd.DataFrame:
        """The fused panel as known at ``origin``: readings with ``ts <= origin`` only.

        Parameters
        ----------
        origin : date
            Last observed day; not before ``train_end``.
        horizon : int
            ``H >= 0``: append the H days after the origin to every node, with the
            ``known_future`` columns from :attr:`plans` and every other column holding the
            node's value on the origin (placeholders so that windows can be cut; a forecast
            never reads them).
        known_future : sequence of str
            Columns whose planned values fill the appended days.

        Returns
        -------
        pandas.DataFrame
            Index (``node``, ``ts``), one float column per fused variable, daily without gaps,
            every node up to ``origin`` (+ H).  A cached frame: do not modify it.

        Raises
        ------
        ValueError
            An origin before ``train_end`` (the fitted parameters saw later days) or after the
            last reading; plans that do not cover the appended days.
        """
        origin = pd.Timestamp(origin)
        if origin < self.train_end:
            raise ValueError(
                f"origin {origin:%Y-%m-%d} is before train_end {self.train_end:%Y-%m-%d}: the cleaner "
                "and the fuser were fitted on later days; build CausalPanels with an earlier train_end"
            )
        if origin > self.last_day:
            raise ValueError(f"origin {origin:%Y-%m-%d} is after the last reading ({self.last_day:%Y-%m-%d})")
        if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 0:
            raise ValueError(f"horizon must be an integer >= 0, got {horizon!r}")
        if origin not in self._cache:
            self._cache[origin] = self._fused(self.cleaner_.transform(self._until(origin)), origin)
        panel = self._cache[origin]
        if not horizon:
            return panel
        return _with_plans(panel, self.plans, origin, int(horizon), list(known_future))


def _extend(panel: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    """Every node daily up to ``origin``: days after its last row carry that row forward."""
    last = panel.index.get_level_values("ts").to_series().groupby(panel.index.get_level_values("node")).max()
    short = last[last < origin]
    if short.empty:
        return panel
    parts = []
    for node, end in short.items():
        days = pd.date_range(end + pd.Timedelta(days=1), origin, freq="D", name="ts")
        row = panel.loc[(node, end)]
        parts.append(
            pd.DataFrame(
                np.repeat(row.to_numpy()[None, :], len(days), axis=0),
                index=pd.MultiIndex.from_product([[node], days], names=["node", "ts"]),
                columns=panel.columns,
            )
        )
    return pd.concat([panel, *parts]).sort_index()


def _with_plans(
    panel: pd.DataFrame, plans: pd.DataFrame, origin: pd.Timestamp, horizon: int, known_future: list[str]
) -> pd.DataFrame:
    """``panel`` plus the ``horizon`` days after ``origin``: plans for ``known_future``, else the origin's value."""
    missing = [c for c in known_future if c not in plans.columns]
    if missing:
        raise ValueError(f"plans have no known-future column(s) {missing}; they have {list(plans.columns)}")
    nodes = panel.index.get_level_values("node").unique()
    days = pd.date_range(origin + pd.Timedelta(days=1), periods=horizon, freq="D", name="ts")
    idx = pd.MultiIndex.from_product([nodes, days], names=["node", "ts"])
    at_origin = panel.xs(origin, level="ts").reindex(nodes)
    future = pd.DataFrame(np.repeat(at_origin.to_numpy(), horizon, axis=0), index=idx, columns=panel.columns)
    if known_future:
        planned = plans[known_future].reindex(idx)
        if planned.isna().to_numpy().any():
            raise ValueError(
                f"plans do not cover the {horizon} day(s) after {origin:%Y-%m-%d} for {known_future}"
            )
        future[known_future] = planned.to_numpy("float64")
    return pd.concat([panel, future]).sort_index()
